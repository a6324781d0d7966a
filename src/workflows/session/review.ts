/**
 * A session in a review stage: its SLA passing, and a reviewer's decision (the decideReview
 * update). Exactly one decision per review: the handler takes the decision into the session's
 * state before its first await, so a second decision delivered in the same workflow task (or
 * later) is refused by its validator as already decided. The decision's proof (made by the
 * codec server's operator route, docs/security/operators-and-codec.md) is checked by the worker;
 * one that does not hold gives the review back and is refused, recorded in history.
 */
import type { FlowEvent } from '../../flows/core/engine';
import { inboundRefusedFailure } from '../../contract/session';
import { REVIEW_EVENTS, REVIEW_REFUSALS, type ReviewAnswer, type ReviewDecisionArgs, type ReviewSearchValue, type ReviewView } from '../../contract/review';
import { refuse, type SessionModel } from './model';
import type { WebhookEventType } from '../../contract/webhook-outbox';

/** Where the review's webhook events go (the runner's SessionEvents, the WebhookPump). */
interface ReviewEvents {
  emit(type: WebhookEventType, extra?: Record<string, unknown>): void;
}

/** What a decision needs of the workflow: its proof checked by the worker, and the runner's moves. */
export interface ReviewEffects {
  proveReview(args: ReviewDecisionArgs): Promise<boolean>;
  move(from: string, event: FlowEvent): void;
  publish(): void;
  settle(): Promise<void>;
}

/** The SessionReview search attribute's value: pending or overdue while a review waits, else unset. */
export function reviewSearchValue(session: SessionModel): ReviewSearchValue | null {
  const review = session.state.review;
  if (!review || review.decided || !session.isAt(review.stage, review.entry)) return null;
  return review.overdue ? 'overdue' : 'pending';
}

/** What the reviewer sees of the case: the values the stage's `show` paths name, and nothing else. */
export function reviewView(session: SessionModel): ReviewView {
  const { state } = session;
  const review = state.review && session.isAt(state.review.stage, state.review.entry) ? state.review : null;
  const info = review ? session.currentStage()?.review : undefined;
  const shown: Record<string, unknown> = {};
  for (const path of info?.show ?? []) {
    let value: unknown = state.result;
    for (const key of path.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    shown[path] = value ?? null;
  }
  return {
    stage: review?.stage ?? null,
    entry: review?.entry ?? state.entry,
    status: state.status,
    dueAt: review?.dueAt ?? null,
    overdue: review?.overdue ?? false,
    reasons: info?.reasons ?? [],
    shown,
    decided: review?.decided ?? null,
  };
}

export class ReviewDesk {
  constructor(
    private readonly session: SessionModel,
    private readonly events: ReviewEvents,
    private readonly effects: ReviewEffects,
  ) {}

  /** The SLA of the review at `stageId`/`entry` passed: the session becomes findable as overdue, and its tenant is told. */
  overdue(stageId: string, entry: number): void {
    const review = this.session.state.review;
    if (!review || review.decided || review.overdue || !this.session.isAt(stageId, entry)) return;
    this.session.markReviewOverdue();
    this.events.emit('session.review_overdue', { stage: stageId, dueAt: review.dueAt });
    this.effects.publish();
  }

  async decide(args: ReviewDecisionArgs): Promise<ReviewAnswer> {
    const { session } = this;
    const { state } = session;
    // The validator checked it; this is the handler's own guard of exactly-once.
    if (!state.review || state.review.decided || !session.isAt(args.stage, args.entry)) refuse(REVIEW_REFUSALS.ALREADY_DECIDED, 'this review was already decided');
    const decided = { decision: args.decision, reason: args.reason ?? null, operator: args.operator, decidedAt: Date.now() };
    session.decideReview(decided); // before any await: a concurrent decision sees it taken
    session.exclusive.take();
    try {
      if (!(await this.effects.proveReview(args))) {
        session.decideReview(null);
        // Its SLA may have passed while the review was held for this check: the timer found it taken.
        const { dueAt } = state.review;
        if (dueAt !== null && Date.now() >= dueAt) this.overdue(args.stage, args.entry);
        throw inboundRefusedFailure({ message: 'decideReview', reason: 'unproven' });
      }
      const event = REVIEW_EVENTS[args.decision];
      session.record(args.stage, {}, { decision: args.decision, reason: decided.reason });
      this.events.emit('session.step_completed', { stage: args.stage, stepCount: state.stepCount, event });
      this.effects.move(args.stage, { type: event, input: { decision: args.decision, reason: decided.reason } });
      this.effects.publish();
      await this.effects.settle();
    } finally {
      session.exclusive.release();
      this.effects.publish();
    }
    return { ...decided, stage: args.stage, next: session.isLive ? state.stage : null, status: state.status };
  }
}
