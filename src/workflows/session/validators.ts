/**
 * The update validators of a session: whether an update may be accepted now. Temporal runs a
 * validator when the update arrives and never on replay, so a validator only reads (the session
 * reaches it read-only) and refuses by throwing; nothing an accepted update does may depend on
 * it. The handler (SessionRunner, through SessionModel) works out what the update changes. In
 * particular a validator only asks whether the flow takes an event (`takes`), never where it
 * leads: the transition of an accepted step is computed once, by its handler.
 */
import type { CompiledFlow, StageInfo } from '../../flows/core/engine';
import { validateAgainstSchema } from '../../flows/core/schema';
import {
  MAX_REFUSED_PROOFS,
  REFUSALS,
  type BackendEventArgs,
  type ExpireArgs,
  type InputProblems,
  type LaunchArgs,
  type RefusalType,
  type ResumeArgs,
  type StepArgs,
} from '../../contract/session';
import type { SessionState } from '../../contract/session-state';
import { REVIEW_DECISIONS, REVIEW_REFUSALS, type ReviewDecisionArgs } from '../../contract/review';
import { NO_RESUME, refuse, WRONG_LAUNCH_PROOF, WRONG_NONCE, type SessionModel } from './model';
import { isBack } from './routing';
import { isObject } from '../../util/json';

/** What a validator may see of a session: its state read-only, and whether its flow takes an event. */
export type SessionReadOnly = Pick<SessionModel, 'input' | 'busy' | 'isLive' | 'provesUpdates' | 'currentStage' | 'launchProofHolds' | 'stepProofHolds' | 'isRetryOfLastStep'> & {
  readonly state: Readonly<SessionState>;
  readonly flow: Pick<CompiledFlow, 'takes'>;
};

export class SessionValidators {
  constructor(
    private readonly session: SessionReadOnly,
    /** The workflow's time (date bounds are computed from it): Date.now() in workflow code is deterministic. */
    private readonly now: () => number = () => Date.now(),
  ) {}

  private get state(): Readonly<SessionState> {
    return this.session.state;
  }

  /**
   * A failed proof passes the validator while the session still records such refusals, so the
   * handler refuses it (SessionModel.refuseProof) where history keeps it; past MAX_REFUSED_PROOFS
   * the validator refuses it without a trace.
   */
  private admitFailedProof(type: RefusalType, message: string): void {
    if ((this.state.refusedProofs ?? 0) >= MAX_REFUSED_PROOFS) refuse(type, message);
  }

