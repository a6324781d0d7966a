/**
 * Visibility list queries over sessions, built in one place: every value is quoted here, and the
 * search attribute names come from the contract. Visibility is a moment behind the sessions.
 */
import type { SessionStatus } from '../contract/session';
import { ClientIdKey, SessionStatusKey, SessionTagKey } from '../contract/session-search';

const SESSION_TYPE = `WorkflowType = 'sessionWorkflow'`;

/** A string literal for a visibility list query. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A tenant's sessions with this tag in these statuses. */
export function taggedSessionsQuery(tenantId: string, tag: string, statuses: readonly SessionStatus[]): string {
  return `${ClientIdKey.name} = ${quote(tenantId)} AND ${SessionTagKey.name} = ${quote(tag)} AND ${SessionStatusKey.name} IN (${statuses.map(quote).join(', ')}) AND ${SESSION_TYPE}`;
}

/**
 * The sessions of a task queue in one status. Running and completed runs only: a continued-as-new
 * run is counted by its successor, and a terminated or timed-out one is no session any more,
 * whatever status it last reported.
 */
export function statusCountQuery(taskQueue: string, status: SessionStatus): string {
  return `${SESSION_TYPE} AND TaskQueue = ${quote(taskQueue)} AND ExecutionStatus IN ('Running', 'Completed') AND ${SessionStatusKey.name} = ${quote(status)}`;
}
