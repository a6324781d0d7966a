/**
 * Step handling: what launch, a device step, a backend event, a stage timer and the expiry do
 * to a session, in order. What each transition changes is the SessionModel's, which makes every
 * change (what may be accepted at all is the validators', validators.ts); the Temporal calls
 * (search attributes, activities, timers) come in through RunnerEffects (effects.ts), so this
 * class runs in unit tests as it runs in the workflow.
 */
import { needsPreparation, type FlowEvent, type FlowTimer, type StageInfo } from '../../flows/core/engine';
import {
  DEVICE_STATUS,
  inboundRefusedFailure,
  type BackendEventArgs,
  type ExpireArgs,
  type LaunchAnswer,
  type LaunchArgs,
  type ResumeArgs,
  type SessionStatus,
  type StatusView,
  type StepAnswer,
  type StepArgs,
} from '../../contract/session';
import type { SearchPosition } from '../../contract/session-search';
import type { StageError } from '../../contract/session-state';
import type { WebhookEventType } from '../../contract/webhook-outbox';
import type { ReviewAnswer, ReviewDecisionArgs, ReviewSearchValue } from '../../contract/review';
import type { StageContext, StageOutcome } from '../providers';
import { AttestrWakeups, type FetchAttestrResult, type WakeOutcome } from './attestr-wakeups';
import { ReviewDesk, reviewSearchValue } from './review';
import type { SessionModel } from './model';
import { nextNonceOf } from './nonces';
import { isBack, providerEvent, routedInputError } from './routing';
import type { SessionClock, TimerHandlers } from './timers';
import { currentDetails, statusView } from './views';

/**
 * Failures the device can retry: the stage stays where it is and the session stays in progress
 * (a result that does not verify, or one that has not arrived yet), instead of taking ERROR.
 */
export const DEVICE_RETRYABLE: ReadonlySet<string> = new Set(['ProviderSignatureInvalid', 'ProviderResultPending']);

export interface RunnerEffects {
  /** The Temporal UI's current details. */
  showDetails(text: string): void;
  /**
   * The search attributes: SessionStatus, SessionStage, SessionStageSince and SessionOutcome,
   * and once archived SessionArchivedAt (with the archived memo), in one upsert.
   */
  reportPosition(position: SearchPosition): void;
  prepareStage(stage: StageInfo, idempotencyKey: string): Promise<StageOutcome>;
  runStage(stage: StageInfo, context: StageContext): Promise<StageOutcome>;
  fetchAttestrResult: FetchAttestrResult;
  /** Whether a backend event carries the api's proof for this session (checked by the worker). */
  proveEvent(event: BackendEventArgs): Promise<boolean>;
  timers(on: TimerHandlers): SessionClock;
  /** A review decision's proof checked by the worker, and the SessionReview search attribute; absent in unit tests. */
  proveReview?(args: ReviewDecisionArgs): Promise<boolean>;
  reportReview?(value: ReviewSearchValue | null): void;
  /** An update was refused for a failed proof (a metric); absent in unit tests. */
  proofRefused?(update: 'launch' | 'resume' | 'submitStep'): void;
}

/** Where the session's webhook events go (the WebhookPump). */
export interface SessionEvents {
  emit(type: WebhookEventType, extra?: Record<string, unknown>): void;
  statusChanged(status: SessionStatus): void;
}

export class SessionRunner implements TimerHandlers {
  private reportedStatus: SessionStatus;
  /** The stage and entry time last reported (the api sets the first stage's at the start). */
  private reportedStage: string;
  private readonly clock: SessionClock;
  private readonly wakeups: AttestrWakeups;
  private readonly reviews: ReviewDesk;
  private reportedReview: ReviewSearchValue | null;

  /** `continued`: this run was started by continue-as-new, so its status was reported already. */
  constructor(
    private readonly session: SessionModel,
    private readonly events: SessionEvents,
    private readonly effects: RunnerEffects,
    continued: boolean,
  ) {
    this.reportedStatus = continued ? session.state.status : 'created';
    this.reportedStage = this.stageKey();
    this.clock = effects.timers(this);
    this.wakeups = new AttestrWakeups(session, (handshakeId, tag) => effects.fetchAttestrResult(handshakeId, tag));
    this.reportedReview = continued ? reviewSearchValue(session) : null;
    this.reviews = new ReviewDesk(session, events, {
      proveReview: (args) => effects.proveReview?.(args) ?? Promise.resolve(false),
      move: (from, event) => this.move(from, event),
      publish: () => this.publish(),
      settle: () => this.settle(),
    });
  }

  /** Read-only here: the SessionModel makes every change. */
  private get state(): Readonly<SessionModel['state']> {
    return this.session.state;
  }

  private get exclusive() {
    return this.session.exclusive;
  }

