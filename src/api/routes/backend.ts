/**
 * Backend API, Attestr FlowX shape: tenants create sessions (handshakes), read their signed
 * results, archive them, and read the flow catalog. Basic auth and per-client limits on all.
 * Each result read and archive is audited (src/audit) under the session's reference before it
 * happens: no record, no answer (503, code 5033).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TenantClient } from '../../tenants/registry';
import { BackendError } from '../errors';
import { contentHash, sha256Hex } from '../../util/hash';
import { toMermaid } from '../../flows/mermaid';
import { DEFAULT_MAX_STEPS, type FlowFile } from '../../flows/core/types';
import { signResult } from '../../util/result-signature';
import { REFUSALS, type ResultView } from '../../contract/session';
import { expiryAllowed } from '../session-create';
import { IdempotencyConflictError, SessionNotFoundError, SessionRefusedError } from '../session-errors';
import type { StatusView } from '../session-handles';
import type { ApiContext } from '../context';
import { requireBackendClient } from '../backend-auth';
import { redirectAllowed } from '../redirects';
import { hostedPageUrl } from '../hosted/urls';
import { FLOW_FAILED_TO_LOAD, hasWebhookEndpoint, resolveFlow, WEBHOOK_NEEDS_ENDPOINT } from '../flow-resolution';
import { backendError, errorAnswers } from '../schemas/common';
import { sessionRef } from '../../session-secret';
import type { AuditEntry } from '../../audit/trail';
import {
  createHandshakeBody,
  createHandshakeResponse,
  flowDetail,
  flowList,
  flowParams,
  handshakeParams,
  handshakeView,
  type CreateHandshakeAnswer,
  type CreateHandshakeBody,
  type FlowParams,
  type HandshakeParams,
  type HandshakeView,
} from '../schemas/handshakes';

const errors = errorAnswers(backendError, [400, 401, 403, 413, 415, 429, 500, 503]);

export function handshakeDigest(sessionId: string, number: string, tag: string): string {
  return sha256Hex(`${sessionId}:${number}:${tag}`);
}

/** Unknown sessions and other clients' sessions get this same answer. */
function notVisible(): BackendError {
  return new BackendError(4031, 'no session with this id is visible to this client');
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new BackendError(4001, 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  }
  return key;
}

function flowSummary(flow: FlowFile) {
  return {
    id: flow.id,
    name: flow.name,
    ...(flow.description ? { description: flow.description } : {}),
    active: flow.active,
    maxSteps: flow.maxSteps ?? DEFAULT_MAX_STEPS,
    snapshots: Object.keys(flow.snapshots),
  };
}

/** The session's views, if it exists and belongs to `tenant`. */
async function visibleSession(context: ApiContext, tenant: TenantClient, sessionId: string) {
  try {
    const view = await context.gateway.view(sessionId);
    if (view.status.clientId === tenant.id) return view;
  } catch (err) {
    if (!(err instanceof SessionNotFoundError)) throw err;
  }
  throw notVisible();
}

function present(request: FastifyRequest, tenant: TenantClient, status: StatusView, result: ResultView['result']): HandshakeView {
  return {
    _id: status.sessionId,
    number: status.number,
    tag: status.tag,
    requestId: request.id,
    consumed: status.consumed,
    archived: status.archived,
    result,
    resultSignature: result === null ? null : signResult(result, tenant.secret),
    status: status.status,
    outcome: status.outcome,
    expiry: status.expiry,
  };
}

/** The tenant, the session's reference (never its id), the address and the request: a record's who and which. */
function auditEntry(request: FastifyRequest<{ Params: HandshakeParams }>, action: AuditEntry['action']): AuditEntry {
  return { actor: `tenant:${request.tenant!.id}`, action, refs: [sessionRef(request.params.id)], address: request.ip, requestId: request.id };
}

/** Another tenant's (or no) session is a refusal, not a failure. */
const refusal = (err: unknown) => err instanceof BackendError && err.status < 500;

