/**
 * The session's state and its rules, as a plain class: what may happen in which status, what
 * each transition changes, and the views the api reads. No Temporal calls besides the
 * ApplicationFailure it throws, so it is unit-tested directly; the workflow wires it to
 * updates, queries, timers and activities.
 */
import { ApplicationFailure } from '@temporalio/common';
import { CompiledFlow, stageInfo, type FlowPosition, type StageInfo } from '../../flows/core/engine';
import { validateAgainstSchema } from '../../flows/core/schema';
import { Exclusive } from './exclusive';
import { proofHash } from './proof';
import {
  DEVICE_STATUS,
  MAX_REFUSED_PROOFS,
  REFUSALS,
  type BackendEventArgs,
  type ExpireArgs,
  type LaunchArgs,
  type RefusalType,
  type ResumeArgs,
  type ResultView,
  type SessionStatus,
  type StatusView,
  type StepAnswer,
  type StepArgs,
  type StepPrompt,
} from '../../contract/session';
import type { SessionInput, SessionState } from '../../contract/session-state';

function refuse(type: RefusalType, message: string, details?: unknown): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

const LIVE: ReadonlySet<SessionStatus> = new Set(['created', 'in_progress']);

/** The next nonce a step sets, whether it is a hash, and the update id the api derived it from. */
export function nextNonceOf(args: StepArgs): { nonce: string; hashed: boolean; source?: string } {
  if (args.nextNonceHash === undefined) return { nonce: args.nextNonce as string, hashed: false };
  return { nonce: args.nextNonceHash, hashed: true, ...(args.nextNonceSource !== undefined ? { source: args.nextNonceSource } : {}) };
}

