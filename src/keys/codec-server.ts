/**
 * The codec server for operators: Temporal's codec server protocol (`POST /encode`,
 * `POST /decode`, JSON `{ payloads: [{ metadata: { k: base64 }, data: base64 }] }`, the
 * namespace in `X-Namespace`), so the Temporal UI and CLI show live sessions decoded.
 *
 * - It runs on its own operator port (CODEC_PORT), never on the api's public one.
 * - Every request names one of the configured host names in its Host header (DNS rebinding is
 *   refused with 421), and carries an operator credential (src/operators), wherever it comes
 *   from, loopback included (401 without one):
 *   - `Authorization: Bearer <token>` (the CLI's `--codec-auth`);
 *   - the `sessionflow_codec` cookie, set by `POST /auth`, which the UI then sends cross-origin;
 *   - a path under `/ui/<secret>/`: the UI's capability URL (CODEC_UI_CAPABILITY), for a UI that
 *     cannot send credentials (`temporal server start-dev`). It acts as its operator.
 * - `/decode` wants the `decode` permission (every role), `/encode` the `encode` one (admins:
 *   it encrypts whatever it is sent with the namespace key). 403 otherwise.
 * - X-Forwarded-* headers count only from configured proxies (CODEC_TRUSTED_PROXIES), never
 *   because the peer is on loopback.
 * - CORS answers the configured UI origin only (CODEC_UI_ORIGIN), with credentials.
 * - It reads keys straight from the store, never cached, so a shredded session shows
 *   SHREDDED_MARKER at once; the rest of the batch decodes. A store that cannot be read answers
 *   503 for the batch: it never guesses.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Payload } from '@temporalio/common';
import type { Operator, OperatorRegistry } from '../operators/registry';
import { may, type Permission } from '../operators/roles';
import { decryptPayload, encryptPayload, isEncrypted, payloadKeyId, SHREDDED_MARKER } from './codec';
import { KeyStoreUnavailableError } from './errors';
import { namespaceKeyId, type KeyStore } from './key-store';

export const CODEC_COOKIE = 'sessionflow_codec';
/** The capability URL's prefix: `/ui/<secret>/decode`. */
export const UI_CAPABILITY_PREFIX = '/ui/';

export interface CodecServerOptions {
  keys: KeyStore;
  /** The Temporal UI's origin, the only one CORS allows. */
  uiOrigin: string;
  operators: OperatorRegistry;
  /** Host names (without port) the Host header may name. */
  allowedHosts: readonly string[];
  /** Proxies (IPs or CIDRs) whose X-Forwarded-For, -Host and -Proto count; none when absent. */
  trustedProxies?: readonly string[];
  /** The UI's capability: requests under `/ui/<secret>/` act as `operator`. */
  uiCapability?: { operator: string; secret: string };
  defaultNamespace: string;
  /** More operator routes on this port (src/operator-api), behind the same authentication: `operatorOf` names a request's operator. */
  routes?: (app: FastifyInstance, operatorOf: (request: FastifyRequest) => Operator | null) => void;
  /** Fastify's logger: off when absent; `stream` lets a test read what it writes. */
  logger?: false | { level: string; stream?: { write(line: string): void } };
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

const shredded = (): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(SHREDDED_MARKER)) });

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined; // malformed: no credential
    }
  }
  return undefined;
}

// `payloads` may be absent: clients send Payloads as protobuf JSON, which leaves out an empty
// list, so an update without arguments (archive) arrives as `{}`. Refusing it made the CLI
// retry the history page until its deadline.
const payloadsSchema = {
  type: 'object',
  properties: {
    payloads: {
      type: 'array',
      maxItems: 10_000,
      items: {
        type: 'object',
        properties: { metadata: { type: 'object', additionalProperties: { type: 'string' } }, data: { type: 'string' } },
      },
    },
  },
} as const;

/** The Host header's name, port and IPv6 brackets aside. */
function hostName(request: FastifyRequest): string {
  return request.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

export function buildCodecServer(options: CodecServerOptions): FastifyInstance {
  const { operators } = options;
  const capabilityOperator = options.uiCapability ? operators.byName(options.uiCapability.operator) : null;
  if (options.uiCapability && !capabilityOperator) throw new Error(`the UI capability names operator "${options.uiCapability.operator}", who is not configured`);
  // The secret taken off a request's path before routing, so the routes, and every log line, see only `/decode`.
  const presentedCapability = new WeakMap<IncomingMessage, string>();

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024 * 1024,
    trustProxy: options.trustedProxies?.length ? [...options.trustedProxies] : false,
    rewriteUrl: (raw) => {
      const url = raw.url ?? '/';
      if (!url.startsWith(UI_CAPABILITY_PREFIX)) return url;
      const rest = url.slice(UI_CAPABILITY_PREFIX.length);
      const end = rest.search(/[/?]/);
      presentedCapability.set(raw, end === -1 ? rest : rest.slice(0, end));
      const path = end === -1 ? '/' : rest.slice(end);
      (raw as IncomingMessage & { originalUrl?: string }).originalUrl = path;
      return path.startsWith('/') ? path : `/${path}`;
    },
  });

  const authenticate = (request: FastifyRequest): Operator | null => {
    const capability = presentedCapability.get(request.raw);
    if (capability !== undefined) return capabilityOperator && sameSecret(capability, options.uiCapability!.secret) ? capabilityOperator : null;
    const bearer = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const token = bearer ?? cookie(request, CODEC_COOKIE);
    return token ? operators.byToken(token) : null;
  };

  const authenticated = new WeakMap<IncomingMessage, Operator>();
  guardRequests(app, options, (request) => {
    const operator = authenticate(request);
    if (operator) authenticated.set(request.raw, operator);
    return operator;
  });
  servePayloads(app, options);
  options.routes?.(app, (request) => authenticated.get(request.raw) ?? null);
  app.get('/healthz', async () => ({ status: 'ok' }));
  serveSignIn(app, operators);
  return app;
}

