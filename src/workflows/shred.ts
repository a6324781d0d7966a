/**
 * Crypto-shredding of one archived session. Its own workflow, whose payloads use the namespace
 * key (they hold only a workflow id), because the session's workflow cannot destroy its own key:
 * its completion is encoded with that key, and replaying it needs the key until it has closed.
 * The activity waits (by retrying) until the session's workflow is closed, then destroys the key.
 */
import { proxyActivities, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ShredInput } from '../contract/shred';
import { shredWorkflowId } from '../contract/workflow-ids';
import { declareVersioningBehavior } from './versioning';

// Retried until the session has closed (it closes right after its archive) and the key store
// answers; no attempt limit: a key that must be destroyed is never given up on.
const keys = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function shredSessionWorkflow(input: ShredInput): Promise<void> {
  await keys.destroySessionKey({ sessionWorkflowId: input.sessionWorkflowId });
}

/**
 * Auto-upgrade: it may retry for as long as the key store is down; it moves to each new build
 * instead of keeping an old one alive. Its changes need patched().
 */
declareVersioningBehavior('AUTO_UPGRADE', shredSessionWorkflow);

/** Started by an archived session as it closes; abandoned, so it outlives the session. */
export async function startShredder(ref: string, sessionWorkflowId: string): Promise<void> {
  try {
    await startChild(shredSessionWorkflow, {
      workflowId: shredWorkflowId(ref),
      args: [{ sessionWorkflowId }],
      parentClosePolicy: 'ABANDON',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
