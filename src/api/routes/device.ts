/**
 * Device API, Finqware Sessions shape: create-and-launch in one round trip, launch a session a
 * backend created, and submit steps along the nonce chain. The nonce is the device's
 * credential for a step; a session belongs to one client and one flow.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FlowDefinition } from '../../flows/core/types';
import { DeviceError, type DeviceErrorCode } from '../errors';
import { limitsOf } from '../backend-auth';
import { deviceCredential, requestDevice } from '../device-auth';
import { REFUSALS, type InputProblems, type SessionStatus } from '../../contract/session';
import { fieldErrors } from '../field-errors';
import { answerLanguage } from '../language';
import { localizeAnswer } from '../localize';
import type { Language } from '../../browser/languages';
import { SessionNotFoundError, SessionRefusedError } from '../session-errors';
import type { ApiContext } from '../context';
import type { StepLabels } from '../metrics';
import type { RateDecision } from '../rate-limit';
import type { TenantClient } from '../../tenants/registry';
import { deviceCredentialOptional, deviceError, errorAnswers } from '../schemas/common';
import {
  createSessionBody,
  createSessionResponse,
  launchHeaders,
  launchResponse,
  sessionParams,
  submitStepBody,
  submitStepResponse,
  type CreateSessionBody,
  type LaunchHeaders,
  type SessionParams,
  type SubmitStepBody,
} from '../schemas/device';

const errors = errorAnswers(deviceError, [400, 401, 404, 409, 413, 415, 429, 500, 503]);

const ENDED_CODES: Record<SessionStatus, DeviceErrorCode> = {
  created: 'session_not_launched',
  in_progress: 'session_already_launched',
  consumed: 'session_completed',
  expired: 'session_expired',
  archived: 'session_archived',
};

function invalidNonce(): DeviceError {
  return new DeviceError(400, 'invalid_request', 'invalid_nonce', 'the nonce is not the one this session expects');
}

/** A nonce handed out before tags (32 bytes, base64url), while UNTAGGED_NONCES_UNTIL lets those through to the session. */
function untaggedAccepted(context: ApiContext, nonce: string): boolean {
  const until = context.config.api.untaggedNoncesUntil;
  return until !== undefined && Date.now() < until && /^[A-Za-z0-9_-]{43}$/.test(nonce);
}

function sessionNotFound(): DeviceError {
  return new DeviceError(404, 'not_found', 'session_not_found', 'No session with this id is visible to this client');
}

/**
 * invalid_data: every field the stage's schema refused, in plain language (`errors`), the first
 * also as `param` for Finqware-shaped clients; other refusals of the input keep their message.
 */
function invalidData(err: SessionRefusedError, lang: Language): DeviceError {
  const details = err.details as Partial<InputProblems> | undefined;
  // A worker from before worded refusals itself and sent no schema: its message, and its first field.
  if (!details?.problems?.length || !details.schema) return new DeviceError(400, 'invalid_request', 'invalid_data', err.message, undefined, details?.problems?.[0]?.path);
  const errors = fieldErrors(details as InputProblems, lang);
  return new DeviceError(400, 'invalid_request', 'invalid_data', errors.map((e) => e.message).join('; '), undefined, errors[0].param, errors);
}

/** Maps a refused or failed session operation to the device error shape, worded in `lang`. */
function deviceFailure(err: unknown, lang: Language = 'en'): never {
  if (err instanceof SessionNotFoundError) throw sessionNotFound();
  if (!(err instanceof SessionRefusedError)) throw err;
  switch (err.type) {
    case REFUSALS.WRONG_STATUS: {
      const status = (err.details as { status?: SessionStatus } | undefined)?.status ?? 'consumed';
      throw new DeviceError(409, 'conflict', ENDED_CODES[status], err.message);
    }
    case REFUSALS.INVALID_NONCE:
      throw new DeviceError(400, 'invalid_request', 'invalid_nonce', err.message);
    case REFUSALS.WRONG_STEP:
      throw new DeviceError(400, 'invalid_request', 'invalid_step', err.message);
    case REFUSALS.INVALID_INPUT:
      throw invalidData(err, lang);
    case REFUSALS.BUSY:
      throw new DeviceError(409, 'conflict', 'step_in_progress', err.message);
    case REFUSALS.WRONG_FLOW:
      throw new DeviceError(400, 'invalid_request', 'invalid_skill', err.message);
    case REFUSALS.WRONG_CLIENT:
    case REFUSALS.INVALID_PROOF:
      throw sessionNotFound();
  }
  throw err;
}