/** Every request but /healthz: the Host header, CORS for the UI, then an operator allowed the route's permission (/auth aside). */
function guardRequests(app: FastifyInstance, options: CodecServerOptions, authenticate: (request: FastifyRequest) => Operator | null): void {
  const allowedHosts = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  const cors = (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.origin === options.uiOrigin) {
      reply.header('access-control-allow-origin', options.uiOrigin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('vary', 'origin');
    }
  };

  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/healthz') return;
    if (!allowedHosts.has(hostName(request))) return reply.code(421).send({ message: 'this codec server does not answer for that host name' });
    cors(request, reply);
    if (request.method === 'OPTIONS') {
      if (request.headers.origin === options.uiOrigin) {
        reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
        reply.header('access-control-allow-headers', 'content-type, x-namespace, authorization');
        reply.header('access-control-max-age', '600');
      }
      return reply.code(204).send();
    }
    if (request.url === '/auth') return;
    const operator = authenticate(request);
    if (!operator) return reply.code(401).send({ code: 'operator_unauthenticated', message: 'an operator credential is required' });
    const permission = (request.routeOptions.config as { permission?: Permission }).permission;
    if (permission && !may(operator.role, permission)) return reply.code(403).send({ code: 'operator_forbidden', message: `operator "${operator.name}" (${operator.role}) may not ${permission}` });
  });
}

/** /encode and /decode: Temporal's codec protocol, with the keys of the store. */
function servePayloads(app: FastifyInstance, { keys, defaultNamespace }: Pick<CodecServerOptions, 'keys' | 'defaultNamespace'>): void {
  app.setErrorHandler((error, request, reply) => {
    request.log.warn({ err: error }, 'codec request refused');
    if (error instanceof KeyStoreUnavailableError) return reply.code(503).send({ message: 'the key store is unavailable' });
    if ((error as { validation?: unknown }).validation && request.url.startsWith('/reviews/')) {
      return reply.code(400).send({ code: 'review_invalid', message: 'the body must be { decisionId, decision, reason? }' });
    }
    if ((error as { validation?: unknown }).validation) return reply.code(400).send({ message: 'the body must be { payloads: [...] }' });
    return reply.code(400).send({ message: 'the payloads could not be processed' });
  });

  const namespaceOf = (request: FastifyRequest) => {
    const header = request.headers['x-namespace'];
    return typeof header === 'string' && header !== '' ? header : defaultNamespace;
  };

  app.post<{ Body: { payloads?: JsonPayload[] } }>('/encode', { schema: { body: payloadsSchema }, config: { permission: 'encode' } }, async (request) => {
    // Operators' encodes (e.g. a signal sent from the UI) have no workflow context: namespace key.
    const keyId = namespaceKeyId(namespaceOf(request));
    // Made by the init step only: an encode never creates a key.
    const key = await keys.get(keyId);
    if (!key) throw new KeyStoreUnavailableError('its namespace key is missing');
    return { payloads: (request.body.payloads ?? []).map((payload) => toJson(encryptPayload(fromJson(payload), keyId, key))) };
  });

  app.post<{ Body: { payloads?: JsonPayload[] } }>('/decode', { schema: { body: payloadsSchema }, config: { permission: 'decode' } }, async (request) => {
    const decoded = await Promise.all(
      (request.body.payloads ?? []).map(async (json) => {
        const payload = fromJson(json);
        if (!isEncrypted(payload)) return json;
        const keyId = payloadKeyId(payload);
        const key = keyId ? await keys.get(keyId) : null;
        if (!keyId || !key) return toJson(shredded());
        try {
          return toJson(decryptPayload(payload, keyId, key));
        } catch {
          return toJson(shredded());
        }
      }),
    );
    return { payloads: decoded };
  });
}

/** /auth: the sign-in form, and the cookie credential it sets. */
function serveSignIn(app: FastifyInstance, operators: OperatorRegistry): void {
  // The browser side of the cookie credential: an operator posts their token once; the cookie is
  // HttpOnly, Secure and SameSite=None so the UI's cross-origin fetches (credentials included) carry it.
  app.get('/auth', async (_request, reply) =>
    reply
      .type('text/html')
      .send('<!doctype html><title>sessionflow codec</title><form method="post" action="/auth"><label>Operator token <input name="token" type="password" autocomplete="off"></label> <button>Sign in</button></form>'),
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  app.post<{ Body: { token?: string } }>('/auth', async (request, reply) => {
    const token = request.body?.token ?? '';
    if (!operators.byToken(token)) return reply.code(401).send({ message: 'wrong operator token' });
    reply.header('set-cookie', `${CODEC_COOKIE}=${encodeURIComponent(token)}; HttpOnly; Secure; SameSite=None; Path=/; Max-Age=43200`);
    return reply.type('text/plain').send('signed in: the Temporal UI can now decode payloads through this codec server\n');
  });
}
