/**
 * Destroys an archived session's data key once its workflow has closed. Until then the key is
 * still needed (a running workflow replays its history, which only the key decodes), so the
 * activity fails with a retryable SessionStillOpen and Temporal tries again. The destruction is
 * audited (intent, destroy, outcome) under the session's reference; an audit that cannot be
 * written fails the attempt before the key is touched, and Temporal retries it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AuditTrail } from '../audit/trail';

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
    private readonly audit: Pick<AuditTrail, 'audited'>,
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
    if (keyId) {
      // The key id is `session-<ref>`: the record names the reference, as every other record does.
      const ref = keyId.slice(keyId.indexOf('-') + 1);
      await this.audit.audited({ actor: 'system:shredder', action: 'key.shred', refs: /^[0-9a-f]{32}$/.test(ref) ? [ref] : [] }, () => this.keys.destroy(keyId));
    }
    return { destroyed: keyId };
  }
}
