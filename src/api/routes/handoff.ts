/**
 * Moving a launched session to another device (docs/guides/hosted-page.md, "Continue on
 * another device"; the token model in docs/security/device-binding.md, "Handoff"):
 *
 * - POST /v1/sessions/:id/handoff: the bound browser asks for a one-time link (and its QR code)
 *   to continue elsewhere; it keeps the session until the link is claimed, then may only follow it.
 * - POST /v1/sessions/:id/claim: the browser that opened the link takes the session over, with a
 *   device key minted for it; the token comes in the body, read by the page from the fragment.
 * - POST /api/v1/public/flowx/handshake/:id/reissue: the tenant releases the binding and gets a
 *   one-time link that works on any device.
 *
 * Tokens travel in the link's fragment (never sent to a server, so never in a log or Referer)
 * and in POST bodies and answers, which are not logged; the session keeps only their hash.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HANDOFF_REFUSALS } from '../../contract/handoff';
import { REFUSALS, type SessionStatus } from '../../contract/session';
import { deviceKeyBinding, sessionRef } from '../../session-secret';
import type { ApiContext } from '../context';
import { requireBackendClient } from '../backend-auth';
import { requestDevice } from '../device-auth';
import { BackendError, DeviceError, type DeviceErrorCode } from '../errors';
import { setSessionKeyCookie } from '../hosted/credential';
import { qrSvg } from '../hosted/qr';
import { hostedPageUrl } from '../hosted/urls';
import { SessionNotFoundError, SessionRefusedError } from '../session-errors';
import type { StatusView } from '../session-handles';
import { backendError, deviceCredentialOptional, deviceError, errorAnswers } from '../schemas/common';
import { sessionParams, type SessionParams } from '../schemas/device';
import { handshakeParams, type HandshakeParams } from '../schemas/handshakes';
import { claimBody, claimResponse, handoffResponse, reissueResponse, type ClaimBody } from '../schemas/handoff';

/** Where the page finds the token: the fragment, which browsers never send to a server. */
const HANDOFF_FRAGMENT = 'handoff';

const deviceErrors = errorAnswers(deviceError, [400, 401, 404, 409, 413, 415, 429, 500, 503]);
const backendErrors = errorAnswers(backendError, [400, 401, 403, 413, 415, 429, 500, 503]);

const NOT_LIVE: Record<SessionStatus, DeviceErrorCode> = {
  created: 'session_not_launched',
  in_progress: 'step_in_progress',
  consumed: 'session_completed',
  expired: 'session_expired',
  archived: 'session_archived',
};

function sessionNotFound(): DeviceError {
  return new DeviceError(404, 'not_found', 'session_not_found', 'No session with this id is visible to this client');
}

function handoffNotValid(): DeviceError {
  return new DeviceError(404, 'not_found', 'handoff_not_valid', 'This link is not valid for the session: it was replaced by a newer one, or never issued');
}

function notLive(status: SessionStatus): DeviceError {
  return new DeviceError(409, 'conflict', NOT_LIVE[status], `the session is ${status}; only a session in progress moves to another device`);
}

async function statusOf(context: ApiContext, sessionId: string): Promise<StatusView> {
  try {
    const status = await context.gateway.status(sessionId);
    if (context.clients.get(status.clientId)) return status;
  } catch (err) {
    if (!(err instanceof SessionNotFoundError)) throw err;
  }
  throw sessionNotFound();
}

/** A handoff's refusals as device errors; what the session said about its status, as that status. */
function handoffFailure(err: unknown): never {
  if (err instanceof SessionNotFoundError) throw sessionNotFound();
  if (err instanceof SessionRefusedError) {
    if (err.type === HANDOFF_REFUSALS.INVALID) throw handoffNotValid();
    if (err.type === HANDOFF_REFUSALS.USED) throw new DeviceError(409, 'conflict', 'handoff_used', 'This link was used already: it works once');
    if (err.type === HANDOFF_REFUSALS.EXPIRED) throw new DeviceError(409, 'conflict', 'handoff_expired', 'This link has expired');
    if (err.type === REFUSALS.WRONG_STATUS) throw notLive((err.details as { status?: SessionStatus } | undefined)?.status ?? 'consumed');
    if (err.type === REFUSALS.WRONG_CLIENT) throw sessionNotFound();
  }
  throw err;
}

function linkWithToken(context: ApiContext, request: FastifyRequest, sessionId: string, token: string): string {
  return `${hostedPageUrl(context, request, sessionId)}#${HANDOFF_FRAGMENT}=${token}`;
}

