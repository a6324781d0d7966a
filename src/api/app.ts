/**
 * The api as a Fastify app, built from its dependencies so tests can start it on any port
 * against any Temporal. The process entry (main.ts) adds config, listening and shutdown.
 * Backend routes live under /api/v1/public/flowx, device routes under /v1.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { Registry } from 'prom-client';
import type { Config } from '../config';
import { GRPC_STATUS } from '../temporal';
import type { FlowCatalog } from '../flows/catalog';
import { AttestrConnector } from '../providers/attestr';
import { ClientDirectory, type TenantClient } from '../tenants/registry';
import type { ApiContext } from './context';
import { BACKEND_CODES, BackendError, DeviceError } from './errors';
import { KeyStoreUnavailableError, type KeyStore } from '../keys/key-store';
import { ApiMetrics } from './metrics';
import { buildOpenApi, collectRoutes } from './openapi';
import { DEFAULT_LIMITS, RateLimiter } from './rate-limit';
import { backendRoutes } from './routes/backend';
import { deviceRoutes } from './routes/device';
import { deviceWaitRoutes } from './routes/device-wait';
import { deviceClientRoutes } from './routes/device-client';
import { DeviceTokens } from './device-tokens';
import { webhookRoutes } from './routes/webhooks';
import { eventRoutes } from './routes/events';
import { hostedRoutes } from './routes/hosted';
import { handoffRoutes, reissueRoutes } from './routes/handoff';
import { HOSTED_PREFIX } from './hosted/urls';
import { SessionGateway } from './session-gateway';
import { AddressLimits, installAddressLimits } from './address-limits';
import { guardedServerOptions, installRequestGuards, RequestGuardError, routingPath } from './request-guards';
import { checkKeyStore, checkReadiness, type Readiness } from '../readiness';
import type { SessionSecret } from '../session-secret';
import { AuditUnavailableError, configuredAuditTrail, type AuditTrail } from '../audit/trail';
import { installRequestSpans, routeOf } from './request-spans';

export interface ApiDeps {
  config: Config;
  temporal: Client;
  /** The data keys; the api creates a session's key before starting it. */
  keys?: KeyStore;
  clients: TenantClient[];
  catalog: FlowCatalog;
  /** Signs device client credentials; every api replica needs the same one. */
  deviceTokenSecret: string;
  /** Derives nonces and seals session ids (SESSION_SECRET): the same on every api replica and worker. */
  sessionSecret: SessionSecret;
  logger?: false | { level: string };
  /** Where the api's metrics are registered, for the process to serve (see metrics.ts); a private one when absent. */
  metricsRegistry?: Registry;
  /** Per-client limits; counted in this process's memory when absent (one api process). */
  limiter?: RateLimiter;
  /** The audit trail; the configured one (config.audit) when absent, closed with the app. */
  audit?: AuditTrail;
}

export const BACKEND_PREFIX = '/api/v1/public/flowx';
export const DEVICE_PREFIX = '/v1';

/** How long /readyz waits for Temporal (and the key store) before calling it unreachable. */
const READINESS_TIMEOUT_MS = 2_000;

/** Fastify's own errors (validation, body parsing) as a status and a message safe to show. */
function requestProblem(error: FastifyError): { status: number; message: string } | null {
  if (error.validation) {
    const problems = error.validation.map((issue) => {
      const where = `${error.validationContext ?? 'body'}${issue.instancePath}`;
      const extra = (issue.params as { additionalProperty?: string }).additionalProperty;
      return extra ? `${where} has an unknown field "${extra}"` : `${where} ${issue.message ?? 'is invalid'}`;
    });
    return { status: 400, message: problems.join('; ') };
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, message: 'the request body is too large' };
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, message: 'the request body must be application/json' };
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: 400, message: 'the request body is not valid JSON' };
  }
  return null;
}

/**
 * Device routes answer Finqware's error shape, and so does the hosted page (the device's own,
 * when it is refused: a 429); everything else, backend events included, Attestr's.
 */
function isDeviceRoute(request: FastifyRequest): boolean {
  const path = routingPath(request);
  return (path.startsWith(`${DEVICE_PREFIX}/`) && !path.startsWith(`${DEVICE_PREFIX}/events`)) || path === `${HOSTED_PREFIX}/:id`;
}

/** Whether `matches` holds for this error or one under it (Temporal's client wraps gRPC and codec errors). */
function causedBy(error: unknown, matches: (cause: Error) => boolean): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    if (matches(cause)) return true;
  }
  return false;
}

