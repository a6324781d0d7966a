/**
 * The browser's device credential for one tenant: the `__client_<tenant>` cookie (see
 * device-auth.ts). The hosted page's launch makes one when the browser has none for the
 * session's tenant, and refreshes an expired one within its refresh window.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context';
import { cookieValue, tenantCookie, type DeviceCredential } from '../device-auth';
import { MAX_DEVICE_SESSIONS } from '../../workflows/messages';

/** Local development runs on plain HTTP; everywhere else the cookie is Secure. */
function isLocal(request: FastifyRequest): boolean {
  const host = (request.headers.host ?? '').replace(/:\d+$/, '');
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

export function setTenantCookie(request: FastifyRequest, reply: FastifyReply, tenantId: string, token: string, refreshUntil: number): void {
  const maxAge = Math.max(0, Math.floor((refreshUntil - Date.now()) / 1000));
  const attributes = [`${tenantCookie(tenantId)}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAge}`, ...(isLocal(request) ? [] : ['Secure'])];
  reply.header('set-cookie', attributes.join('; '));
}

/**
 * The tenant's credential this browser holds, refreshed when expired; undefined when it holds
 * none that is valid (a forged, revoked or other tenant's cookie counts as none).
 */
export async function browserCredential(
  request: FastifyRequest,
  reply: FastifyReply,
  context: ApiContext,
  tenantId: string,
): Promise<(DeviceCredential & { full: boolean }) | undefined> {
  const token = cookieValue(request.headers.cookie, tenantCookie(tenantId));
  if (token === undefined) return undefined;
  const now = Date.now();
  const check = context.tokens.verify(token, now, { allowExpired: true });
  if (!check.ok || check.claims.ten !== tenantId) return undefined;
  const client = await context.gateway.deviceClient(check.claims.sub);
  if (!client || client.revokedAt !== null || client.tenantId !== tenantId) return undefined;
  if (now >= check.claims.exp) {
    setTenantCookie(request, reply, tenantId, context.tokens.issue({ sub: client.deviceClientId, ten: tenantId, ref: client.refreshUntil }, now), client.refreshUntil);
  }
  // A device client launches at most MAX_DEVICE_SESSIONS sessions; a browser is not limited by that.
  return { deviceClientId: client.deviceClientId, tenantId, refreshUntil: client.refreshUntil, full: client.sessionIds.length >= MAX_DEVICE_SESSIONS };
}

/** A new device client for this browser and tenant, its credential set as the tenant's cookie. */
export async function newBrowserCredential(request: FastifyRequest, reply: FastifyReply, context: ApiContext, tenantId: string): Promise<DeviceCredential> {
  const client = await context.gateway.createDeviceClient(tenantId, context.config.api.deviceClientUnusedMs);
  setTenantCookie(request, reply, tenantId, context.tokens.issue({ sub: client.deviceClientId, ten: tenantId, ref: client.refreshUntil }), client.refreshUntil);
  return { deviceClientId: client.deviceClientId, tenantId, refreshUntil: client.refreshUntil };
}