  /** The first publication and the timers of a run; handlers are set before this. */
  start(): void {
    this.publish();
    this.clock.armExpiry();
    this.clock.armStage();
    this.clock.armRetention(); // a run continued from an ended session
  }

  private stageKey(): string {
    return this.session.isLive ? `${this.state.stage}@${this.state.enteredAt}` : '';
  }

  /**
   * Publishes the session's position to the Temporal UI and webhooks; search attributes on a
   * status change or a stage move, all in one upsert (one history event).
   */
  publish(): void {
    const { state } = this;
    this.effects.showDetails(currentDetails(this.session));
    const statusChanged = state.status !== this.reportedStatus;
    const stageKey = this.stageKey();
    if (statusChanged || stageKey !== this.reportedStage) {
      const live = this.session.isLive;
      this.effects.reportPosition({ status: state.status, stage: live ? state.stage : null, since: live ? state.enteredAt : null, outcome: state.outcome });
      this.reportedStatus = state.status;
      this.reportedStage = stageKey;
      if (statusChanged) {
        this.events.statusChanged(state.status);
        this.clock.armRetention();
      }
    }
    if (!this.session.isLive) this.clock.cancelExpiry();
    const review = reviewSearchValue(this.session);
    if (review !== this.reportedReview) {
      this.effects.reportReview?.(review);
      this.reportedReview = review;
    }
  }

  /** Moves the flow (SessionModel.move computes the transition, once) and re-arms the stage's timers. */
  private move(from: string, event: FlowEvent): void {
    this.session.move(from, event, Date.now());
    this.clock.armStage();
  }

  /** Runs the preparation of the current stage, following ERROR paths, until the device is awaited. */
  private async settle(): Promise<void> {
    const { session, state } = this;
    for (;;) {
      const stage = session.currentStage();
      if (!session.isLive || !stage || !needsPreparation(stage) || state.prepared !== null) return;
      const entry = state.entry;
      const outcome = await this.effects.prepareStage(stage, session.idempotencyKey(stage));
      if (!session.isAt(stage.id, entry)) return;
      if (outcome.ok) {
        session.keepPrepared(outcome.output);
        return;
      }
      session.record(stage.id, {}, { error: outcome.error });
      this.move(stage.id, { type: 'ERROR', error: outcome.error });
    }
  }

  /** Counted in the metric, then refused by the session (which records it in its state). */
  private provenOrRefused(update: 'launch' | 'resume' | 'submitStep', check: () => void): void {
    try {
      check();
    } catch (err) {
      this.effects.proofRefused?.(update);
      throw err;
    }
  }

  async launch(args: LaunchArgs): Promise<LaunchAnswer> {
    const { session, state } = this;
    this.provenOrRefused('launch', () => session.refuseFailedLaunchProof(args));
    session.launch(args, Date.now());
    this.exclusive.take();
    try {
      this.publish();
      this.clock.armStage();
      await this.settle();
    } finally {
      this.exclusive.release();
      this.publish();
    }
    const prompt = session.prompt();
    // The nonce's hash: the api, which made the nonce, answers the nonce itself.
    return { nonce: state.nonce, status: DEVICE_STATUS[state.status], step: prompt.step, data: prompt };
  }

  /** The bound device comes back: a fresh nonce for the stage it is at; nothing else changes. */
  resume(args: ResumeArgs): LaunchAnswer {
    const { session, state } = this;
    this.provenOrRefused('resume', () => session.refuseResume());
    session.resume(args);
    const prompt = session.prompt();
    return { nonce: state.nonce, status: DEVICE_STATUS[state.status], step: prompt.step, data: prompt };
  }