async function createHandshake(context: ApiContext, request: FastifyRequest<{ Body: CreateHandshakeBody }>): Promise<CreateHandshakeAnswer> {
  const tenant = request.tenant!;
  const body = request.body;
  const key = idempotencyKey(request);
  const now = Date.now();
  if (body.expiry !== undefined && !expiryAllowed(body.expiry, now)) {
    throw new BackendError(4001, 'expiry must be a unix time in ms in the future and at most one year ahead');
  }
  if (body.webhook && !hasWebhookEndpoint(tenant)) throw new BackendError(4001, WEBHOOK_NEEDS_ENDPOINT);
  if (body.returnUrl !== undefined && !redirectAllowed(body.returnUrl, tenant.redirectUrls ?? [])) {
    throw new BackendError(4001, "returnUrl is not on the client's redirectUrls");
  }
  // A left-out snapshot is the draft, as null is (our extension: Attestr requires the field).
  const snapshot = body.snapshot ?? null;
  const definition = resolveFlow(context.catalog, body.flow, snapshot);
  try {
    const created = await context.gateway.create({
      tenantId: tenant.id,
      tag: body.tag,
      webhook: body.webhook ?? false,
      retentionSeconds: tenant.retentionSeconds,
      definition,
      ...(body.expiry !== undefined ? { expiresAt: body.expiry } : {}),
      ...(body.returnUrl !== undefined ? { returnUrl: body.returnUrl } : {}),
      // Hashed with the snapshot written out, so a retry that leaves it out matches one that sent null.
      ...(key ? { idempotency: { key, requestHash: contentHash({ ...body, snapshot }), tenantSecret: tenant.secret } } : {}),
    });
    return {
      _id: created.sessionId,
      number: created.number,
      digest: handshakeDigest(created.sessionId, created.number, body.tag),
      url: hostedPageUrl(context, request, created.sessionId),
    };
  } catch (err) {
    if (err instanceof IdempotencyConflictError) throw new BackendError(4001, err.message);
    throw err;
  }
}

async function archiveHandshake(context: ApiContext, request: FastifyRequest<{ Params: HandshakeParams }>) {
  const tenant = request.tenant!;
  const { status } = await visibleSession(context, tenant, request.params.id);
  // An archived session's workflow has ended: say so rather than fail the update.
  if (status.status === 'archived') throw new BackendError(4001, 'the session is archived already');
  try {
    return present(request, tenant, await context.gateway.archive(request.params.id), null);
  } catch (err) {
    if (err instanceof SessionRefusedError && err.type === REFUSALS.WRONG_STATUS) throw new BackendError(4001, err.message);
    throw err;
  }
}

function flowDetailOf(flow: FlowFile) {
  return {
    ...flowSummary(flow),
    draft: { id: null, mermaid: toMermaid(flow.draft), machine: flow.draft },
    versions: Object.entries(flow.snapshots).map(([id, machine]) => ({ id, mermaid: toMermaid(machine), machine })),
  };
}

export function backendRoutes(app: FastifyInstance, context: ApiContext): void {
  const { catalog } = context;

  requireBackendClient(app, context);

  app.post<{ Body: CreateHandshakeBody }>(
    '/handshake',
    { schema: { summary: 'Create a session (handshake)', body: createHandshakeBody, response: { 200: createHandshakeResponse, ...errors } } },
    (request) => createHandshake(context, request),
  );

  app.get<{ Params: HandshakeParams }>(
    '/handshake/:id',
    { schema: { summary: 'Get a session and its signed result', params: handshakeParams, response: { 200: handshakeView, ...errors } } },
    (request) =>
      context.audit.audited(
        auditEntry(request, 'result.read'),
        async () => {
          const { status, result } = await visibleSession(context, request.tenant!, request.params.id);
          return present(request, request.tenant!, status, result.result);
        },
        { refused: refusal },
      ),
  );

  app.post<{ Params: HandshakeParams }>(
    '/handshake/:id/archive',
    { schema: { summary: 'Archive a consumed or expired session', params: handshakeParams, response: { 200: handshakeView, ...errors } } },
    (request) => context.audit.audited(auditEntry(request, 'session.archive'), () => archiveHandshake(context, request), { refused: refusal }),
  );

  app.get('/flows', { schema: { summary: 'List flows', response: { 200: flowList, ...errors } } }, async () => ({
    flows: catalog.list().map(flowSummary),
  }));

  app.get<{ Params: FlowParams }>(
    '/flows/:id',
    { schema: { summary: 'Get a flow with its versions as Mermaid diagrams', params: flowParams, response: { 200: flowDetail, ...errors } } },
    async (request) => {
      const flow = catalog.get(request.params.id);
      if (!flow) throw new BackendError(4002, catalog.failedToLoad(request.params.id) ? FLOW_FAILED_TO_LOAD : undefined);
      return flowDetailOf(flow);
    },
  );
}
