/**
 * What every backend-authenticated route does first: Basic auth with the tenant client's
 * credentials (4016 otherwise), then the client's rate limits (4291/4293 with Retry-After).
 */
import type { FastifyInstance } from 'fastify';
import type { TenantClient } from '../tenants/registry';
import type { ApiContext } from './context';
import { BackendError } from './errors';

/** The client's limits, or the defaults where its config sets none. */
export function limitsOf(tenant: TenantClient, context: ApiContext): { perSecond: number; perDay: number } {
  return { perSecond: tenant.perSecond ?? context.limits.perSecond, perDay: tenant.perDay ?? context.limits.perDay };
}

export function requireBackendClient(app: FastifyInstance, context: ApiContext): void {
  app.addHook('onRequest', async (request) => {
    const tenant = context.clients.authenticateBasic(request.headers.authorization);
    if (!tenant) throw new BackendError(4016);
    const verdict = await context.limiter.check(tenant.id, limitsOf(tenant, context));
    if (!verdict.ok) throw new BackendError(verdict.code, undefined, { retryAfterSeconds: verdict.retryAfterSeconds });
    request.tenant = tenant;
  });
}
