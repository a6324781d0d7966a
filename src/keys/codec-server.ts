/**
 * The codec server for operators: Temporal's codec server protocol (`POST /encode`,
 * `POST /decode`, JSON `{ payloads: [{ metadata: { k: base64 }, data: base64 }] }`, the
 * namespace in `X-Namespace`), so the Temporal UI and CLI show live sessions decoded.
 *
 * - It runs on its own operator port (CODEC_PORT), never on the api's public one.
 * - Every request names one of the configured host names in its Host header (DNS rebinding is
 *   refused with 421), and carries an operator credential (src/operators), wherever it comes
 *   from, loopback included (401 `operator_credential_required` without one; a credential
 *   presented and refused is audited):
 *   - `Authorization: Bearer <token>` (the CLI's `--codec-auth`), or `Bearer <OIDC access token>`
 *     when SESSIONFLOW_OIDC_* is configured (src/operators/oidc.ts);
 *   - the `sessionflow_codec` cookie: a signed session set by `POST /auth` (./codec-sign-in.ts),
 *     which the UI then sends; checked by its HMAC alone, no scrypt;
 *   - a path under `/ui/<secret>/`: the UI's capability URL (CODEC_UI_CAPABILITY), for a UI that
 *     cannot send credentials (`temporal server start-dev`). It acts as its operator.
 * - `/decode` wants the `decode` permission (every role), `/encode` the `encode` one (admins:
 *   it encrypts whatever it is sent with the namespace key). 403 `operator_role_refused` otherwise.
 * - GET /openapi.json: the operator API's OpenAPI document (./codec-openapi.ts).
 * - X-Forwarded-* headers count only from configured proxies (CODEC_TRUSTED_PROXIES), never
 *   because the peer is on loopback.
 * - CORS answers the configured UI origin only (CODEC_UI_ORIGIN), with credentials.
 * - Every /decode and /encode is audited (src/audit) before it runs, naming the operator and
 *   the session references whose keys it uses: no record, no decode (503). GET /audit queries
 *   the trail (the `audit` permission: admins), and is itself audited.
 * - It reads keys straight from the store, never cached, so a shredded session shows
 *   SHREDDED_MARKER at once; the rest of the batch decodes. A store that cannot be read answers
 *   503 for the batch: it never guesses.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Payload } from '@temporalio/common';
import { AuditEntryError, AuditUnavailableError, type AuditEntry, type AuditTrail } from '../audit/trail';
import type { Operator, OperatorRegistry } from '../operators/registry';
import { may, type Permission } from '../operators/roles';
import { looksLikeJwt, type OidcVerifier } from '../operators/oidc';
import { openSession } from '../operators/sessions';
import { CODEC_COOKIE, OPERATOR_ERRORS, serveSignIn } from './codec-sign-in';
import { collectOperatorRoutes, serveOperatorOpenApi } from './codec-openapi';
import { serveAudit } from './codec-audit';
import { decryptPayload, encryptPayload, isEncrypted, payloadKeyId, SHREDDED_MARKER } from './codec';
import { KeyStoreUnavailableError } from './errors';
import { namespaceKeyId, type KeyStore } from './key-store';
import { SESSION_KEY_PREFIX } from './key-ids';

export { CODEC_COOKIE, OPERATOR_ERRORS } from './codec-sign-in';
/** The capability URL's prefix: `/ui/<secret>/decode`. */
export const UI_CAPABILITY_PREFIX = '/ui/';

export interface CodecServerOptions {
  keys: KeyStore;
  /** Where every decode, encode, refused credential and sign-in is recorded first (fail closed). */
  audit: AuditTrail;
  /** The Temporal UI's origin, the only one CORS allows. */
  uiOrigin: string;
  operators: OperatorRegistry;
  /** Signs the session cookie (SESSIONFLOW_OPERATOR_SESSION_KEY); absent: a key of this process's own, so sessions end with it. */
  sessionKey?: Buffer;
  /** Accepts OIDC access tokens as bearer credentials (SESSIONFLOW_OIDC_*); absent: none are. */
  oidc?: OidcVerifier;
  /** Host names (without port) the Host header may name. */
  allowedHosts: readonly string[];
  /** Proxies (IPs or CIDRs) whose X-Forwarded-For, -Host and -Proto count; none when absent. */
  trustedProxies?: readonly string[];
  /** The UI's capability: requests under `/ui/<secret>/` act as `operator`. */
  uiCapability?: { operator: string; secret: string };
  defaultNamespace: string;
  /** More operator routes on this port (src/operator-api), behind the same authentication and audit trail. */
  routes?: (app: FastifyInstance, context: OperatorRouteContext) => void;
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
    // Audit records name the request: unique across restarts and processes.
    genReqId: () => randomUUID(),
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

