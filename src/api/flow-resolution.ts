/**
 * Which flow definition a new session runs, for every route that creates sessions (backend
 * creates, backend events), with the documented errors.
 */
import type { FlowCatalog } from '../flows/catalog';
import type { FlowDefinition } from '../flows/core/types';
import type { TenantClient } from '../tenants/registry';
import { BackendError } from './errors';

export const WEBHOOK_NEEDS_ENDPOINT = "webhook: true needs the client's webhookUrl and webhookSecret";

/**
 * 4002's details for a flow whose file failed to load: clearer than "does not exist" for the
 * tenant, with nothing of the file's problems (those are the operator's: `npm run flows:status`).
 */
export const FLOW_FAILED_TO_LOAD = "the flow is not available: its definition failed to load; ask the operator";

export function hasWebhookEndpoint(tenant: TenantClient): boolean {
  return Boolean(tenant.webhookUrl && tenant.webhookSecret);
}

/** The definition a new session runs, or the documented error: 4002 (with details when its file failed to load), 40034 or 4001. */
export function resolveFlow(catalog: FlowCatalog, flowId: string, snapshot: string | null): FlowDefinition {
  const resolved = catalog.resolve(flowId, snapshot);
  if (resolved.ok) return resolved.definition;
  if (resolved.reason === 'unknown_flow') throw new BackendError(4002);
  if (resolved.reason === 'unavailable_flow') throw new BackendError(4002, FLOW_FAILED_TO_LOAD);
  if (resolved.reason === 'inactive_flow') throw new BackendError(40034);
  throw new BackendError(4001, `flow ${flowId} has no snapshot ${snapshot}`);
}
