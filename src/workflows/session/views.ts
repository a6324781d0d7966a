/**
 * The session as queries and the Temporal UI read it: projections of its state that change
 * nothing. (The prompt an update answers with is the SessionModel's own.)
 */
import type { ResultView, StatusView, StepPrompt } from '../../contract/session';
import type { SessionModel } from './model';

export function statusView(session: SessionModel): StatusView {
  const { input, state } = session;
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
    stage: session.isLive ? state.stage : null,
    stepCount: state.stepCount,
    outcome: state.outcome,
    endReason: state.endReason,
    deviceClientId: state.deviceClientId ?? null,
    ...(state.handoff ? { handedOffFrom: handedOffFrom(session) } : {}),
    ...(input.returnUrl !== undefined ? { returnUrl: input.returnUrl } : {}),
    ...(session.provesUpdates && session.isLive ? { pickUp: pickUp(session) } : {}),
  };
}

/** The device a handoff moved the session away from, which may follow it to its end; null otherwise. */
export function handedOffFrom({ state }: SessionModel): string | null {
  const handoff = state.handoff;
  return handoff && handoff.claimed && handoff.from !== null ? handoff.from : null;
}

/** While a step runs (its nonce spent, or the next stage still being prepared) there is nothing to pick up. */
function pickUp(session: SessionModel): { nonceSource: string | null; prompt: StepPrompt } {
  const { state } = session;
  const ready = state.nonce !== null && !session.busy;
  return { nonceSource: ready ? (state.nonceSource ?? null) : null, prompt: session.prompt() };
}

export function resultView(session: SessionModel): ResultView {
  const { status, outcome, result, archivedAt } = session.state;
  const final = status === 'consumed' || status === 'expired';
  return { status, outcome, result: final ? result : null, archived: archivedAt, inputDigest: session.inputDigest, seal: session.input.seal ?? null };
}

/** One line for the Temporal UI's current details: where the session is, nothing personal. */
export function currentDetails(session: SessionModel): string {
  const { state } = session;
  const stage = session.currentStage();
  const where = session.isLive && stage ? `stage ${stage.id} (${stage.kind})` : `outcome ${state.outcome ?? 'none'}`;
  return `${state.status} · ${where} · ${state.stepCount} step(s)`;
}

/**
 * True only for the hash of the nonce the next step must carry; nothing is current once the
 * session ended. A session from before nonces were hashed holds a plain nonce, which is never
 * compared here (no plain nonce is passed in): its device waits with its device credential.
 */
export function holdsNonceHash({ state }: SessionModel, nonceHash: string | null): boolean {
  return nonceHash !== null && state.nonceHashed === true && state.nonce !== null && nonceHash === state.nonce;
}
