/**
 * Writes the session's end to the funnel once, when it ends (consumed or expired): one record
 * built from its own state (journey.ts), through the `recordSessionEnd` local activity. Local:
 * one marker in history, in the workflow task that ended the session, instead of an activity's
 * three events and a workflow task of its own (docs/guides/funnel.md weighs the cost). The store
 * keeps one record per workflow id, so a retried attempt never counts twice; a replay reads the
 * marker and calls nothing.
 */
import { ActivityFailure, condition, proxyLocalActivities } from '@temporalio/workflow';
import type { FunnelActivities } from '../../contract/funnel';
import { sessionEnd } from './journey';
import type { SessionModel } from './model';

// Retried by Temporal until the store answers, however long: the workflow waits for the write
// before it continues as new or closes, so an outage of the store delays the record, never drops it.
const funnel = proxyLocalActivities<FunnelActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['FunnelRecordInvalid'] },
});

export class FunnelRecorder {
  /** The end is written, or is not for this session to write (a run before wrote it). */
  private settled = false;

  constructor(private readonly session: SessionModel) {}

  /** A recorder waiting for the session to end (in the background, as the webhook pump runs). */
  static start(session: SessionModel): FunnelRecorder {
    const recorder = new FunnelRecorder(session);
    void recorder.run();
    return recorder;
  }

  /** Nothing left to write: continue-as-new and the close wait for it. */
  get drained(): boolean {
    return this.session.isLive || this.settled;
  }

  async run(): Promise<void> {
    const { session } = this;
    await condition(() => !session.isLive);
    try {
      if (session.state.funnelWritten) return;
      await funnel.recordSessionEnd(sessionEnd(session));
      session.funnelWritten();
    } catch (err) {
      // Only a record the store refuses as invalid ends here (a bug, in the worker's log): the session goes on.
      if (!(err instanceof ActivityFailure)) throw err;
    } finally {
      this.settled = true;
    }
  }
}
