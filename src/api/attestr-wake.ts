/**
 * Routing Attestr's webhook to the session waiting on it: the handshake's tag names the session
 * by its ref (sessions from before: by their id, see legacy-sessions.ts), and the session is only
 * woken; it fetches and verifies the result itself.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { attestrResultSignal } from '../contract/session';
import { isSessionRef, sessionWorkflowIdOfRef } from '../contract/workflow-ids';
import { KeyDestroyedError } from '../keys/key-store';
import { legacyWorkflowIdOfTag } from './legacy-sessions';
import { SessionNotFoundError } from './session-errors';

/** Wakes the session `ref` names; an unknown or malformed one is a SessionNotFoundError. */
export async function wakeForAttestr(client: Client, ref: string): Promise<void> {
  const workflowId = isSessionRef(ref) ? sessionWorkflowIdOfRef(ref) : legacyWorkflowIdOfTag(ref);
  if (workflowId === null) throw new SessionNotFoundError('session not found');
  try {
    await client.workflow.getHandle(workflowId).signal(attestrResultSignal);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || err instanceof KeyDestroyedError) throw new SessionNotFoundError('session not found');
    throw err;
  }
}