/** Only names the catalog knows become labels: the body is the device's to fill with anything. */
function stepLabels(context: ApiContext, body: Partial<SubmitStepBody> | undefined): StepLabels {
  const { catalog } = context;
  const flowId = typeof body?.skill === 'string' && catalog.get(body.skill) ? body.skill : undefined;
  const kind = flowId && typeof body?.step === 'string' ? catalog.stageKind(flowId, body.step) : undefined;
  return { flow: flowId ?? 'unknown', stage_kind: kind ?? 'unknown' };
}

/**
 * An archived session's workflow has ended, so updates find no session: tell the device it
 * was archived (for a session of its own tenant) instead of unknown.
 */
async function failure(context: ApiContext, err: unknown, sessionId: string, tenantId: string | undefined, lang: Language): Promise<never> {
  if (err instanceof SessionNotFoundError) {
    const status = await context.gateway.status(sessionId).catch(() => null);
    if (status?.status === 'archived' && (tenantId === undefined || status.clientId === tenantId)) {
      throw new DeviceError(409, 'conflict', ENDED_CODES.archived, 'the session is archived');
    }
  }
  return deviceFailure(err, lang);
}

/** Finqware's 429 for a refused per-client verdict. */
function overLimit(verdict: RateDecision): void {
  if (verdict.ok) return;
  const daily = verdict.code === 4293;
  throw new DeviceError(429, 'rate_limit_error', daily ? 'daily_limit_exceeded' : 'rate_limit_exceeded', daily ? 'Maximum account daily limit exceeded' : 'Maximum account rate limit exceeded', verdict.retryAfterSeconds);
}

/** Device traffic counts apart from the backend's: a claimed client_id must not spend the tenant backend's own limits. */
const deviceKey = (tenant: TenantClient) => `device:${tenant.id}`;

/**
 * A step's tenant, when its device limits are not spent; nothing is counted yet: the step
 * counts once its session accepted it (see submitStep), so steps anyone can send to made-up
 * sessions, or with a wrong nonce, never spend the tenant's limits.
 */
async function admitStep(context: ApiContext, tenantId: string, request: FastifyRequest): Promise<TenantClient | undefined> {
  const tenant = context.clients.get(tenantId);
  if (!tenant) {
    // Refused by the session itself, like an unknown id; for the address, a failed authentication.
    request.authFailed = true;
    return undefined;
  }
  overLimit(await context.limiter.peek(deviceKey(tenant), limitsOf(tenant, context)));
  return tenant;
}

/** The draft of the flow the wire calls `skill`, or Finqware's error for it. */
function draftOf(context: ApiContext, skill: string): FlowDefinition {
  const resolved = context.catalog.resolve(skill, null);
  if (resolved.ok) return resolved.definition;
  if (resolved.reason === 'inactive_flow') throw new DeviceError(400, 'invalid_request', 'inactive_skill', 'Requested flow is inactive');
  if (resolved.reason === 'unavailable_flow') throw new DeviceError(400, 'invalid_request', 'invalid_skill', 'Flow ID is not available: its definition failed to load; ask the operator');
  throw new DeviceError(400, 'invalid_request', 'invalid_skill', 'Flow ID does not exist');
}

