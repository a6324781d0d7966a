/**
 * GET /v1/sessions/:id?wait=<seconds>: the device reads its session's status and current stage,
 * and may ask to wait (at most 25 s) until either changes, instead of holding a step open or
 * polling fast. The one request the api holds past 15 s, and only because the device asked.
 *
 * Authorised like the session's next step: a session bound to a device needs that device's
 * credential (its device key cookie, or its device client credential); any other needs its current nonce in the `x-session-nonce` header (the api
 * hashes it and the workflow compares that with the next nonce's hash it keeps, see
 * progressQuery: no nonce enters Temporal). Anything else is the same 404 as an unknown id.
 * Waiting reads the session with a query every half second: no history events, no workers woken
 * beyond a cached query.
 *
 * After a handoff (routes/handoff.ts), the device that offered it may still wait here, to follow
 * the session to its end: it learns the status and that it moved (`moved: true`), not the stage
 * or the outcome.
 */
import type { FastifyInstance } from 'fastify';
import { DEVICE_STATUS, type StatusView } from '../../contract/session';
import { requestDevice } from '../device-auth';
import { DeviceError } from '../errors';
import { SessionNotFoundError } from '../session-errors';
import type { ApiContext } from '../context';
import { deviceCredentialOptional, deviceError, errorAnswers } from '../schemas/common';
import { sessionParams, sessionProgressHeaders, sessionProgressQuery, sessionProgressResponse } from '../schemas/device';

export const MAX_WAIT_SECONDS = 25;
const POLL_MS = 500;

const errors = errorAnswers(deviceError, [400, 401, 404, 429, 500, 503]);

function sessionNotFound(): DeviceError {
  return new DeviceError(404, 'not_found', 'session_not_found', 'No session with this id is visible to this client');
}

/** A handoff claimed elsewhere (the binding changed) is a change too: the device that offered it follows from then on. */
const sameProgress = (a: StatusView, b: StatusView) => a.status === b.status && a.stage === b.stage && a.stepCount === b.stepCount && a.deviceClientId === b.deviceClientId;

export async function deviceWaitRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  const { gateway } = context;

  app.get<{ Params: { id: string }; Querystring: { wait?: string } }>(
    '/sessions/:id',
    {
      schema: {
        summary: "The session's status and current stage; ?wait=<seconds> waits up to 25 s for a change",
        params: sessionParams,
        querystring: sessionProgressQuery,
        headers: sessionProgressHeaders,
        security: deviceCredentialOptional,
        response: { 200: sessionProgressResponse, ...errors },
      },
    },
    async (request) => {
      const header = request.headers['x-session-nonce'];
      const nonce = typeof header === 'string' && header !== '' ? header : null;
      const id = request.params.id;
      let first;
      try {
        first = await gateway.progress(id, nonce);
      } catch (err) {
        if (err instanceof SessionNotFoundError) throw sessionNotFound();
        throw err;
      }
      const boundTo = first.status.deviceClientId;
      const device = boundTo !== null ? await requestDevice(request, context, id, first.status.clientId) : undefined;
      // The device a handoff moved the session from follows it to its end: its status only.
      const follower = device !== undefined && device === first.status.handedOffFrom;
      const authorised = boundTo !== null ? device === boundTo || follower : first.nonceCurrent;
      if (!authorised) throw sessionNotFound();

      const deadline = Date.now() + Math.min(Number(request.query.wait ?? 0), MAX_WAIT_SECONDS) * 1000;
      let current = first.status;
      while (sameProgress(current, first.status) && Date.now() < deadline && !request.raw.destroyed) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, deadline - Date.now())));
        current = (await gateway.progress(id, null)).status;
      }
      const movedAway = device !== undefined && current.deviceClientId !== device;
      return {
        session_id: current.sessionId,
        status: DEVICE_STATUS[current.status],
        step: movedAway ? null : current.stage,
        outcome: movedAway ? null : current.outcome,
        changed: !sameProgress(current, first.status),
        ...(movedAway ? { moved: true } : {}),
      };
    },
  );
}
