/**
 * The session's state and its rules, as a plain class: what each transition changes, and what
 * an update answers. It is the only writer of the session's state; the update validators
 * (validators.ts) and the views queries answer with (views.ts) only read it. No Temporal calls
 * besides the ApplicationFailure it throws, so it is unit-tested directly; the workflow wires
 * it to updates, queries, timers and activities.
 */
import { ApplicationFailure } from '@temporalio/common';
import { CompiledFlow, stageInfo, type FlowEvent, type FlowPosition, type StageInfo } from '../../flows/core/engine';
import { Exclusive } from './exclusive';
import { proofHash } from './proof';
import { routingPrompt, type InputErrorState } from './routing';
import {
  DEVICE_STATUS,
  REFUSALS,
  type LaunchArgs,
  type RefusalType,
  type ResumeArgs,
  type SessionStatus,
  type StepAnswer,
  type StepArgs,
  type StepPrompt,
} from '../../contract/session';
import { sessionInputDigest, type AttestrDelivery, type SessionInput, type SessionState } from '../../contract/session-state';
import type { ReviewDecided } from '../../contract/review';

export function refuse(type: RefusalType | 'SessionReviewDecided', message: string, details?: unknown): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

const LIVE: ReadonlySet<SessionStatus> = new Set(['created', 'in_progress']);

export const WRONG_LAUNCH_PROOF = 'the launch proof is not this session\'s';
export const WRONG_NONCE = 'the nonce is not the one this session expects';
export const NO_RESUME = 'this session is picked up through the api, not resumed';

export function initialState(input: SessionInput, flow = new CompiledFlow(input.definition.machine)): SessionState {
  const start = flow.start();
  return {
    status: 'created',
    stage: start.state,
    entry: 1,
    enteredAt: input.createdAt,
    nonce: null,
    prepared: null,
    result: {},
    outcome: null,
    endReason: null,
    stepCount: 0,
    launchedAt: null,
    endedAt: null,
    archivedAt: null,
    lastStep: null,
    journey: [{ stage: start.state, at: input.createdAt, steps: 0 }],
  };
}

export class SessionModel {
  readonly state: SessionState;
  /** The session's flow, built once per workflow run. */
  readonly flow: CompiledFlow;

  /** `exclusive` is held while flow-moving work runs (see Exclusive). */
  constructor(
    readonly input: SessionInput,
    readonly exclusive = new Exclusive(),
  ) {
    this.flow = new CompiledFlow(input.definition.machine);
    this.state = input.state ?? initialState(input, this.flow);
  }

  /** How the session is named in Temporal and to providers: a hash of its id (sessions from before: the id itself). */
  get ref(): string {
    return this.input.ref ?? (this.input.sessionId as string);
  }

  get machine() { return this.input.definition.machine; }

  private digest?: string;
  /** What the api's seal on this session covers (see SessionInput.seal), computed on first read. */
  get inputDigest(): string {
    return (this.digest ??= sessionInputDigest(this.input));
  }

  /** True while a step, an event or a stage timer is between acceptance and its answer. */
  get busy(): boolean {
    return this.exclusive.busy;
  }

  get isLive(): boolean {
    return LIVE.has(this.state.status);
  }

  /**
   * Whether device updates prove themselves (sessions created since launch proofs): a launch
   * carries the preimage of `launchProofHash`, a step the preimage of the nonce hash the session
   * keeps, and a resume is never needed (docs/security/device-binding.md). Sessions created
   * before keep the checks they started with, so their histories replay as they ran.
   */
  get provesUpdates(): boolean {
    return this.input.launchProofHash !== undefined;
  }

  launchProofHolds(args: LaunchArgs): boolean {
    return typeof args?.launchProof === 'string' && proofHash(args.launchProof) === this.input.launchProofHash;
  }

  /** Whether a step carries the nonce whose hash the session keeps. */
  stepProofHolds(args: StepArgs): boolean {
    return typeof args?.nonce === 'string' && this.state.nonce !== null && proofHash(args.nonce) === this.state.nonce;
  }

  /** Counts a failed proof and refuses its update: called by handlers, so history records it. */
  refuseProof(type: RefusalType, message: string): never {
    this.state.refusedProofs = (this.state.refusedProofs ?? 0) + 1;
    refuse(type, message);
  }

  /** What a submission's nonce is recorded and compared as: its hash (the raw nonce only in recorded histories). */
  private submittedNonce(args: StepArgs): string | undefined {
    if (this.provesUpdates) return typeof args?.nonce === 'string' ? proofHash(args.nonce) : undefined;
    return args?.nonceHash ?? args?.nonce;
  }

