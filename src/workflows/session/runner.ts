/**
 * Step handling: what launch, a device step, a backend event, a stage timer and the expiry do
 * to a session, in order. The rules (what may happen, what each transition changes) are the
 * SessionModel's; the Temporal calls (search attributes, activities, timers) come in through
 * RunnerEffects, so this class runs in unit tests as it runs in the workflow.
 */
import type { FlowEvent, FlowPosition, FlowTimer, StageInfo } from '../../flows/core/engine';
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
import type { AttestrDelivery, StageError } from '../../contract/session-state';
import type { WebhookEventType } from '../../contract/webhook-outbox';
import type { StageContext, StageOutcome } from '../providers';
import { nextNonceOf, type SessionModel } from './model';
import type { SessionClock, TimerHandlers } from './timers';

/**
 * Failures the device can retry: the stage stays where it is and the session stays in
 * progress (a result that does not verify, or one that has not arrived yet), instead of
 * taking the flow's ERROR path.
 */
export const DEVICE_RETRYABLE: ReadonlySet<string> = new Set(['ProviderSignatureInvalid', 'ProviderResultPending']);

/**
 * Attestr fetches wake-ups may make for one entry into a stage. Past it, wake-ups are ignored and
 * the device's own step polls: a storm of signals (or webhook posts) costs the tenant's Attestr
 * quota and credits this many calls at most.
 */
export const MAX_WAKE_FETCHES = 3;

/** What one wake-up led to, for the worker's metric. */
export type WakeOutcome = 'fetched' | 'coalesced' | 'not_waiting' | 'over_bound';

/** Whether entering the stage calls the provider before the device submits (Attestr's handshake). */
export function needsPreparation(stage: StageInfo): boolean {
  return stage.kind === 'provider' && stage.provider === 'attestr';
}