  checkLaunch(args: LaunchArgs): void {
    if (args?.clientId !== undefined && args.clientId !== this.session.input.clientId) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
    if (this.state.status !== 'created') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; only a created session can be launched`, {
        status: this.state.status,
      });
    }
    if (typeof args?.nonceHash !== 'string' || args.nonceHash.length < 16) refuse(REFUSALS.INVALID_INPUT, 'launch needs a nonce');
    if (this.session.provesUpdates && !this.session.launchProofHolds(args)) this.admitFailedProof(REFUSALS.INVALID_PROOF, WRONG_LAUNCH_PROOF);
  }

  /** Only the device client that launched the session resumes it, while it is in progress and no step runs. */
  checkResume(args: ResumeArgs): void {
    const boundTo = this.state.deviceClientId ?? null;
    if (boundTo === null || args?.deviceClientId !== boundTo) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
    if (this.state.status !== 'in_progress') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; only a session in progress can be resumed`, { status: this.state.status });
    }
    if (this.session.busy) refuse(REFUSALS.BUSY, 'a step is still running');
    if (typeof args.nonceHash !== 'string' || args.nonceHash.length < 16) refuse(REFUSALS.INVALID_INPUT, 'resume needs a nonce');
    // It would set a nonce without proving anything: a failed proof.
    if (this.session.provesUpdates) this.admitFailedProof(REFUSALS.INVALID_PROOF, NO_RESUME);
  }

  /** Refuses what may not be submitted now; an identical retry of the last step passes. */
  checkStep(args: StepArgs): void {
    const { session, state } = this;
    if (args?.clientId !== undefined && args.clientId !== session.input.clientId) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
    if (args?.flowId !== undefined && args.flowId !== session.input.definition.flowId) {
      refuse(REFUSALS.WRONG_FLOW, `the session runs another flow than "${args.flowId}"`);
    }
    // A session a device client launched takes steps from that client only, whatever the nonce.
    const boundTo = state.deviceClientId ?? null;
    if (boundTo !== null && args?.deviceClientId !== boundTo) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
    if (session.isRetryOfLastStep(args)) return;
    if (state.status !== 'in_progress') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${state.status}; it takes no steps`, { status: state.status });
    }
    if (session.busy) refuse(REFUSALS.BUSY, 'the previous step is still running');
    if (!session.provesUpdates) {
      // A hashed expectation takes only a hash; a nonce kept from before takes only that nonce.
      const submitted = state.nonceHashed ? args?.nonceHash : args?.nonce;
      if (typeof submitted !== 'string' || state.nonce === null || submitted !== state.nonce) refuse(REFUSALS.INVALID_NONCE, WRONG_NONCE);
      this.checkSubmission(args, args.nonceHash);
      return;
    }
    // A wrong nonce answers invalid_nonce whatever else is wrong, as before proofs; but only an
    // otherwise acceptable step with one is let through to be recorded (a failed proof).
    const proven = session.stepProofHolds(args);
    try {
      this.checkSubmission(args, state.nonce);
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
    const stage = this.session.currentStage();
    const awaited = stage && stage.kind !== 'wait' && stage.kind !== 'review';
    if (!stage || !awaited || args.step !== stage.id) {
      refuse(REFUSALS.WRONG_STEP, `the session expects ${awaited ? `step "${stage.id}"` : 'no device step now'}`, { expected: awaited ? stage.id : null });
    }
    if (args.event !== undefined) return this.checkBack(stage, args);
    const problems = validateAgainstSchema(stage.schema, args.input, { now: this.now() });
    if (problems.length > 0) {
      // The flow's translations go along so the api can word them in the language it answers in.
      const details: InputProblems = { problems, schema: stage.schema, ...(stage.fields ? { fields: stage.fields } : {}), ...(stage.translations ? { translations: stage.translations } : {}) };
      const listed = problems.map((p) => `${p.path || '(the input)'} ${p.code}`).join(', ');
      refuse(REFUSALS.INVALID_INPUT, `the input of step "${stage.id}" is invalid: ${listed}`, details);
    }
    if (stage.kind === 'input' && !this.session.flow.takes(stage.id, { type: 'SUBMIT', input: args.input }, this.state.result)) {
      refuse(REFUSALS.INVALID_INPUT, `the flow has no transition for this input of step "${stage.id}"`);
    }
  }

  /** BACK: an input stage whose flow goes back from it, and no data. */
  private checkBack(stage: StageInfo, args: StepArgs): void {
    if (!isBack(args)) refuse(REFUSALS.INVALID_INPUT, 'a step\'s event is SUBMIT (the default) or BACK');
    if (stage.kind !== 'input' || !this.session.flow.takes(stage.id, { type: 'BACK' }, this.state.result)) {
      refuse(REFUSALS.INVALID_INPUT, `step "${stage.id}" has no way back`);
    }
    if (!isObject(args.input) || Object.keys(args.input).length > 0) refuse(REFUSALS.INVALID_INPUT, 'a BACK step carries no data: send "data": {}');
  }

  /** A backend event is taken only by a live session waiting in a `wait` stage that has a transition for it. */
  checkEvent(event: BackendEventArgs): void {
    if (this.state.status !== 'in_progress') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; it waits for no event`, { status: this.state.status });
    }
    if (this.session.busy) refuse(REFUSALS.BUSY, 'a step is still running');
    const stage = this.session.currentStage();
    if (!stage || stage.kind !== 'wait') refuse(REFUSALS.WRONG_STEP, 'the session is not waiting for an event', { expected: stage?.id ?? null });
    if (typeof event?.type !== 'string' || !this.session.flow.takes(stage.id, { type: 'EVENT', input: { event: event.type }, data: event.data }, this.state.result)) {
      refuse(REFUSALS.INVALID_INPUT, `stage "${stage.id}" has no transition for this event`);
    }
  }

  /**
   * A decision for the review the session waits in now (its stage and entry), not decided yet,
   * a reason from the stage's list on a rejection and none on an approval, an operator named.
   */
  checkReview(args: ReviewDecisionArgs): void {
    const { state } = this;
    const stage = this.session.currentStage();
    const review = state.review;
    if (state.status !== 'in_progress' || !stage || stage.kind !== 'review' || !review || args?.stage !== stage.id || args.entry !== state.entry) {
      refuse(REFUSALS.WRONG_STEP, 'the session is not waiting in that review', { expected: stage?.kind === 'review' && state.status === 'in_progress' ? stage.id : null });
    }
    if (review.decided) refuse(REVIEW_REFUSALS.ALREADY_DECIDED, `this review was already decided by another decision (${review.decided.decision})`);
    if (this.session.busy) refuse(REFUSALS.BUSY, 'a step is still running');
    if (!REVIEW_DECISIONS.includes(args.decision)) refuse(REFUSALS.INVALID_INPUT, 'decision must be approve or reject');
    const reasons = stage.review?.reasons ?? [];
    if (args.decision === 'reject' && !reasons.includes(args.reason as string)) refuse(REFUSALS.INVALID_INPUT, `a rejection needs a reason, one of ${reasons.join(', ')}`);
    if (args.decision === 'approve' && args.reason !== undefined) refuse(REFUSALS.INVALID_INPUT, 'an approval takes no reason');
    if (typeof args.operator !== 'string' || args.operator === '' || typeof args.proof !== 'string') refuse(REFUSALS.INVALID_INPUT, 'a decision names its operator and carries its proof');
  }

  checkArchive(): void {
    if (this.state.status !== 'consumed' && this.state.status !== 'expired') {
      refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; only a consumed or expired session can be archived`, {
        status: this.state.status,
      });
    }
  }

  checkExpire(args: ExpireArgs): void {
    if (!this.session.isLive) refuse(REFUSALS.WRONG_STATUS, `the session is ${this.state.status}; it has already ended`, { status: this.state.status });
    if (typeof args?.reason !== 'string' || args.reason === '') refuse(REFUSALS.INVALID_INPUT, 'expire needs a reason');
  }
}
