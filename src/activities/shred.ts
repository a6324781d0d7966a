/**
 * Destroys an archived session's data key once its workflow has closed. Until then the key is
 * still needed (a running workflow replays its history, which only the key decodes), so the
 * activity fails with a retryable SessionStillOpen and Temporal tries again.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** The part of the key store shredding needs. */
export interface KeyDestroyer {
  destroy(keyId: string): Promise<unknown>;
}

export class SessionShredder {
  constructor(
    private readonly temporal: Client,
    private readonly keys: KeyDestroyer,
    /** The data key id of the session that lives under a workflow id (null: not a session's). */
    private readonly keyIdOf: (sessionWorkflowId: string) => string | null,
  ) {}

  async destroyWhenClosed(sessionWorkflowId: string): Promise<{ destroyed: string | null }> {
    try {
      // Describe reads no payload the session's key encoded: it works however long this takes.
      const { status } = await this.temporal.workflow.getHandle(sessionWorkflowId).describe();
      if (status.name === 'RUNNING') throw ApplicationFailure.retryable('the session workflow has not closed yet', 'SessionStillOpen');
    } catch (err) {
      // Gone from Temporal (its namespace retention passed): closed long ago.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    const keyId = this.keyIdOf(sessionWorkflowId);
    if (keyId) await this.keys.destroy(keyId);
    return { destroyed: keyId };
  }
}