async function createAndLaunch(context: ApiContext, request: FastifyRequest<{ Body: CreateSessionBody }>, reply: FastifyReply) {
  const body = request.body;
  const lang = answerLanguage(request, reply);
  const tenant = context.clients.authenticateSecret(body.client_id, body.client_app_key);
  if (!tenant) throw new DeviceError(401, 'authentication_error', 'invalid_client', 'Invalid client_id or client_app_key');
  // Authenticated by the client's own secret: counted up front, like the backend's requests.
  overLimit(await context.limiter.check(deviceKey(tenant), limitsOf(tenant, context)));
  const credential = await deviceCredential(request, context, { bearerOnly: true });
  if (credential && credential.tenantId !== tenant.id) {
    throw new DeviceError(401, 'authentication_error', 'invalid_client_credential', 'The client credential belongs to another client app');
  }
  const definition = draftOf(context, body.skill);
  try {
    const { session, launch } = await context.gateway.createAndLaunch(
      { tenantId: tenant.id, tag: body.tenant_user_id, definition, retentionSeconds: tenant.retentionSeconds },
      credential ? { deviceClientId: credential.deviceClientId } : undefined,
    );
    return localizeAnswer({ nonce: launch.nonce, session_id: session.sessionId, status: 'SESSION_CREATED', step: launch.step, data: launch.data }, lang);
  } catch (err) {
    return deviceFailure(err, lang);
  }
}

async function launch(context: ApiContext, request: FastifyRequest<{ Params: SessionParams; Headers: LaunchHeaders }>, reply: FastifyReply) {
  const lang = answerLanguage(request, reply);
  const credential = await deviceCredential(request, context, { bearerOnly: true });
  try {
    const launched = await context.gateway.launch(request.params.id, credential, request.headers['idempotency-key']);
    return localizeAnswer({ session_id: request.params.id, ...launched }, lang);
  } catch (err) {
    return failure(context, err, request.params.id, credential?.tenantId, lang);
  }
}

async function submitStep(context: ApiContext, request: FastifyRequest<{ Params: SessionParams; Body: SubmitStepBody }>, reply: FastifyReply) {
  const body = request.body;
  const lang = answerLanguage(request, reply);
  // Before anything else: a nonce this api did not mint for this session id (a made-up id) costs no Temporal call.
  // (For the address it is a failed session request, like any invalid_nonce: address-limits.ts.)
  if (!context.gateway.isMintedFor(request.params.id, body.nonce) && !untaggedAccepted(context, body.nonce)) throw invalidNonce();
  const tenant = await admitStep(context, body.client_id, request);
  const device = await requestDevice(request, context, request.params.id, body.client_id);
  let answer;
  try {
    answer = await context.gateway.submitStep(request.params.id, {
      nonce: body.nonce,
      step: body.step,
      input: body.data,
      ...(body.event === 'BACK' ? { event: 'BACK' as const } : {}),
      clientId: body.client_id,
      flowId: body.skill,
      deviceClientId: device ?? null,
      pendingWaitSeconds: context.config.providers.pendingWaitSeconds,
    });
  } catch (err) {
    return failure(context, err, request.params.id, body.client_id, lang);
  }
  // Accepted: the step is the session's, so it counts. A counter that failed must not turn it into an error.
  if (tenant) await context.limiter.charge(deviceKey(tenant)).catch((err: unknown) => request.log.warn({ err }, 'counting a device step failed'));
  return localizeAnswer(answer, lang);
}

export function deviceRoutes(app: FastifyInstance, context: ApiContext): void {
  app.post<{ Body: CreateSessionBody }>(
    '/sessions',
    { schema: { summary: 'Create and launch a session', security: deviceCredentialOptional, body: createSessionBody, response: { 200: createSessionResponse, ...errors } } },
    (request, reply) => createAndLaunch(context, request, reply),
  );

  app.post<{ Params: SessionParams; Headers: LaunchHeaders }>(
    '/handshakes/:id/launch',
    {
      schema: {
        summary: 'Launch a session created by a backend',
        security: deviceCredentialOptional,
        params: sessionParams,
        headers: launchHeaders,
        response: { 200: launchResponse, ...errors },
      },
    },
    (request, reply) => launch(context, request, reply),
  );

  app.post<{ Params: SessionParams; Body: SubmitStepBody }>(
    '/sessions/:id/steps',
    {
      schema: { summary: 'Submit a step', security: deviceCredentialOptional, params: sessionParams, body: submitStepBody, response: { 200: submitStepResponse, ...errors } },
      // Every answer counts, refusals included; elapsedTime runs from the request's arrival to the answer.
      onResponse: async (request, reply) => {
        context.metrics.observeStep(stepLabels(context, request.body as Partial<SubmitStepBody> | undefined), reply.statusCode, reply.elapsedTime / 1000);
      },
    },
    (request, reply) => submitStep(context, request, reply),
  );
}
