/** Where the hosted flow page lives: one path per session, under the api's public base URL. */
import type { FastifyRequest } from 'fastify';
import type { ApiContext } from '../context';

export const HOSTED_PREFIX = '/flow';
/** The page's own files (script, styles), served by the api: no third-party requests. */
export const HOSTED_ASSETS = '/hosted';
/** The page's icon (an SVG the api serves), also answered at /favicon.ico, where browsers look by default. */
export const FAVICON = `${HOSTED_ASSETS}/favicon.svg`;

/**
 * The hosted page of a session. PUBLIC_URL when configured; otherwise the origin the request
 * came to (`make start` and tests on loopback), which production must not rely on.
 */
export function hostedPageUrl(context: ApiContext, request: FastifyRequest, sessionId: string): string {
  const base = context.config.api.publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base}${HOSTED_PREFIX}/${encodeURIComponent(sessionId)}`;
}
