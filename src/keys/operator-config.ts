/**
 * Who may do what is audited too. The codec server authenticates operators, so when it starts
 * with an operators' configuration unlike the last one the trail saw (the very first start
 * included), it records `operator.config_change` before it serves anything. The record holds
 * the configuration's digest (src/operators/registry.ts) and how many operators hold each role:
 * no name beyond the actor, nothing of a credential.
 */
import { MAX_QUERY_LIMIT } from '../audit/record';
import type { AuditTrail } from '../audit/trail';
import type { OperatorRegistry } from '../operators/registry';
import { OPERATOR_ROLES } from '../operators/roles';

/** Records the configuration if it changed since the trail last saw it; true when it did. */
export async function auditOperatorConfig(audit: AuditTrail, operators: OperatorRegistry): Promise<boolean> {
  // Oldest first: the last of them is the configuration in force until now (there are few).
  const seen = await audit.query({ action: 'operator.config_change', limit: MAX_QUERY_LIMIT });
  if (seen.at(-1)?.detail?.digest === operators.configDigest) return false;
  const roles = Object.fromEntries(OPERATOR_ROLES.map((role) => [role, operators.operators.filter((operator) => operator.role === role).length]));
  await audit.record({ actor: 'system:codec', action: 'operator.config_change', refs: [], detail: { digest: operators.configDigest, ...roles } });
  return true;
}
