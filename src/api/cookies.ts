/**
 * The api's cookies: their names, whether they are Secure, and reading every value of a name.
 *
 * Served over HTTPS (PUBLIC_URL says https, or, without one, the request came over TLS or
 * through a TRUSTED_PROXIES proxy whose X-Forwarded-Proto says https; never the Host header),
 * every cookie is Secure and named `__Host-…`: a browser takes such a cookie only from this very
 * origin over HTTPS, without a Domain, so a sibling subdomain or a network without HSTS cannot
 * plant one (docs/security/device-binding.md).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config';

const HOST_PREFIX = '__Host-';

export function servedOverHttps(request: FastifyRequest, config: Config): boolean {
  const { publicUrl } = config.api;
  if (publicUrl !== undefined) return new URL(publicUrl).protocol === 'https:';
  // Fastify reads X-Forwarded-Proto only from a configured trusted proxy (app.ts trustProxy).
  return request.protocol === 'https';
}

/** `name` as this request's cookie is named: `__Host-<name>` over HTTPS. */
export function cookieName(name: string, secure: boolean): string {
  return secure ? `${HOST_PREFIX}${name}` : name;
}

/**
 * Every value of the cookie `name` in a Cookie header, in the order sent. Browsers send one per
 * (domain, path) a cookie of that name was set for, so one set elsewhere (a parent domain) may
 * come first: callers try each, and prefer none for its place.
 */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) values.push(value.join('='));
  }
  return values;
}

/** Adds a cookie to the answer (other Set-Cookie headers stay); `maxAgeSeconds` 0 clears it. */
export function setCookie(reply: FastifyReply, name: string, value: string, options: { maxAgeSeconds: number; secure: boolean; sameSite: 'Strict' | 'Lax' }): void {
  const attributes = [`${name}=${value}`, 'Path=/', 'HttpOnly', `SameSite=${options.sameSite}`, `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, ...(options.secure ? ['Secure'] : [])];
  reply.header('set-cookie', attributes.join('; '));
}
