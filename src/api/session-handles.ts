/** The api's handles on session workflows, named by session id (never handed to Temporal as such). */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { StatusView as WorkflowStatusView } from '../contract/session';
import type { sessionWorkflow } from '../workflows/session';
import { sessionWorkflowId } from '../session-secret';
import { retryUnderLegacyId } from './legacy-sessions';
import { SessionNotFoundError } from './session-errors';
import { isSessionId } from './session-ids';

export type SessionHandle = WorkflowHandle<typeof sessionWorkflow>;

/** A session as the api answers it: the workflow's view plus the session id, which the workflow never holds. */
export type StatusView = WorkflowStatusView & { sessionId: string };

/** The session's workflow handle; an id without a session id's shape is not found (and never reaches Temporal). */
export function sessionHandle(client: Client, sessionId: string): SessionHandle {
  if (!isSessionId(sessionId)) throw new SessionNotFoundError('session not found');
  return client.workflow.getHandle<typeof sessionWorkflow>(sessionWorkflowId(sessionId));
}

/** Runs `operation` on the session's workflow (for sessions from before, see legacy-sessions.ts). */
export function onSession<T>(client: Client, sessionId: string, operation: (handle: SessionHandle) => Promise<T>): Promise<T> {
  return retryUnderLegacyId(client, sessionId, operation, () => operation(sessionHandle(client, sessionId)));
}
