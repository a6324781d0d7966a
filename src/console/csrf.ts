/**
 * The console's forms against cross-site requests, two checks that must both pass:
 *
 * - a cookie of its own, `sessionflow_console_csrf`: 256 random bits, HttpOnly, SameSite=Strict
 *   (a form posted from another site does not carry it), Path=/console; each form carries the
 *   SHA-256 of it, which a page of another origin can neither read nor compute;
 * - the Origin header: a POST must name this server's own origin.
 *
 * Apart from the codec server's sign-in cookie, which proves who the operator is, not where a
 * form came from.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sameOrigin } from '../keys/codec-sign-in';
import { CONSOLE_PREFIX } from './html';

export const CSRF_COOKIE = 'sessionflow_console_csrf';
/** The form field carrying the cookie's hash. */
export const CSRF_FIELD = 'csrf';
const MAX_AGE_SECONDS = 8 * 3600;

function cookieValue(request: FastifyRequest): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, value] = part.trim().split('=');
    if (key === CSRF_COOKIE && value && /^[A-Za-z0-9_-]{43}$/.test(value)) return value;
  }
  return null;
}

const digest = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** The token the page's forms carry: from the browser's cookie, set now when it has none. */
export function formToken(request: FastifyRequest, reply: FastifyReply): string {
  let value = cookieValue(request);
  if (!value) {
    value = randomBytes(32).toString('base64url');
    const secure = request.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', `${CSRF_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=${CONSOLE_PREFIX}; Max-Age=${MAX_AGE_SECONDS}${secure}`);
  }
  return digest(value);
}

/** Whether a posted form came from a console page of this server. */
export function formAccepted(request: FastifyRequest, token: unknown): boolean {
  const value = cookieValue(request);
  if (!value || typeof token !== 'string' || !sameOrigin(request)) return false;
  const expected = Buffer.from(digest(value));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
