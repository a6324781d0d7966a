/**
 * Device credentials on a request, and the device binding they prove for a session
 * (docs/security/device-binding.md):
 * - a device client credential (Clerk shape): the Authorization bearer token, else the `__client`
 *   cookie (`__Host-client` over HTTPS), checked for signature, expiry and revocation;
 * - a session's device key: the cookie the hosted page's launch set for that one session
 *   (`session_<16 hex>`, `__Host-session_<16 hex>` over HTTPS), which only this api can mint.
 * Cookies never bind a launch: a launch binds to a bearer credential, or to a key minted for it.
 * Pages launched before device keys bound the browser's `__client_<tenant id>` credential;
 * those sessions are still read with it.
 */
import type { FastifyRequest } from 'fastify';
import { deviceKeyBinding, sessionRef } from '../session-secret';
import type { ApiContext } from './context';
import { cookieName, cookieValues, servedOverHttps } from './cookies';
import { DeviceError } from './errors';

export const CLIENT_COOKIE = '__client';

/** The device client cookie's name for this request (`__Host-client` over HTTPS). */
export function clientCookie(request: FastifyRequest, context: ApiContext): string {
  return servedOverHttps(request, context.config) ? cookieName('client', true) : CLIENT_COOKIE;
}

/** The cookie old hosted pages set per tenant; read for the sessions they launched, never set. */
export function legacyTenantCookie(tenantId: string): string {
  return `${CLIENT_COOKIE}_${tenantId}`;
}

/** The cookie of one session's device key: one per session, so sessions in one browser never share or replace one. */
export function sessionKeyCookie(sessionId: string, secure: boolean): string {
  return cookieName(`session_${sessionRef(sessionId).slice(0, 16)}`, secure);
}

export interface DeviceCredential {
  deviceClientId: string;
  tenantId: string;
  refreshUntil: number;
}

/** The bearer token of the Authorization header, if it has one. */
function bearerToken(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/**
 * The device client credentials a request carries, in the order tried: the bearer token alone
 * when there is one; else every value of the client cookie, then (for a known tenant) of that
 * tenant's old hosted-page cookie.
 */
function presentedTokens(request: FastifyRequest, context: ApiContext, tenantId?: string): string[] {
  const bearer = bearerToken(request);
  if (bearer !== undefined) return [bearer];
  const header = request.headers.cookie;
  return [...cookieValues(header, clientCookie(request, context)), ...(tenantId === undefined ? [] : cookieValues(header, legacyTenantCookie(tenantId)))];
}

export function unauthorized(): DeviceError {
  return new DeviceError(401, 'authentication_error', 'invalid_client_credential', 'The client credential is missing, invalid, expired or revoked');
}

/**
 * The device client credential of a request, checked: signature, expiry and revocation.
 * Undefined when the request carries none; a 401 when none of those it carries is good.
 * `bearerOnly`: cookies are not looked at (a launch never binds what a browser brought along).
 */
export async function deviceCredential(
  request: FastifyRequest,
  context: ApiContext,
  options: { allowExpired?: boolean; tenantId?: string; bearerOnly?: boolean } = {},
): Promise<DeviceCredential | undefined> {
  const bearer = bearerToken(request);
  const tokens = options.bearerOnly ? (bearer === undefined ? [] : [bearer]) : presentedTokens(request, context, options.tenantId);
  if (tokens.length === 0) return undefined;
  for (const token of tokens) {
    const check = context.tokens.verify(token, Date.now(), options);
    if (!check.ok) continue;
    const client = await context.gateway.deviceClient(check.claims.sub);
    if (client && client.revokedAt === null) return { deviceClientId: client.deviceClientId, tenantId: client.tenantId, refreshUntil: client.refreshUntil };
  }
  throw unauthorized();
}

/**
 * The binding this request's device key proves for the session (see deviceKeyBinding): of every
 * cookie of the session's name, the first this api minted for this session; a planted one (a
 * key of another session, a made-up one) never is.
 */
export function sessionKeyBinding(request: FastifyRequest, context: ApiContext, sessionId: string): string | undefined {
  const name = sessionKeyCookie(sessionId, servedOverHttps(request, context.config));
  const key = cookieValues(request.headers.cookie, name).find((value) => context.gateway.isMintedFor(sessionId, value));
  return key === undefined ? undefined : deviceKeyBinding(key);
}

/**
 * The device a request speaks for on a session: a bearer credential's device client, else the
 * session's device key, else a device client cookie (sessions launched before device keys).
 */
export async function requestDevice(request: FastifyRequest, context: ApiContext, sessionId: string, tenantId: string): Promise<string | undefined> {
  if (bearerToken(request) === undefined) {
    const key = sessionKeyBinding(request, context, sessionId);
    if (key !== undefined) return key;
  }
  return (await deviceCredential(request, context, { tenantId }))?.deviceClientId;
}