const WRONG_LAUNCH_PROOF = 'the launch proof is not this session\'s';
const WRONG_NONCE = 'the nonce is not the one this session expects';
const NO_RESUME = 'this session is picked up through the api, not resumed';

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

  get machine() {
    return this.input.definition.machine;
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

  /**
   * A failed proof passes the validator while the session still records such refusals, so the
   * handler refuses it (refuseProof) where history keeps it; past MAX_REFUSED_PROOFS the
   * validator refuses it without a trace.
   */
  private admitFailedProof(type: RefusalType, message: string): void {
    if ((this.state.refusedProofs ?? 0) >= MAX_REFUSED_PROOFS) refuse(type, message);
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

  /** The stage an accepted step or event works on: its validator made sure there is one. */
  stageInProgress(): StageInfo {
    const stage = this.currentStage();
    if (!stage) refuse(REFUSALS.WRONG_STEP, 'the session is at no stage', { expected: null });
    return stage;
  }

  // Validators: each throws a refusal, and changes nothing.

  checkLaunch(args: LaunchArgs): void {
    if (args?.clientId !== undefined && args.clientId !== this.input.clientId) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
    if (this.state.status !== 'created') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; only a created session can be launched`, {
        status: this.state.status,
      });
    }
    if (typeof args?.nonceHash !== 'string' || args.nonceHash.length < 16) refuse(REFUSALS.INVALID_INPUT, 'launch needs a nonce');
    if (this.provesUpdates && !this.launchProofHolds(args)) this.admitFailedProof(REFUSALS.INVALID_PROOF, WRONG_LAUNCH_PROOF);
  }

  /** Only the device client that launched the session resumes it, while it is in progress and no step runs. */
  checkResume(args: ResumeArgs): void {
    const boundTo = this.state.deviceClientId ?? null;
    if (boundTo === null || args?.deviceClientId !== boundTo) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
    if (this.state.status !== 'in_progress') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; only a session in progress can be resumed`, { status: this.state.status });
    }
    if (this.busy) refuse(REFUSALS.BUSY, 'a step is still running');
    if (typeof args.nonceHash !== 'string' || args.nonceHash.length < 16) refuse(REFUSALS.INVALID_INPUT, 'resume needs a nonce');
    // It would set a nonce without proving anything: a failed proof.
    if (this.provesUpdates) this.admitFailedProof(REFUSALS.INVALID_PROOF, NO_RESUME);
  }

  /** Whether the submission repeats the last accepted one exactly: it gets the same answer. */
  isRetryOfLastStep(args: StepArgs): boolean {
    const last = this.state.lastStep;
    return Boolean(last && last.nonce === this.submittedNonce(args) && last.step === args.step && JSON.stringify(last.input) === JSON.stringify(args.input));
  }

  /** The answer of the last accepted submission when `args` repeats it exactly, else null. */
  lastAnswerFor(args: StepArgs): StepAnswer | null {
    const last = this.state.lastStep;
    return last && this.isRetryOfLastStep(args) ? last.answer : null;
  }

  /** Refuses what may not be submitted now; an identical retry of the last step passes. */
  checkStep(args: StepArgs): void {
    if (args?.clientId !== undefined && args.clientId !== this.input.clientId) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
    if (args?.flowId !== undefined && args.flowId !== this.input.definition.flowId) {
      refuse(REFUSALS.WRONG_FLOW, `the session runs another flow than "${args.flowId}"`);
    }
    // A session a device client launched takes steps from that client only, whatever the nonce.
    const boundTo = this.state.deviceClientId ?? null;
    if (boundTo !== null && args?.deviceClientId !== boundTo) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
    if (this.isRetryOfLastStep(args)) return;
    if (this.state.status !== 'in_progress') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; it takes no steps`, { status: this.state.status });
    }
    if (this.busy) refuse(REFUSALS.BUSY, 'the previous step is still running');
    if (!this.provesUpdates) {
      // A hashed expectation takes only a hash; a nonce kept from before takes only that nonce.
      const submitted = this.state.nonceHashed ? args?.nonceHash : args?.nonce;
      if (typeof submitted !== 'string' || this.state.nonce === null || submitted !== this.state.nonce) refuse(REFUSALS.INVALID_NONCE, WRONG_NONCE);
      this.checkSubmission(args, args.nonceHash);
      return;
    }
    // A wrong nonce answers invalid_nonce whatever else is wrong, as before proofs; but only an
    // otherwise acceptable step with one is let through to be recorded (a failed proof).
    const proven = this.stepProofHolds(args);
    try {
      this.checkSubmission(args, this.state.nonce);
    } catch (err) {
      if (!proven) refuse(REFUSALS.INVALID_NONCE, WRONG_NONCE);
      throw err;
    }
    if (!proven) this.admitFailedProof(REFUSALS.INVALID_NONCE, WRONG_NONCE);
  }

  /** What a step submits: a fresh next nonce (not `spent`), the current stage, input it accepts. */
  private checkSubmission(args: StepArgs, spent: string | null | undefined): void {
    if (typeof args.nextNonceHash !== 'string' || args.nextNonceHash.length < 16 || args.nextNonceHash === spent) {
      refuse(REFUSALS.INVALID_INPUT, 'a step needs a fresh next nonce');
    }
    const stage = this.currentStage();
    if (!stage || stage.kind === 'wait' || args.step !== stage.id) {
      refuse(REFUSALS.WRONG_STEP, `the session expects ${stage && stage.kind !== 'wait' ? `step "${stage.id}"` : 'no device step now'}`, {
        expected: stage && stage.kind !== 'wait' ? stage.id : null,
      });
    }
    const problems = validateAgainstSchema(stage.schema, args.input);
    if (problems.length > 0) {
      refuse(REFUSALS.INVALID_INPUT, `the input of step "${stage.id}" is invalid: ${problems.map((p) => p.message).join('; ')}`, {
        problems,
      });
    }
    if (stage.kind === 'input' && this.flow.advance(stage.id, { type: 'SUBMIT', input: args.input }) === null) {
      refuse(REFUSALS.INVALID_INPUT, `the flow has no transition for this input of step "${stage.id}"`);
    }
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

  /** A backend event is taken only by a live session waiting in a `wait` stage that has a transition for it. */
  checkEvent(event: BackendEventArgs): void {
    if (this.state.status !== 'in_progress') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; it waits for no event`, { status: this.state.status });
    }
    if (this.busy) refuse(REFUSALS.BUSY, 'a step is still running');
    const stage = this.currentStage();
    if (!stage || stage.kind !== 'wait') refuse(REFUSALS.WRONG_STEP, 'the session is not waiting for an event', { expected: stage?.id ?? null });
    if (typeof event?.type !== 'string' || this.flow.advance(stage.id, { type: 'EVENT', input: { event: event.type }, data: event.data }) === null) {
      refuse(REFUSALS.INVALID_INPUT, `stage "${stage.id}" has no transition for this event`);
    }
  }

  checkArchive(): void {
    if (this.state.status !== 'consumed' && this.state.status !== 'expired') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; only a consumed or expired session can be archived`, {
        status: this.state.status,
      });
    }
  }

  checkExpire(args: ExpireArgs): void {
    if (!this.isLive) refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; it has already ended`, { status: this.state.status });
    if (typeof args?.reason !== 'string' || args.reason === '') refuse(REFUSALS.INVALID_INPUT, 'expire needs a reason');
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
    if (position.done) {
      this.state.outcome = position.outcome;
      this.end('consumed', null, now);
    }
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
    this.state.lastStep = { nonce: this.submittedNonce(args) as string, step: args.step, input: args.input, answer };
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

  // Views.

  prompt(): StepPrompt {
    const stage = this.isLive ? this.currentStage() : null;
    if (!stage) return { step: null, ...(this.state.outcome ? { outcome: this.state.outcome } : {}) };
    return {
      step: stage.id,
      kind: stage.kind,
      ...(stage.title ? { title: stage.title } : {}),
      ...(stage.description ? { description: stage.description } : {}),
      schema: stage.schema,
      ...(this.state.prepared ?? {}),
    };
  }

  stepAnswer(stepId: string): StepAnswer {
    return { step_id: stepId, nonce: this.state.nonce, status: DEVICE_STATUS[this.state.status], data: this.prompt() };
  }

  /**
   * True only for the hash of the nonce the next step must carry; nothing is current once the
   * session ended. A session from before nonces were hashed holds a plain nonce, which is never
   * compared here (no plain nonce is passed in): its device waits with its device credential.
   */
  holdsNonceHash(nonceHash: string | null): boolean {
    return nonceHash !== null && this.state.nonceHashed === true && this.state.nonce !== null && nonceHash === this.state.nonce;
  }

  statusView(): StatusView {
    const { input, state } = this;
    return {
      number: input.number,
      tag: input.tag,
      clientId: input.clientId,
      flowId: input.definition.flowId,
      snapshotId: input.definition.snapshotId,
      status: state.status,
      consumed: state.launchedAt !== null,
      createdAt: input.createdAt,
      expiry: input.expiresAt,
      archived: state.archivedAt,
      stage: this.isLive ? state.stage : null,
      stepCount: state.stepCount,
      outcome: state.outcome,
      endReason: state.endReason,
      deviceClientId: state.deviceClientId ?? null,
      ...(input.returnUrl !== undefined ? { returnUrl: input.returnUrl } : {}),
      ...(this.provesUpdates && this.isLive ? { pickUp: this.pickUp() } : {}),
    };
  }

  /** While a step runs (its nonce spent, or the next stage still being prepared) there is nothing to pick up. */
  private pickUp(): { nonceSource: string | null; prompt: StepPrompt } {
    const ready = this.state.nonce !== null && !this.busy;
    return { nonceSource: ready ? (this.state.nonceSource ?? null) : null, prompt: this.prompt() };
  }

  resultView(): ResultView {
    const { status, outcome, result, archivedAt } = this.state;
    const final = status === 'consumed' || status === 'expired';
    return { status, outcome, result: final ? result : null, archived: archivedAt };
  }

  /** One line for the Temporal UI's current details: where the session is, nothing personal. */
  details(): string {
    const stage = this.currentStage();
    const where = this.isLive && stage ? `stage ${stage.id} (${stage.kind})` : `outcome ${this.state.outcome ?? 'none'}`;
    return `${this.state.status} · ${where} · ${this.state.stepCount} step(s)`;
  }
}
