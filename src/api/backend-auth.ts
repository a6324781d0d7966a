/**
 * What every backend-authenticated route does first: Basic auth with the tenant client's
 * credentials (4016 otherwise), then the client's rate limits (4291/4293 with Retry-After).
 */
import type { FastifyInstance } from 'fastify';
import type { TenantClient } from '../tenants/registry';
import type { ApiContext } from './context';
import { BackendError } from './errors';

/** The client's limits, or the defaults where its config sets none. */
export function limitsOf(client: TenantClient, context: ApiContext): { perSecond: number; perDay: number } {
  return { perSecond: client.perSecond ?? context.limits.perSecond, perDay: client.perDay ?? context.limits.perDay };
}

export function requireBackendClient(app: FastifyInstance, context: ApiContext): void {
  app.addHook('onRequest', async (request) => {
    const client = context.clients.authenticateBasic(request.headers.authorization);
    if (!client) throw new BackendError(4016);
    const verdict = await context.limiter.check(client.id, limitsOf(client, context));
    if (!verdict.ok) throw new BackendError(verdict.code, undefined, { retryAfterSeconds: verdict.retryAfterSeconds });
    request.tenant = client;
  });
}
