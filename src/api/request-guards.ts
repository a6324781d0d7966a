/**
 * What every request meets before a route sees it, so that hostile input gets the documented
 * error shape (with x-request-id) instead of Fastify's or Node's own pages:
 * - undeclared methods on known paths: 405 with `Allow`;
 * - bodies other than JSON (Fastify parses text/plain by default): 415;
 * - bodies that are not UTF-8 (decoded strictly: a lenient decoder would turn bad bytes into
 *   U+FFFD before any check sees them): 400;
 * - JSON nested deeper than MAX_JSON_DEPTH, or with a lone UTF-16 surrogate in a string or key
 *   (which no UTF-8 encoding can carry, so hashes and signatures over it would differ between
 *   languages), or a control character (NUL and the like, which no text a person types holds
 *   and which cut strings short in C code, logs and databases): 400;
 * - path parameters of any length reach their route (and its authentication) instead of
 *   Fastify's 414 page, and malformed URLs get a 400 that does not echo the path.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyError, FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceErrorCode } from './errors';

/** Deeper than any stage input needs; far below what recursive JSON code (hashing, canonical form) survives. */
export const MAX_JSON_DEPTH = 32;

/** The largest request head (request line and headers) Node accepts; a larger one is 431. */
export const MAX_HEADER_BYTES = 64 * 1024;

/**
 * No path parameter can be longer than the request head, so Fastify's own 414 (which comes
 * before authentication and echoes the path) cannot happen.
 */
const MAX_PARAM_LENGTH = MAX_HEADER_BYTES;

/**
 * Node's refusals before any request exists (a head over MAX_HEADER_BYTES, an unparseable
 * request): the backend error shape, an x-request-id, and nothing echoed.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const [status, reason, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', `the request line and headers may have at most ${MAX_HEADER_BYTES} bytes`]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request took too long to arrive']
        : [400, 'Bad Request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ code: 4001, message: 'Malformed data or missing required parameter values', details: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${randomUUID()}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** An error the app's error handler writes in the route family's shape. */
export class RequestGuardError extends Error {
  override readonly name = 'RequestGuardError';
  constructor(
    readonly status: number,
    /** The device API's `code`; the backend answers 4001 with this status. */
    readonly deviceCode: DeviceErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Throws on bytes that are not UTF-8 (a leading BOM is dropped, as Fastify's parser drops it). */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** With the u flag, pairs are one code point, so only an unpaired surrogate matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether a string is Unicode text (no lone UTF-16 surrogate), i.e. has one UTF-8 encoding. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * The control characters refused in strings: C0 but tab, line feed and carriage return (which
 * free text may hold), DEL and C1. The schemas' PLAIN_TEXT_PATTERN says the same for /openapi.json.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

function stringProblem(text: string, what: 'string' | 'key'): string | null {
  if (!isWellFormed(text)) return `a ${what} holds a lone UTF-16 surrogate, which is not Unicode text`;
  if (CONTROL_CHARACTER.test(text)) return `a ${what} holds a control character (such as NUL), which is not text`;
  return null;
}

/** Why a JSON value may not be accepted, or null. Iterative, so no input can overflow the stack. */
export function jsonValueProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = stringProblem(current, 'string');
      if (problem) return problem;
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= maxDepth) return `JSON may nest at most ${maxDepth} levels`;
    if (Array.isArray(current)) {
      for (const item of current) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(current)) {
      const problem = stringProblem(key, 'key');
      if (problem) return problem;
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  return null;
}

/** Fastify options for the guards; `frameworkErrors` receives the router's own refusals. */
export function guardedServerOptions(sendError: (request: FastifyRequest, reply: FastifyReply, error: Error) => unknown): Partial<FastifyHttpOptions<Server>> {
  return {
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    clientErrorHandler: answerClientError,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (error: FastifyError, request, reply) => {
      // FST_ERR_BAD_URL (bad percent-encoding) and the like: never echo the path. No route, so
      // no onSend hook runs: the headers every answer has are set here.
      reply.header('x-request-id', request.id).header('cache-control', 'no-store');
      sendError(request, reply, new RequestGuardError(400, 'invalid_request', 'the request URL is malformed'));
    },
  };
}

/**
 * The path a request is routed by: the matched route's template (`/v1/handshakes/:id/launch`),
 * or for an unknown path the path as the router reads it, percent-decoded. Anything that picks
 * an error shape, a method list or a limit by path uses this, never the raw URL: `/v1/%63lient`
 * is routed as `/v1/client` and must be treated as it.
 */
export function routingPath(request: FastifyRequest): string {
  const route = request.is404 ? undefined : request.routeOptions.url;
  if (route !== undefined) return route;
  const path = request.url.split('?')[0];
  try {
    return decodeURI(path);
  } catch {
    return path; // malformed percent-encoding: refused elsewhere as a malformed URL
  }
}

function templateRegExp(url: string): RegExp {
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]*');
  return new RegExp(`^${escaped}/?$`);
}

/**
 * Installs the guards on the root app, before any route is added: every route registered later
 * (in any plugin) is seen, so the methods each path allows are known.
 */
export function installRequestGuards(app: FastifyInstance): void {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    routes.push({ pattern: templateRegExp(route.url), methods: (Array.isArray(route.method) ? route.method : [route.method]).map(String) });
  });

  // Only JSON bodies: without this, Fastify would parse text/plain and the schema answer 400.
  app.removeContentTypeParser('text/plain');
  // JSON is UTF-8 (RFC 8259). Fastify's own parser decodes leniently (bad bytes become U+FFFD);
  // this one refuses them, then parses as Fastify's does (prototype poisoning refused).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = STRICT_UTF8.decode(body as Buffer);
    } catch {
      done(new RequestGuardError(400, 'invalid_request', 'the request body is not valid UTF-8'), undefined);
      return;
    }
    void parseJson(request, text, done); // callback style: it answers through done
  });

  app.addHook('onRequest', async (request) => {
    if (!request.is404) return;
    const path = routingPath(request);
    const allowed = new Set(routes.filter((route) => route.pattern.test(path)).flatMap((route) => route.methods));
    if (allowed.size === 0) return; // an unknown path: the not-found handler answers
    const allow = [...allowed].sort().join(', ');
    throw new RequestGuardError(405, 'method_not_allowed', `${request.method} is not allowed here; allowed: ${allow}`, { allow });
  });

  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) return;
    const problem = jsonValueProblem(request.body);
    if (problem) throw new RequestGuardError(400, 'invalid_data', problem);
  });
}
