/**
 * What GET /flow/:id finds a link to be, so the page shows at once what is true for it. It reads
 * the session's status (one lookup, as GET /v1/sessions/:id does; an id without a session id's
 * shape none) and the browser's cookies, and changes nothing: no launch, so link previewers and
 * mail scanners cannot use the link up. Only the browser holding the bound device learns how
 * the session ended; anyone else holding the link learns that it ended.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEVICE_KEY_BINDING_PREFIX } from '../../session-secret';
import type { ApiContext } from '../context';
import { SessionNotFoundError } from '../session-errors';
import type { StatusView } from '../session-handles';
import { requestDevice } from '../device-auth';
import { holdsBinding } from './credential';
import type { PageState } from './page';

/**
 * A navigation from another site (a link in a webmail) carries no SameSite=Strict cookie, so a
 * missing session key proves nothing then; the page asks again from its own origin.
 */
function keyWithheld(request: FastifyRequest, bound: string): boolean {
  return request.headers['sec-fetch-site'] === 'cross-site' && bound.startsWith(DEVICE_KEY_BINDING_PREFIX);
}

/** The session behind the link, or null when there is none. */
export async function pageStatus(context: ApiContext, sessionId: string): Promise<StatusView | null> {
  try {
    return await context.gateway.status(sessionId);
  } catch (err) {
    if (err instanceof SessionNotFoundError) return null;
    throw err;
  }
}

/** Whether this browser handed the session on to another device (it follows the session there, nothing more). */
async function movedFrom(request: FastifyRequest, context: ApiContext, sessionId: string, status: StatusView): Promise<boolean> {
  const from = status.handedOffFrom ?? null;
  return from !== null && (await requestDevice(request, context, sessionId, status.clientId)) === from;
}

export async function hostedPageState(context: ApiContext, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, status: StatusView | null): Promise<PageState> {
  const sessionId = request.params.id;
  if (status === null) return { page: 'invalid' };
  // A session of a client no longer configured: nobody can run it, the same as no session.
  const tenant = context.clients.get(status.clientId);
  if (!tenant) return { page: 'invalid' };
  if (status.status === 'created') return { page: 'start' };
  const bound = status.deviceClientId;
  const held = bound !== null && (await holdsBinding(request, reply, context, sessionId, tenant.id, bound));
  if (bound !== null && !held && keyWithheld(request, bound)) return { page: 'recheck' };
  if (status.status === 'in_progress' && !held && (await movedFrom(request, context, sessionId, status))) return { page: 'moved' };
  if (status.status === 'in_progress') return { page: held ? 'resume' : 'elsewhere' };
  const returnUrl = status.returnUrl ?? undefined;
  // Over. Nobody launched it: it expired unopened, which anyone with the link may learn.
  if (bound === null) return { page: status.status === 'expired' ? 'expired' : 'ended', returnUrl };
  if (!held) return { page: 'ended', returnUrl };
  if (status.status === 'expired') return { page: 'expired', returnUrl };
  return { page: 'ended', outcome: status.outcome ?? undefined, returnUrl };
}