  const sessionKey = options.sessionKey ?? randomBytes(32);
  const authenticate = async (request: FastifyRequest): Promise<Authentication> => {
    const capability = presentedCapability.get(request.raw);
    if (capability !== undefined) return { presented: 'capability', operator: capabilityOperator && sameSecret(capability, options.uiCapability!.secret) ? capabilityOperator : null };
    const bearer = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer && options.oidc && looksLikeJwt(bearer)) return { presented: 'oidc', operator: await options.oidc.verify(bearer) };
    if (bearer) return { presented: 'bearer', operator: operators.byToken(bearer) };
    const signed = cookie(request, CODEC_COOKIE);
    if (!signed) return { presented: 'none', operator: null };
    return { presented: 'cookie', operator: sessionOperator(operators, sessionKey, signed) };
  };

  const routes = collectOperatorRoutes(app);
  guardRequests(app, options, authenticate);
  servePayloads(app, options);
  options.routes?.(app, { operatorOf: (request) => actingOperator.get(request) ?? null, audit: options.audit, entry: auditEntry });
  app.get('/healthz', async () => ({ status: 'ok' }));
  // A sign-in's record names the operator signing in, who is not yet acting on the request.
  const signInEntry = (request: FastifyRequest, action: AuditEntry['action'], operator?: Operator) => ({ ...auditEntry(request, action), ...(operator ? { actor: `operator:${operator.name}` } : {}) });
  serveSignIn(app, { operators, audit: options.audit, sessionKey, entry: signInEntry });
  serveAudit(app, options.audit, auditEntry);
  serveOperatorOpenApi(app, routes);
  return app;
}

/** A signed session's operator, as the registry has them now: one removed or moved to another role has no session. */
function sessionOperator(operators: OperatorRegistry, key: Buffer, value: string): Operator | null {
  const session = openSession(key, value);
  const current = session ? operators.byName(session.name) : null;
  return current && current.role === session!.role ? current : null;
}

/** What an operator route gets from the codec server: who a request acts as, and its audit records. */
export interface OperatorRouteContext {
  operatorOf(request: FastifyRequest): Operator | null;
  audit: AuditTrail;
  /** Who, from where, which request, for the sessions `refs` names: a record of this request. */
  entry(request: FastifyRequest, action: AuditEntry['action'], refs: string[]): AuditEntry;
}

/**
 * What an operator route's `config` may say: the permission it wants; `public`, no credential
 * (a sign-in page); `page`, a page for people (src/console), which answers a missing credential
 * and a refused role itself (a redirect to sign in, an HTML page) instead of JSON.
 */
export interface OperatorRouteConfig {
  permission?: Permission;
  public?: boolean;
  page?: {
    signIn(request: FastifyRequest, reply: FastifyReply): FastifyReply;
    refused(request: FastifyRequest, reply: FastifyReply, operator: Operator, permission: Permission): FastifyReply;
  };
}

interface Authentication {
  presented: 'none' | 'bearer' | 'cookie' | 'capability' | 'oidc';
  operator: Operator | null;
}

/** The operator each authenticated request acts as, for the audit records its route writes. */
const actingOperator = new WeakMap<FastifyRequest, Operator>();

/** Who, from where, which request: what every record of a request carries. */
function auditEntry(request: FastifyRequest, action: AuditEntry['action'], refs: string[] = []): AuditEntry {
  const operator = actingOperator.get(request);
  return { actor: operator ? `operator:${operator.name}` : 'anonymous:', action, refs, address: request.ip, requestId: request.id };
}

