/**
 * LEGACY: sessions started before session ids were hashed out of Temporal live under the id
 * itself (`DS…`), not under `session-<ref>`. This file is the api's only way to them. Delete it
 * once no such session remains (docs/guides/operating.md, "Legacy sessions" says how to check):
 * session-handles.ts `onSession` then runs its operation on the hashed id only, attestr-wake.ts
 * takes refs only, and session-reads.ts lists only sessions whose memo holds their sealed id.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { legacySessionWorkflowId } from '../contract/workflow-ids';
import type { sessionWorkflow } from '../workflows/session';
import { isSessionId } from './session-ids';

/** Runs `operation` (which failed as not found under the session's hashed workflow id) again under its own id. */
export async function retryUnderLegacyId<T>(
  client: Client,
  sessionId: string,
  operation: (handle: WorkflowHandle<typeof sessionWorkflow>) => Promise<T>,
  hashed: () => Promise<T>,
): Promise<T> {
  try {
    return await hashed();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return operation(client.workflow.getHandle<typeof sessionWorkflow>(legacySessionWorkflowId(sessionId)));
}

/** An Attestr tag written by a session from before names it by its id: its legacy workflow id, or null. */
export function legacyWorkflowIdOfTag(tag: string): string | null {
  return isSessionId(tag) ? legacySessionWorkflowId(tag) : null;
}

/** A listed session whose memo holds no sealed id is one from before: its workflow id is its session id. */
export function sessionIdOfLegacyWorkflowId(workflowId: string): string {
  return workflowId;
}
