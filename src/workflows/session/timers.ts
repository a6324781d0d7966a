/**
 * The session's durable timers: its expiry, and the `after` delays of the stage it is in,
 * measured from when the stage was entered. Each is a Temporal timer in a cancellation scope
 * of its own; what a timer does when it fires is the runner's (TimerHandlers).
 */
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import { DEFAULT_RETENTION_SECONDS } from '../../contract/session-state';
import { timersOf, type FlowTimer } from '../../flows/core/engine';
import type { SessionModel } from './model';

export interface TimerHandlers {
  /** A delay of the stage entered at `entry` passed. */
  stageTimer(stageId: string, entry: number, timer: FlowTimer): Promise<void>;
  /** The SLA of the review stage entered at `entry` passed. */
  reviewOverdue(stageId: string, entry: number): void;
  /** The session's expiry passed. */
  expired(): void;
  /** The client's retention passed since the session ended. */
  retentionPassed(): void;
}

/** What the runner asks of the timers. */
export interface SessionClock {
  /** Cancels the previous stage's timers and starts the current stage's. */
  armStage(): void;
  armExpiry(): void;
  cancelExpiry(): void;
  /** Starts the retention timer once the session is consumed or expired (once per run). */
  armRetention(): void;
}

function ignoreCancellation(err: unknown): void {
  if (!isCancellation(err)) throw err;
}

export class SessionTimers implements SessionClock {
  private stage: CancellationScope | null = null;
  private expiry: CancellationScope | null = null;
  private retention: CancellationScope | null = null;

  constructor(
    private readonly session: SessionModel,
    private readonly on: TimerHandlers,
  ) {}

  armStage(): void {
    const { state } = this.session;
    this.stage?.cancel();
    this.stage = null;
    // Stage time runs once a device has the session: a created session only waits for launch.
    const timers = state.status === 'in_progress' ? timersOf(this.session.machine, state.stage) : [];
    // A review's SLA, from its due time in the state: re-armed as it was after continue-as-new.
    const { review } = state;
    const sla = state.status === 'in_progress' && review && review.entry === state.entry && review.dueAt !== null && !review.overdue && !review.decided ? review.dueAt : null;
    if (timers.length === 0 && sla === null) return;
    const stageId = state.stage;
    const entry = state.entry;
    const scope = new CancellationScope();
    this.stage = scope;
    if (sla !== null) {
      scope
        .run(() => sleep(Math.max(1, sla - Date.now())))
        .then(() => this.on.reviewOverdue(stageId, entry))
        .catch(ignoreCancellation);
    }
    for (const timer of timers) {
      const remaining = Math.max(1, state.enteredAt + timer.delayMs - Date.now());
      scope
        .run(() => sleep(remaining))
        .then(() => this.on.stageTimer(stageId, entry, timer))
        .catch(ignoreCancellation);
    }
  }

  armExpiry(): void {
    if (!this.session.isLive) return;
    const scope = new CancellationScope();
    this.expiry = scope;
    scope
      .run(() => sleep(Math.max(1, this.session.input.expiresAt - Date.now())))
      .then(() => this.on.expired())
      .catch(ignoreCancellation);
  }

  cancelExpiry(): void {
    this.expiry?.cancel();
    this.expiry = null;
  }

  /**
   * A consumed or expired session archives itself after its client's retention, measured from
   * when it ended. A session that ended before retention existed carries `retention: false` in
   * its state across continue-as-new: it keeps waiting for an explicit archive.
   */
  armRetention(): void {
    const { input, state } = this.session;
    if ((state.status !== 'consumed' && state.status !== 'expired') || this.retention) return;
    state.retention ??= true;
    if (!state.retention) return;
    const retentionMs = input.retentionMs ?? DEFAULT_RETENTION_SECONDS * 1000;
    const scope = new CancellationScope();
    this.retention = scope;
    scope
      .run(() => sleep(Math.max(1, (state.endedAt ?? Date.now()) + retentionMs - Date.now())))
      .then(() => this.on.retentionPassed())
      .catch(ignoreCancellation);
  }
}
