/**
 * One outbox per session with webhooks on: events arrive by signal in the session's order and
 * are delivered one after another, so a receiver sees them in that order. Each delivery is
 * retried by Temporal on the schedules below for up to three days; a 429's Retry-After is
 * honoured; a 410 stops all further deliveries. The session never waits for any of it.
 */
import { ActivityFailure, ApplicationFailure, condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { notDecryptedBecause } from '../util/json';
import { closeOutboxSignal, webhookEventSignal, type WebhookEvent, type WebhookOutboxInput } from '../contract/webhook-outbox';
import { declareVersioningBehavior } from './versioning';

// Two schedules. A receiver's failure (network error, non-2xx) sets its own delay: the documented
// schedule, 5 s then ×3 each time (15 s, 45 s, 2¼ min, 6¾ min, 20 min, 1 h, 3 h), then every 6 h,
// counted from the first attempt, or a 429's Retry-After. The policy below is for our side's
// failures: a worker that died mid-attempt (noticed by the heartbeat within 10 s) or a session
// result not readable yet, retried after 1 s, doubling to 1 min (a delay an activity's failure
// asks for is not capped by that maximum: the webhooks test checks it). The start-to-close timeout
// covers the result read (20 s) and the request (its timeouts add up to 35 s); a dead worker is
// the heartbeat's to notice. All end three days after the first attempt.
const deliveries = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['WebhookGone'] },
});

export interface OutboxSummary {
  delivered: number;
  failed: number;
  gone: boolean;
}

export async function webhookOutboxWorkflow(input: WebhookOutboxInput): Promise<OutboxSummary> {
  const queue: WebhookEvent[] = [...(input.queue ?? [])];
  const seen = new Set(queue.map((event) => event.id));
  let closed = input.closed ?? false;
  let gone = input.gone ?? false;
  const summary: OutboxSummary = { delivered: 0, failed: 0, gone };

  setHandler(webhookEventSignal, (event) => {
    // What the worker could not decrypt (src/keys/codec.ts) is no event of the session's.
    if (notDecryptedBecause(event) === 'undecryptable' || gone || seen.has(event.id)) return;
    seen.add(event.id);
    queue.push(event);
  });
  setHandler(closeOutboxSignal, () => {
    closed = true;
  });

  for (;;) {
    await condition(() => queue.length > 0 || closed);
    if (queue.length === 0) break;
    if (workflowInfo().continueAsNewSuggested) {
      return await continueAsNew<typeof webhookOutboxWorkflow>({ ...input, queue, closed, gone });
    }
    const event = queue[0];
    try {
      const outcome = await deliveries.deliverWebhook({
        clientId: input.clientId,
        event,
        ...(input.sealedSessionId ? { sealedSessionId: input.sealedSessionId } : { sessionId: input.sessionId }),
      });
      if (outcome.delivered) summary.delivered += 1;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      summary.failed += 1;
      if (err.cause instanceof ApplicationFailure && err.cause.type === 'WebhookGone') {
        gone = true;
        summary.gone = true;
        queue.length = 0;
        continue;
      }
    }
    queue.shift();
  }
  return summary;
}

/**
 * Auto-upgrade: an outbox may retry a delivery for three days and outlive its session, so it
 * moves to each new build at its next task instead of keeping an old one alive. Its changes need
 * patched().
 */
declareVersioningBehavior('AUTO_UPGRADE', webhookOutboxWorkflow);