export interface RunnerEffects {
  /** The Temporal UI's current details. */
  showDetails(text: string): void;
  /**
   * The search attributes: SessionStatus, and (for sessions started with stage reporting, see
   * `reportsStage`) SessionStage, SessionStageSince and SessionOutcome, and once archived
   * SessionArchivedAt (with the archived memo), in one upsert.
   */
  reportPosition(position: SearchPosition): void;
  /** Whether a stage move alone is reported (sessions from before it report status changes only). */
  reportsStage: boolean;
  prepareStage(stage: StageInfo, idempotencyKey: string): Promise<StageOutcome>;
  runStage(stage: StageInfo, context: StageContext): Promise<StageOutcome>;
  /** Attestr's verified result for the handshake created with `tag`, or null (see providers.ts). */
  fetchAttestrResult(handshakeId: string, tag: string): Promise<AttestrDelivery | null>;
  /** Whether a backend event carries the api's proof for this session (checked by the worker). */
  proveEvent(event: BackendEventArgs): true | Promise<boolean>;
  timers(on: TimerHandlers): SessionClock;
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
  /** A wake-up's fetch is running; `wakeAgain`: more wake-ups came meanwhile (they share one more fetch). */
  private wakeFetching = false;
  private wakeAgain = false;

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
  }

  private get state() {
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
    this.effects.showDetails(this.session.details());
    const statusChanged = state.status !== this.reportedStatus;
    const stageKey = this.stageKey();
    if (statusChanged || (this.effects.reportsStage && stageKey !== this.reportedStage)) {
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
  }

  private stillAt(stageId: string, entry: number): boolean {
    return this.session.isLive && this.state.stage === stageId && this.state.entry === entry;
  }

  /** Sent to providers (Attestr's tag, Finqware's tenant_user_id): the ref, never the session id. */
  private idempotencyKey(stage: StageInfo): string {
    return `${this.session.ref}.${stage.id}.${this.state.entry}`;
  }

  /** Moves the flow; a missing transition ends the session in error rather than leaving it stuck. */
  private move(from: string, next: FlowPosition | null, event: string): void {
    const now = Date.now();
    if (next === null) {
      this.state.outcome = 'error';
      this.session.end('consumed', `stage ${from} has no transition for ${event}`, now);
    } else {
      this.session.enter(next, now);
      this.endIfOverBudget(now);
    }
    this.clock.armStage();
  }

  /**
   * The flow's bounds: device steps (retries included) against maxSteps, and every move,
   * automatic ones too (ERROR loops, timers), against four times that.
   */
  private endIfOverBudget(now: number): void {
    const { maxSteps } = this.session.input.definition;
    if (!this.session.isLive) return;
    if (this.state.stepCount >= maxSteps || this.state.entry > maxSteps * 4) {
      this.state.outcome = 'error';
      this.session.end('consumed', `the flow reached its limit of ${maxSteps} steps`, now);
    }
  }

  /** Runs the preparation of the current stage, following ERROR paths, until the device is awaited. */
  private async settle(): Promise<void> {
    const { session, state } = this;
    for (;;) {
      const stage = session.currentStage();
      if (!session.isLive || !stage || !needsPreparation(stage) || state.prepared !== null) return;
      const entry = state.entry;
      const outcome = await this.effects.prepareStage(stage, this.idempotencyKey(stage));
      if (!this.stillAt(stage.id, entry)) return;
      if (outcome.ok) {
        state.prepared = outcome.output;
        return;
      }
      session.record(stage.id, {}, { error: outcome.error });
      this.move(stage.id, session.flow.advance(stage.id, { type: 'ERROR', error: outcome.error }), 'ERROR');
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
    state.nonce = null; // spent on acceptance: nothing else may use it
    try {
      let event: FlowEvent = { type: 'SUBMIT', input: args.input };
      let output: Record<string, unknown> = {};
      if (stage.kind === 'provider') {
        const outcome = await this.effects.runStage(stage, {
          input: args.input,
          prepared: state.prepared,
          idempotencyKey: this.idempotencyKey(stage),
          // An http stage gets the ref (`{{session.ref}}`): the handshake id stays out of history.
          session: { ref: session.ref, tag: session.input.tag },
          delivered: state.delivered ?? null,
          ...(args.pendingWaitSeconds === undefined ? {} : { pendingWaitSeconds: args.pendingWaitSeconds }),
        });
        // The session ended meanwhile (expiry, or ended by the device): nothing more to do.
        if (!this.stillAt(stage.id, entry)) return session.stepAnswer(`${stage.id}-${state.stepCount + 1}`);
        if (!outcome.ok && DEVICE_RETRYABLE.has(outcome.error.type)) return this.stayForRetry(stage, args, outcome.error);
        output = outcome.ok ? outcome.output : { error: outcome.error };
        event = outcome.ok ? { type: 'DONE', input: args.input, output } : { type: 'ERROR', input: args.input, error: outcome.error };
      }
      session.record(stage.id, args.input, output);
      state.stepCount += 1;
      this.events.emit('session.step_completed', { stage: stage.id, stepCount: state.stepCount });
      this.move(stage.id, session.flow.advance(stage.id, event), event.type);
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
    state.stepCount += 1;
    this.endIfOverBudget(Date.now());
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
      const proven = this.effects.proveEvent(event);
      if (proven !== true && !(await proven)) throw inboundRefusedFailure({ message: 'deliverEvent', reason: 'unproven' });
      session.record(stage.id, { event: event.type, eventId: event.eventId }, event.data);
      this.events.emit('session.step_completed', { stage: stage.id, stepCount: state.stepCount, event: event.type });
      this.move(stage.id, session.flow.advance(stage.id, { type: 'EVENT', input: { event: event.type }, data: event.data }), 'EVENT');
      this.publish();
      await this.settle();
    } finally {
      this.exclusive.release();
      this.publish();
    }
    return session.statusView();
  }

  /** A delay of the stage passed: the stage records the timeout and the flow takes its `after` transition. */
  async stageTimer(stageId: string, entry: number, timer: FlowTimer): Promise<void> {
    // A step in flight finishes first; if it moved the flow, this timer has nothing to do.
    await this.exclusive.free(() => !this.stillAt(stageId, entry));
    if (!this.stillAt(stageId, entry)) return;
    this.exclusive.take();
    try {
      this.session.record(stageId, {}, { timedOut: true, afterMs: timer.delayMs });
      this.move(stageId, this.session.flow.advance(stageId, { type: timer.event }), timer.event);
      this.publish();
      await this.settle();
    } finally {
      this.exclusive.release();
      this.publish();
    }
  }

  expired(): void {
    if (!this.session.isLive) return;
    this.expire({ reason: 'the expiry passed before the flow finished' });
  }

  /** Ends a live session now; work in flight sees it moved on. */
  expire(args: ExpireArgs): StatusView {
    this.session.end('expired', args.reason, Date.now());
    this.clock.armStage();
    this.publish();
    return this.session.statusView();
  }

  archive(): StatusView {
    this.session.archive(Date.now());
    this.publish();
    return this.session.statusView();
  }

  /** The client's retention passed since the session ended: it archives itself, as an explicit archive does. */
  retentionPassed(): void {
    const { status } = this.state;
    if (status === 'consumed' || status === 'expired') this.archive();
  }

  /**
   * Histories recorded before wake-ups only: the signal carried the result, which was kept for
   * the handshake the current stage waits for.
   */
  attestrDelivered(delivery: AttestrDelivery): void {
    if (this.session.isLive && this.state.prepared?.handshakeId === delivery?.handshakeId) this.state.delivered = delivery;
  }

  /**
   * Attestr may have a result for the handshake the current stage waits on (its webhook, or
   * anyone who can signal, says so). The result is fetched from Attestr and its signature checked
   * in an activity; one that does not verify is refused there, and the stage stays as it was.
   * One fetch runs at a time, wake-ups meanwhile share one more, and a stage entry makes
   * MAX_WAKE_FETCHES at most.
   */
  async attestrWake(): Promise<WakeOutcome> {
    if (this.wakeFetching) {
      this.wakeAgain = true;
      return 'coalesced';
    }
    this.wakeFetching = true;
    try {
      let outcome: WakeOutcome = 'not_waiting';
      do {
        this.wakeAgain = false;
        const stage = this.session.currentStage();
        const handshakeId = this.state.prepared?.handshakeId;
        if (!this.session.isLive || !stage || !needsPreparation(stage) || typeof handshakeId !== 'string') return outcome;
        if (this.state.delivered?.handshakeId === handshakeId) return outcome;
        const { entry } = this.state;
        const fetches = this.state.attestrWakes?.entry === entry ? this.state.attestrWakes.fetches : 0;
        if (fetches >= MAX_WAKE_FETCHES) return outcome === 'fetched' ? outcome : 'over_bound';
        this.state.attestrWakes = { entry, fetches: fetches + 1 };
        outcome = 'fetched';
        const delivery = await this.effects.fetchAttestrResult(handshakeId, this.idempotencyKey(stage));
        if (delivery && this.stillAt(stage.id, entry) && this.state.prepared?.handshakeId === handshakeId) this.state.delivered = delivery;
      } while (this.wakeAgain);
      return outcome;
    } finally {
      this.wakeFetching = false;
    }
  }
}
