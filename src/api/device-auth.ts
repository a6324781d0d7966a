/**
 * Device client credentials on a request (Clerk shape): the Authorization bearer token, else
 * the `__client` cookie, checked for signature, expiry and revocation.
 */
import type { FastifyRequest } from 'fastify';
import type { ApiContext } from './context';
import { DeviceError } from './errors';

export const CLIENT_COOKIE = '__client';

export interface DeviceCredential {
  deviceClientId: string;
  tenantId: string;
  refreshUntil: number;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** The credential a request carries: the Authorization bearer token, else the cookie. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match ? match[1] : cookieValue(request.headers.cookie, CLIENT_COOKIE);
}

export function unauthorized(): DeviceError {
  return new DeviceError(401, 'authentication_error', 'invalid_client_credential', 'The client credential is missing, invalid, expired or revoked');
}

/**
 * The device credential of a request, checked: signature, expiry and revocation. Undefined
 * when the request carries none; a 401 when it carries a bad one.
 */
export async function deviceCredential(request: FastifyRequest, context: ApiContext, options: { allowExpired?: boolean } = {}): Promise<DeviceCredential | undefined> {
  const token = presentedToken(request);
  if (token === undefined) return undefined;
  const check = context.tokens.verify(token, Date.now(), options);
  if (!check.ok) throw unauthorized();
  const client = await context.gateway.deviceClient(check.claims.sub);
  if (!client || client.revokedAt !== null) throw unauthorized();
  return { deviceClientId: client.deviceClientId, tenantId: client.tenantId, refreshUntil: client.refreshUntil };
}
