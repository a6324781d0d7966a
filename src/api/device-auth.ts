/**
 * Device client credentials on a request (Clerk shape): the Authorization bearer token, else
 * a cookie, checked for signature, expiry and revocation. Browsers hold one credential per
 * tenant, `__client_<tenant id>` (the hosted page sets it), so one browser can run sessions of
 * two tenants; `__client` is the cookie of the Clerk-shaped /v1/client routes.
 */
import type { FastifyRequest } from 'fastify';
import type { ApiContext } from './context';
import { DeviceError } from './errors';

export const CLIENT_COOKIE = '__client';

/** The cookie of a tenant's credential; client ids (letters, digits, `_.-`) are valid cookie names. */
export function tenantCookie(tenantId: string): string {
  return `${CLIENT_COOKIE}_${tenantId}`;
}

export interface DeviceCredential {
  deviceClientId: string;
  tenantId: string;
  refreshUntil: number;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/**
 * The credential a request carries: the Authorization bearer token, else the tenant's cookie
 * when the tenant is known, else `__client`.
 */
export function presentedToken(request: FastifyRequest, tenantId?: string): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (match) return match[1];
  const own = tenantId === undefined ? undefined : cookieValue(request.headers.cookie, tenantCookie(tenantId));
  return own ?? cookieValue(request.headers.cookie, CLIENT_COOKIE);
}

export function unauthorized(): DeviceError {
  return new DeviceError(401, 'authentication_error', 'invalid_client_credential', 'The client credential is missing, invalid, expired or revoked');
}

/**
 * The device credential of a request, checked: signature, expiry and revocation. Undefined
 * when the request carries none; a 401 when it carries a bad one.
 */
export async function deviceCredential(
  request: FastifyRequest,
  context: ApiContext,
  options: { allowExpired?: boolean; tenantId?: string } = {},
): Promise<DeviceCredential | undefined> {
  const token = presentedToken(request, options.tenantId);
  if (token === undefined) return undefined;
  const check = context.tokens.verify(token, Date.now(), options);
  if (!check.ok) throw unauthorized();
  const client = await context.gateway.deviceClient(check.claims.sub);
  if (!client || client.revokedAt !== null) throw unauthorized();
  return { deviceClientId: client.deviceClientId, tenantId: client.tenantId, refreshUntil: client.refreshUntil };
}