  currentStage(): StageInfo | null {
    return stageInfo(this.machine, this.state.stage);
  }

  /** Whether the session is still live at that entry into that stage: work that took a while checks it. */
  isAt(stageId: string, entry: number): boolean {
    return this.isLive && this.state.stage === stageId && this.state.entry === entry;
  }

  /** Sent to providers (Attestr's tag, Finqware's tenant_user_id): the ref, never the session id. */
  idempotencyKey(stage: StageInfo): string {
    return `${this.ref}.${stage.id}.${this.state.entry}`;
  }

  /** The stage an accepted step or event works on: its validator made sure there is one. */
  stageInProgress(): StageInfo {
    const stage = this.currentStage();
    if (!stage) refuse(REFUSALS.WRONG_STEP, 'the session is at no stage', { expected: null });
    return stage;
  }

  /** Whether the submission repeats the last accepted one exactly: it gets the same answer. */
  isRetryOfLastStep(args: StepArgs): boolean {
    const last = this.state.lastStep;
    const same = last && last.nonce === this.submittedNonce(args) && last.step === args.step && last.event === args.event;
    return Boolean(same && JSON.stringify(last.input) === JSON.stringify(args.input));
  }

  /** The answer of the last accepted submission when `args` repeats it exactly, else null. */
  lastAnswerFor(args: StepArgs): StepAnswer | null {
    const last = this.state.lastStep;
    return last && this.isRetryOfLastStep(args) ? last.answer : null;
  }

  /** The handlers' half of the proof checks (the validators let failed proofs through to be recorded). */
  refuseFailedLaunchProof(args: LaunchArgs): void {
    if (this.provesUpdates && !this.launchProofHolds(args)) this.refuseProof(REFUSALS.INVALID_PROOF, WRONG_LAUNCH_PROOF);
  }

  refuseFailedStepProof(args: StepArgs): void {
    if (this.provesUpdates && !this.stepProofHolds(args)) this.refuseProof(REFUSALS.INVALID_NONCE, WRONG_NONCE);
  }

  refuseResume(): void {
    if (this.provesUpdates) this.refuseProof(REFUSALS.INVALID_PROOF, NO_RESUME);
  }

  // Transitions.

  launch(args: LaunchArgs, now: number): void {
    this.state.status = 'in_progress';
    this.state.launchedAt = now;
    this.state.enteredAt = now; // the first stage's time starts with the device
    this.state.nonce = args.nonceHash ?? (args.nonce as string);
    this.state.nonceHashed = args.nonceHash !== undefined;
    this.state.deviceClientId = args.deviceClientId ?? null;
    if (this.provesUpdates) this.state.nonceSource = args.nonceSource ?? null;
  }

  /** Moves to `position`; ends the session when it is final. */
  enter(position: FlowPosition, now: number): void {
    this.state.stage = position.state;
    this.state.entry += 1;
    this.state.enteredAt = now;
    this.state.prepared = null;
    this.state.delivered = null;
    if (!position.done) this.state.journey?.push({ stage: position.state, at: now, steps: this.state.stepCount });
    const review = stageInfo(this.machine, position.state)?.review;
    if (review) this.state.review = { stage: position.state, entry: this.state.entry, dueAt: review.slaMs === null ? null : now + review.slaMs, overdue: false, decided: null };
    else if (this.state.review) this.state.review = null;
    if (position.done) {
      this.state.outcome = position.outcome;
      this.end('consumed', null, now);
    }
  }

  /**
   * Takes `event` at stage `from`. The one place a handler computes a transition, once per
   * accepted step, event or stage timer: validators only ask whether the flow takes the event.
   * No transition ends the session in error rather than leaving it stuck.
   */
  move(from: string, event: FlowEvent, now: number): void {
    const next = this.flow.advance(from, event, this.state.result);
    if (next === null) {
      this.endInError(`stage ${from} has no transition for ${event.type}`, now);
    } else {
      this.enter(next, now);
      this.endIfOverBudget(now);
    }
  }

  /**
   * The flow's bounds: device steps (retries included) against maxSteps, and every move,
   * automatic ones too (ERROR loops, timers), against four times that.
   */
  endIfOverBudget(now: number): void {
    const { maxSteps } = this.input.definition;
    if (!this.isLive) return;
    if (this.state.stepCount >= maxSteps || this.state.entry > maxSteps * 4) this.endInError(`the flow reached its limit of ${maxSteps} steps`, now);
  }

  private endInError(reason: string, now: number): void {
    this.state.outcome = 'error';
    this.end('consumed', reason, now);
  }