/** Every request but /healthz: the Host header, CORS for the UI, then an operator allowed the route's permission (/auth aside). */
function guardRequests(app: FastifyInstance, options: CodecServerOptions, authenticate: (request: FastifyRequest) => Promise<Authentication>): void {
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
    const config = request.routeOptions.config as OperatorRouteConfig;
    // Signing in needs no credential yet; the API's description is public, as the api's is.
    if (request.url === '/auth' || request.url === '/openapi.json' || config.public) return;
    const { presented, operator } = await authenticate(request);
    if (!operator) {
      // A credential that was presented and refused is recorded (an attempt); none at all is not.
      if (presented !== 'none') {
        await options.audit.record({ ...auditEntry(request, 'operator.auth_failed'), outcome: 'refused', detail: { credential: presented } }).catch(() => request.log.warn('a refused operator credential could not be audited'));
      }
      if (config.page) return config.page.signIn(request, reply);
      return reply.code(401).send({ code: OPERATOR_ERRORS.credentialRequired, message: 'an operator credential is required' });
    }
    actingOperator.set(request, operator);
    const { permission } = config;
    if (permission && !may(operator.role, permission)) {
      if (config.page) return config.page.refused(request, reply, operator, permission);
      return reply.code(403).send({ code: OPERATOR_ERRORS.roleRefused, message: `operator "${operator.name}" (${operator.role}) may not ${permission}` });
    }
  });
}

/** /encode and /decode: Temporal's codec protocol, with the keys of the store. */
function servePayloads(app: FastifyInstance, { keys, audit, defaultNamespace }: Pick<CodecServerOptions, 'keys' | 'audit' | 'defaultNamespace'>): void {
  app.setErrorHandler((error, request, reply) => {
    request.log.warn({ err: { name: (error as Error).name } }, 'codec request refused');
    if (error instanceof KeyStoreUnavailableError) return reply.code(503).send({ message: 'the key store is unavailable' });
    if (error instanceof AuditUnavailableError) return reply.code(503).send({ message: 'the audit trail is unavailable: nothing was decoded' });
    if (error instanceof AuditEntryError) return reply.code(400).send({ message: error.message });
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

  app.post<{ Body: { payloads?: JsonPayload[] } }>('/encode', { schema: { summary: "Encrypt payloads with the namespace key (Temporal's codec protocol)", body: payloadsSchema }, config: { permission: 'encode' } }, async (request) => {
    // Operators' encodes (e.g. a signal sent from the UI) have no workflow context: namespace key.
    const keyId = namespaceKeyId(namespaceOf(request));
    return audit.audited(auditEntry(request, 'codec.encode'), async () => {
      // Made by the init step only: an encode never creates a key.
      const key = await keys.get(keyId);
      if (!key) throw new KeyStoreUnavailableError('its namespace key is missing');
      return { payloads: (request.body.payloads ?? []).map((payload) => toJson(encryptPayload(fromJson(payload), keyId, key))) };
    });
  });

  app.post<{ Body: { payloads?: JsonPayload[] } }>('/decode', { schema: { summary: "Decrypt payloads with their sessions' keys (Temporal's codec protocol); audited", body: payloadsSchema }, config: { permission: 'decode' } }, async (request) => {
    const payloads = request.body.payloads ?? [];
    // The sessions whose keys this decode uses, by their keyed reference: recorded before any key is read.
    const refs = payloads.map((json) => payloadKeyId(fromJson(json)) ?? '').filter((keyId) => keyId.startsWith(SESSION_KEY_PREFIX)).map((keyId) => keyId.slice(SESSION_KEY_PREFIX.length)).filter((ref) => /^[0-9a-f]{32}$/.test(ref));
    return audit.audited(auditEntry(request, 'codec.decode', refs), () => decodeAll(keys, payloads), { detail: () => ({ payloads: payloads.length }) });
  });
}

async function decodeAll(keys: KeyStore, payloads: JsonPayload[]): Promise<{ payloads: JsonPayload[] }> {
    const decoded = await Promise.all(
      payloads.map(async (json) => {
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
}