  async submitStep(args: StepArgs): Promise<StepAnswer> {
    const { session, state } = this;
    const repeated = session.lastAnswerFor(args);
    if (repeated) return repeated;
    this.provenOrRefused('submitStep', () => session.refuseFailedStepProof(args));
    const stage = session.stageInProgress();
    const entry = state.entry;
    this.exclusive.take();
    session.spendNonce();
    try {
      let event: FlowEvent = isBack(args) ? { type: 'BACK' } : { type: 'SUBMIT', input: args.input };
      let output: Record<string, unknown> = {};
      if (stage.kind === 'provider') {
        const outcome = await this.effects.runStage(stage, {
          input: args.input,
          prepared: state.prepared,
          idempotencyKey: session.idempotencyKey(stage),
          // An http stage gets the ref (`{{session.ref}}`): the handshake id stays out of history.
          session: { ref: session.ref, tag: session.input.tag },
          delivered: state.delivered ?? null,
          ...(args.pendingWaitSeconds === undefined ? {} : { pendingWaitSeconds: args.pendingWaitSeconds }),
        });
        // The session ended meanwhile (expiry, or ended by the device): nothing more to do.
        if (!session.isAt(stage.id, entry)) return session.stepAnswer(`${stage.id}-${state.stepCount + 1}`);
        if (!outcome.ok && DEVICE_RETRYABLE.has(outcome.error.type)) return this.stayForRetry(stage, args, outcome.error);
        output = outcome.ok ? outcome.output : { error: outcome.error };
        event = providerEvent(stage, args.input, outcome);
      }
      // BACK records nothing: the stage keeps what it recorded on an earlier visit, until submitted again.
      if (!isBack(args)) session.record(stage.id, args.input, output);
      session.countStep();
      this.events.emit('session.step_completed', { stage: stage.id, stepCount: state.stepCount, ...(isBack(args) ? { event: 'BACK' } : {}) });
      this.move(stage.id, event);
      const routed = routedInputError(stage, event, state.entry);
      if (routed && session.isLive) session.keepInputError(routed);
      if (session.isLive) session.expectNonce(nextNonceOf(args));
      this.publish();
      await this.settle();
      return this.answered(args, session.stepAnswer(`${stage.id}-${state.stepCount}`));
    } finally {
      this.exclusive.release();
      this.publish();
    }
  }

  /**
   * Nothing is recorded and the flow stays: the device may submit this stage again, within
   * the flow's step budget (each try costs provider calls).
   */
  private stayForRetry(stage: StageInfo, args: StepArgs, error: StageError): StepAnswer {
    const { session, state } = this;
    session.countStep();
    session.endIfOverBudget(Date.now());
    if (session.isLive) session.expectNonce(nextNonceOf(args));
    const answer = session.stepAnswer(`${stage.id}-${state.stepCount}`);
    answer.data = { ...answer.data, error };
    return this.answered(args, answer);
  }

  /** Keeps the answer, so an identical retry of this submission gets it again. */
  private answered(args: StepArgs, answer: StepAnswer): StepAnswer {
    this.session.rememberStep(args, answer);
    return answer;
  }

  async deliverEvent(event: BackendEventArgs): Promise<StatusView> {
    const { session, state } = this;
    const stage = session.stageInProgress();
    this.exclusive.take();
    try {
      // Held meanwhile: nothing else moves the session while the worker checks the proof.
      if (!(await this.effects.proveEvent(event))) throw inboundRefusedFailure({ message: 'deliverEvent', reason: 'unproven' });
      session.record(stage.id, { event: event.type, eventId: event.eventId }, event.data);
      this.events.emit('session.step_completed', { stage: stage.id, stepCount: state.stepCount, event: event.type });
      this.move(stage.id, { type: 'EVENT', input: { event: event.type }, data: event.data });
      this.publish();
      await this.settle();
    } finally {
      this.exclusive.release();
      this.publish();
    }
    return statusView(session);
  }

  /** A delay of the stage passed: the stage records the timeout and the flow takes its `after` transition. */
  async stageTimer(stageId: string, entry: number, timer: FlowTimer): Promise<void> {
    // A step in flight finishes first; if it moved the flow, this timer has nothing to do.
    await this.exclusive.free(() => !this.session.isAt(stageId, entry));
    if (!this.session.isAt(stageId, entry)) return;
    this.exclusive.take();
    try {
      this.session.record(stageId, {}, { timedOut: true, afterMs: timer.delayMs });
      this.move(stageId, { type: timer.event });
      this.publish();
      await this.settle();
    } finally {
      this.exclusive.release();
      this.publish();
    }
  }

  /** A reviewer's decision, and a review's SLA passing: see ReviewDesk. */
  decideReview = (args: ReviewDecisionArgs): Promise<ReviewAnswer> => this.reviews.decide(args);
  reviewOverdue = (stageId: string, entry: number): void => this.reviews.overdue(stageId, entry);

  expired(): void {
    if (!this.session.isLive) return;
    this.expire({ reason: 'the expiry passed before the flow finished' });
  }

  /** Ends a live session now; work in flight sees it moved on. */
  expire(args: ExpireArgs): StatusView {
    this.session.end('expired', args.reason, Date.now());
    this.clock.armStage();
    this.publish();
    return statusView(this.session);
  }

  archive(): StatusView {
    this.session.archive(Date.now());
    this.publish();
    return statusView(this.session);
  }

  /** The client's retention passed since the session ended: it archives itself, as an explicit archive does. */
  retentionPassed(): void {
    const { status } = this.state;
    if (status === 'consumed' || status === 'expired') this.archive();
  }

  /** Attestr may have a result for the stage's handshake: fetched at most MAX_WAKE_FETCHES times (AttestrWakeups). */
  attestrWake(): Promise<WakeOutcome> {
    return this.wakeups.wake();
  }
}