  /** An accepted step spends its nonce at once: nothing else may use it. */
  spendNonce(): void { this.state.nonce = null; }

  /** Counts a device step against the flow's bounds, whatever it led to. */
  countStep(): void { this.state.stepCount += 1; }

  /** What the provider prepared for the current stage (an Attestr handshake), for the device. */
  keepPrepared(output: Record<string, unknown>): void {
    this.state.prepared = output;
  }

  /** Attestr's verified result for the current stage's handshake, for the device's step. */
  keepDelivered(delivery: AttestrDelivery): void {
    this.state.delivered = delivery;
  }

  /** The Attestr fetches wake-ups made for the current stage entry. */
  wakeFetches(): number {
    const { attestrWakes, entry } = this.state;
    return attestrWakes?.entry === entry ? attestrWakes.fetches : 0;
  }

  countWakeFetch(): void {
    this.state.attestrWakes = { entry: this.state.entry, fetches: this.wakeFetches() + 1 };
  }

  /** Numbers the session's next webhook event: its seq, counted across continue-as-new. */
  countWebhookEvent(): number {
    this.state.webhookSeq = (this.state.webhookSeq ?? 0) + 1;
    return this.state.webhookSeq;
  }

  /** Whether the session's outbox workflow runs (false once it was found gone: it is started anew). */
  outboxStarted(started: boolean): void {
    this.state.webhookOutbox = started;
  }

  /** A resumed device's fresh nonce replaces the one it lost. */
  resume(args: ResumeArgs): void {
    this.state.nonce = args.nonceHash;
    this.state.nonceHashed = true;
  }

  /** The nonce the next submission must carry, or none. */
  expectNonce(next: { nonce: string; hashed: boolean; source?: string } | null): void {
    this.state.nonce = next?.nonce ?? null;
    if (next) this.state.nonceHashed = next.hashed;
    if (this.provesUpdates) this.state.nonceSource = next?.source ?? null;
  }

  /** Remembers an accepted submission and its answer, for an identical retry. */
  rememberStep(args: StepArgs, answer: StepAnswer): void {
    this.state.lastStep = { nonce: this.submittedNonce(args) as string, step: args.step, input: args.input, ...(args.event ? { event: args.event } : {}), answer };
  }

  /** The provider error the flow routed back to the stage just entered (routing.ts). */
  keepInputError(error: InputErrorState): void {
    this.state.inputError = error;
  }

  /** The session's end is in the funnel (FunnelRecorder): no later run writes it again. */
  funnelWritten(): void { this.state.funnelWritten = true; }

  /** The review at `stage`/`entry` is past its SLA. */
  markReviewOverdue(): void {
    if (this.state.review) this.state.review.overdue = true;
  }

  /** Takes the review's decision (or, with null, gives it back: its proof did not hold). */
  decideReview(decided: ReviewDecided | null): void {
    if (this.state.review) this.state.review.decided = decided;
  }

  record(stageId: string, input: unknown, output: unknown): void {
    this.state.result[stageId] = { input, output };
  }

  end(status: 'consumed' | 'expired', reason: string | null, now: number): void {
    this.state.status = status;
    this.state.endReason = reason;
    this.state.endedAt = now;
    this.state.nonce = null;
    this.state.prepared = null;
  }

  archive(now: number): void {
    this.state.status = 'archived';
    this.state.archivedAt = now;
    this.state.result = {};
    this.state.lastStep = null;
  }

  // What an update answers.

  prompt(): StepPrompt {
    const stage = this.isLive ? this.currentStage() : null;
    if (!stage) return { step: null, ...(this.state.outcome ? { outcome: this.state.outcome } : {}) };
    return {
      step: stage.id,
      kind: stage.kind === 'review' ? 'wait' : stage.kind, // to the device a review is a wait: its page waits for the outcome
      ...(stage.title ? { title: stage.title } : {}),
      ...(stage.description ? { description: stage.description } : {}),
      schema: stage.schema,
      ...(stage.fields ? { fields: stage.fields } : {}),
      // The flow's words for provider errors and its translations: the api picks a language and removes both.
      ...(stage.providerErrors ? { providerErrors: stage.providerErrors } : {}),
      ...(stage.translations ? { translations: stage.translations } : {}),
      ...routingPrompt(this.machine, this.state, stage),
      ...(this.state.prepared ?? {}),
    };
  }

  stepAnswer(stepId: string): StepAnswer {
    return { step_id: stepId, nonce: this.state.nonce, status: DEVICE_STATUS[this.state.status], data: this.prompt() };
  }
}