const keyStoreUnavailable = (error: unknown) => causedBy(error, (cause) => cause instanceof KeyStoreUnavailableError);

/**
 * Temporal cannot take the request now but will shortly, and repeating it is safe: the server is
 * restarting (UNAVAILABLE); no worker answered in time (DEADLINE_EXCEEDED: all of them are
 * restarting, say); or the session's workflow task is being retried after a worker died holding
 * it, and until a retry succeeds Temporal refuses updates and queries to it (FAILED_PRECONDITION
 * "Workflow Task in failed state"). A step that timed out may still be applied: its repeat, with
 * the same nonce, answers the same.
 */
const temporalRecovering = (error: unknown) =>
  causedBy(
    error,
    (cause) =>
      isGrpcServiceError(cause) &&
      (cause.code === GRPC_STATUS.UNAVAILABLE ||
        cause.code === GRPC_STATUS.DEADLINE_EXCEEDED ||
        (cause.code === GRPC_STATUS.FAILED_PRECONDITION && /workflow task in failed state/i.test(cause.details))),
  );

/** Seconds a 503 asks the caller to wait before trying again. */
const RETRY_AFTER_SECONDS = 1;

function sendError(request: FastifyRequest, reply: FastifyReply, error: FastifyError | BackendError | DeviceError | RequestGuardError) {
  const device = isDeviceRoute(request);
  let failure: BackendError | DeviceError;
  if (error instanceof BackendError || error instanceof DeviceError) {
    failure = error;
  } else if (error instanceof RequestGuardError) {
    reply.headers(error.headers);
    failure = device
      ? new DeviceError(error.status, 'invalid_request', error.deviceCode, error.message)
      : new BackendError(4001, error.message, { status: error.status });
  } else {
    const problem = requestProblem(error);
    if (problem) {
      failure = device
        ? new DeviceError(problem.status, 'invalid_request', 'invalid_request', problem.message)
        : new BackendError(4001, problem.message, { status: problem.status });
    } else if (keyStoreUnavailable(error)) {
      // Fail closed: without its key nothing about a session is read or written.
      request.log.warn({ err: { name: 'KeyStoreUnavailableError' } }, 'key store unavailable');
      failure = device
        ? new DeviceError(503, 'api_error', 'key_store_unavailable', BACKEND_CODES[5031].message, RETRY_AFTER_SECONDS)
        : new BackendError(5031, undefined, { retryAfterSeconds: RETRY_AFTER_SECONDS });
    } else if (causedBy(error, (cause) => cause instanceof AuditUnavailableError)) {
      // Fail closed: a result read or archive that cannot be recorded does not happen.
      request.log.warn({ err: { name: 'AuditUnavailableError' } }, 'audit trail unavailable');
      failure = device
        ? new DeviceError(503, 'api_error', 'internal_error', BACKEND_CODES[5033].message, RETRY_AFTER_SECONDS)
        : new BackendError(5033, undefined, { retryAfterSeconds: RETRY_AFTER_SECONDS });
    } else if (temporalRecovering(error)) {
      request.log.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'temporal not ready for this request');
      failure = device
        ? new DeviceError(503, 'api_error', 'session_recovering', BACKEND_CODES[5032].message, RETRY_AFTER_SECONDS)
        : new BackendError(5032, undefined, { retryAfterSeconds: RETRY_AFTER_SECONDS });
    } else {
      // Anything unexpected: logged here, hidden from the caller.
      request.log.error({ err: error }, 'request failed');
      failure = device ? new DeviceError(500, 'api_error', 'internal_error', 'Request could not be processed') : new BackendError(5001);
    }
  }
  if (failure.retryAfterSeconds !== undefined) reply.header('retry-after', String(failure.retryAfterSeconds));
  if (failure instanceof DeviceError) {
    request.deviceErrorCode = failure.code;
    return reply.code(failure.http).send(failure.body(request.id));
  }
  return reply.code(failure.status).send(failure.body());
}

/**
 * What a log line says about a request: its method and the route it matched, as the route's
 * pattern (`/v1/sessions/:id/steps`). Never the URL: paths carry session ids, which launch a
 * session (`/flow/:id`, `/v1/handshakes/:id/launch`), and query strings carry personal data;
 * nor addresses, headers or bodies. Every request line of every route goes through this.
 */
function loggedRequest(request: FastifyRequest): { method: string; route: string } {
  return { method: request.method, route: routeOf(request) };
}