/** The bound browser's own link to continue elsewhere: only the device holding the session may hand it on. */
async function offer(context: ApiContext, request: FastifyRequest<{ Params: SessionParams }>) {
  const sessionId = request.params.id;
  const status = await statusOf(context, sessionId);
  const device = await requestDevice(request, context, sessionId, status.clientId);
  if (device === undefined || status.deviceClientId !== device) throw sessionNotFound();
  if (status.status !== 'in_progress') throw notLive(status.status);
  try {
    const { token, expiresAt } = await context.gateway.offerHandoff(sessionId, 'device', context.config.api.handoffTtlMs, device);
    const url = linkWithToken(context, request, sessionId, token);
    return { url, qr_svg: await qrSvg(url), expires_at: expiresAt };
  } catch (err) {
    return handoffFailure(err);
  }
}

/** The browser that opened a link takes the session over; its key's cookie is set only once the session took the claim. */
async function claim(context: ApiContext, request: FastifyRequest<{ Params: SessionParams; Body: ClaimBody }>, reply: FastifyReply) {
  const sessionId = request.params.id;
  // A token not minted for this session (made up, another session's) costs no Temporal call.
  if (!context.gateway.isMintedFor(sessionId, request.body.token)) throw handoffNotValid();
  const status = await statusOf(context, sessionId);
  const key = context.gateway.newDeviceKey(sessionId);
  try {
    await context.gateway.claimHandoff(sessionId, request.body.token, deviceKeyBinding(key));
  } catch (err) {
    return handoffFailure(err);
  }
  setSessionKeyCookie(request, reply, context, sessionId, key, status.expiry);
  return { session_id: sessionId, claimed: true as const };
}

/** Unknown sessions and other clients' sessions get this same answer, as on the other backend routes. */
async function reissue(context: ApiContext, request: FastifyRequest<{ Params: HandshakeParams }>) {
  const sessionId = request.params.id;
  let status: StatusView;
  try {
    status = await context.gateway.status(sessionId);
  } catch (err) {
    if (err instanceof SessionNotFoundError) throw new BackendError(4031, 'no session with this id is visible to this client');
    throw err;
  }
  if (status.clientId !== request.tenant!.id) throw new BackendError(4031, 'no session with this id is visible to this client');
  const notInProgress = (now: string) => new BackendError(4001, `the session is ${now}; only a session in progress gets a new link (a created one's own link still works)`);
  if (status.status !== 'in_progress') throw notInProgress(status.status);
  try {
    const { token, expiresAt } = await context.gateway.offerHandoff(sessionId, 'reissue', context.config.api.handoffTtlMs);
    return { url: linkWithToken(context, request, sessionId, token), expiresAt };
  } catch (err) {
    if (err instanceof SessionRefusedError && err.type === REFUSALS.WRONG_STATUS) throw notInProgress((err.details as { status?: string } | undefined)?.status ?? 'over');
    if (err instanceof SessionNotFoundError) throw new BackendError(4031, 'no session with this id is visible to this client');
    throw err;
  }
}

/** The device routes, under /v1. */
export function handoffRoutes(app: FastifyInstance, context: ApiContext): void {
  app.post<{ Params: SessionParams }>(
    '/sessions/:id/handoff',
    {
      schema: {
        summary: 'A one-time link (and its QR code) that moves this session to another device: the bound browser only',
        security: deviceCredentialOptional,
        params: sessionParams,
        response: { 200: handoffResponse, ...deviceErrors },
      },
    },
    (request) => offer(context, request),
  );

  app.post<{ Params: SessionParams; Body: ClaimBody }>(
    '/sessions/:id/claim',
    {
      schema: {
        summary: "Take a session over with a handoff or re-issued link's token: this browser gets the session's device key",
        params: sessionParams,
        body: claimBody,
        response: { 200: claimResponse, ...deviceErrors },
      },
    },
    (request, reply) => claim(context, request, reply),
  );
}

/** The backend route, under /api/v1/public/flowx, with Basic auth like the others; audited like an archive. */
export function reissueRoutes(app: FastifyInstance, context: ApiContext): void {
  requireBackendClient(app, context);
  app.post<{ Params: HandshakeParams }>(
    '/handshake/:id/reissue',
    {
      schema: {
        summary: "Release a session's device and get a one-time link that continues it on any device",
        params: handshakeParams,
        response: { 200: reissueResponse, ...backendErrors },
      },
    },
    (request) =>
      context.audit.audited(
        { actor: `tenant:${request.tenant!.id}`, action: 'session.reissue', refs: [sessionRef(request.params.id)], address: request.ip, requestId: request.id },
        () => reissue(context, request),
        { refused: (err) => err instanceof BackendError && err.status < 500 },
      ),
  );
}
