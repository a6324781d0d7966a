/**
 * The hosted page's device credentials in the browser: the device key its launch mints for one
 * session, set as that session's own cookie (see device-auth.ts), and, for sessions launched
 * before device keys, the tenant's device client cookie (`__client_<tenant>`) they were bound to.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context';
import { cookieValues, servedOverHttps, setCookie } from '../cookies';
import { legacyTenantCookie, sessionKeyBinding, sessionKeyCookie } from '../device-auth';
import { DEFAULT_RETENTION_SECONDS } from '../../contract/session-state';
import { DEVICE_KEY_BINDING_PREFIX } from '../../session-secret';

/**
 * The device key's cookie lives while the session can take steps, and the default retention
 * beyond, so the browser that ran it can still see how it ended.
 */
export function setSessionKeyCookie(request: FastifyRequest, reply: FastifyReply, context: ApiContext, sessionId: string, key: string, expiresAt: number): void {
  const secure = servedOverHttps(request, context.config);
  const maxAgeSeconds = (expiresAt - Date.now()) / 1000 + DEFAULT_RETENTION_SECONDS;
  setCookie(reply, sessionKeyCookie(sessionId, secure), key, { maxAgeSeconds, secure, sameSite: 'Strict' });
}

/**
 * Whether the browser holds the device client a session from before device keys is bound to:
 * every cookie of the tenant's name is tried, and only the bound client's counts. An expired one
 * within its refresh window is refreshed, as those pages did.
 */
export async function holdsBoundClient(request: FastifyRequest, reply: FastifyReply, context: ApiContext, tenantId: string, deviceClientId: string): Promise<boolean> {
  const now = Date.now();
  for (const token of cookieValues(request.headers.cookie, legacyTenantCookie(tenantId))) {
    const check = context.tokens.verify(token, now, { allowExpired: true });
    if (!check.ok || check.claims.sub !== deviceClientId || check.claims.ten !== tenantId) continue;
    const client = await context.gateway.deviceClient(deviceClientId);
    if (!client || client.revokedAt !== null) return false;
    if (now >= check.claims.exp) {
      const fresh = context.tokens.issue({ sub: deviceClientId, ten: tenantId, ref: client.refreshUntil }, now);
      setCookie(reply, legacyTenantCookie(tenantId), fresh, { maxAgeSeconds: (client.refreshUntil - now) / 1000, secure: servedOverHttps(request, context.config), sameSite: 'Lax' });
    }
    return true;
  }
  return false;
}

/** Whether this browser holds the device the session is bound to: its key, or (sessions from before keys) the device client cookie. */
export function holdsBinding(request: FastifyRequest, reply: FastifyReply, context: ApiContext, sessionId: string, tenantId: string, bound: string): Promise<boolean> {
  return bound.startsWith(DEVICE_KEY_BINDING_PREFIX)
    ? Promise.resolve(sessionKeyBinding(request, context, sessionId) === bound)
    : holdsBoundClient(request, reply, context, tenantId, bound);
}