export function buildApp(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ? { level: deps.logger.level, serializers: { req: loggedRequest } } : false,
    bodyLimit: deps.config.api.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Unknown fields are refused, not silently dropped, and types are not coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    // X-Forwarded-For names the client only when the socket is a configured proxy.
    trustProxy: deps.config.api.trustedProxies.length > 0 ? deps.config.api.trustedProxies : false,
    ...guardedServerOptions((request, reply, error) => sendError(request, reply, error as RequestGuardError)),
  });
  if (deps.config.tracing) installRequestSpans(app);
  installRequestGuards(app);
  installAddressLimits(app, new AddressLimits(deps.config.api.addressLimits, isDeviceRoute));
  const gateway = new SessionGateway(deps.temporal, deps.config.temporal.taskQueue, deps.sessionSecret, deps.keys, deps.config.unsealedSessionsUntil, deps.config.temporal.workflowTaskTimeoutMs);
  const audit = deps.audit ?? configuredAuditTrail(deps.config);
  if (!deps.audit) app.addHook('onClose', () => audit.close());
  const context: ApiContext = {
    config: deps.config,
    gateway,
    catalog: deps.catalog,
    clients: new ClientDirectory(deps.clients),
    limiter: deps.limiter ?? new RateLimiter(),
    tokens: new DeviceTokens(deps.deviceTokenSecret),
    attestr: new AttestrConnector(deps.config.providers.attestr),
    limits: DEFAULT_LIMITS,
    audit,
    metrics: new ApiMetrics(deps.metricsRegistry ?? new Registry(), () => gateway.countByStatus(), (err) =>
      app.log.warn({ err }, 'counting sessions by status for /metrics failed'),
    ),
  };
  const routes = collectRoutes(app);

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Answers carry results, nonces, credentials and personal data: no cache (a browser's, a
    // shared proxy's) may keep one. Only the hosted page's static files say otherwise.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) => {
    const message = `no route ${request.method} ${request.url.split('?')[0]}`;
    const failure = isDeviceRoute(request) ? new DeviceError(404, 'not_found', 'route_not_found', message) : new BackendError(4001, message, { status: 404 });
    return sendError(request, reply, failure);
  });

  // Liveness only: the process serves requests. It never asks Temporal (or a key store), so an
  // outage there does not make an orchestrator restart every replica in a loop; /readyz says it.
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Readiness: a session create would succeed now (see src/readiness.ts). 503 takes the replica
  // out of the load balancer until Temporal and its search attributes answer, and the key store.
  app.get('/readyz', async (_request, reply) => {
    const namespace = deps.config.temporal.namespace;
    const [temporal, keys] = await Promise.all([
      checkReadiness(deps.temporal.connection, namespace, READINESS_TIMEOUT_MS),
      deps.keys ? checkKeyStore(deps.keys, namespace, READINESS_TIMEOUT_MS) : null,
    ]);
    const ready = temporal.ready && (keys?.available ?? true);
    const readiness: Readiness = { ready, temporal: temporal.temporal, ...(keys ? { keyStore: { available: keys.available } } : {}), problems: [...temporal.problems, ...(keys?.problems ?? [])] };
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', ...readiness });
  });

  registerRoutes(app, context);

  app.addHook('onClose', () => context.attestr.close());

  let openApi: Record<string, unknown> | null = null;
  app.get('/openapi.json', async () => (openApi ??= buildOpenApi(routes)));

  return app;
}

/** Every route family, each in its own scope under its prefix. */
function registerRoutes(app: FastifyInstance, context: ApiContext): void {
  app.register(async (scope) => backendRoutes(scope, context), { prefix: BACKEND_PREFIX });
  app.register(async (scope) => deviceRoutes(scope, context), { prefix: DEVICE_PREFIX });
  app.register(async (scope) => deviceWaitRoutes(scope, context), { prefix: DEVICE_PREFIX });
  app.register(async (scope) => deviceClientRoutes(scope, context), { prefix: DEVICE_PREFIX });
  app.register(async (scope) => webhookRoutes(scope, context), { prefix: '/webhooks' });
  app.register(async (scope) => eventRoutes(scope, context), { prefix: DEVICE_PREFIX });
  app.register(async (scope) => hostedRoutes(scope, context));
  app.register(async (scope) => handoffRoutes(scope, context), { prefix: DEVICE_PREFIX });
  app.register(async (scope) => reissueRoutes(scope, context), { prefix: BACKEND_PREFIX });
}
