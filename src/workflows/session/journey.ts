/**
 * The session's end for the funnel, built from its own state: the stages it passed through
 * (SessionState.journey, kept by SessionModel.enter) and how it left the last one. Pure: read
 * only, unit-tested directly. docs/guides/funnel.md defines each ending; in short, in this order:
 *   - expired: the expiry (or the tenant's expire) ended it after at least one accepted device
 *     step in its last stage; abandoned: with none there (a session never launched included);
 *   - completed: the flow reached a final state with the outcome `success`;
 *   - provider_error: the move to a final state was the stage's ERROR (a provider call failed),
 *     or the session ended in error (step budget, no transition) at a provider stage;
 *   - review_rejected: a reviewer's rejection moved it to a final state;
 *   - declined: any other final state that is not success (the user's own choice in an input
 *     stage, a provider's negative answer, a backend event, a stage timer, or the session ended
 *     in error at a stage that is not a provider's).
 */
import type { StageEnding } from '../../funnel/report';
import type { SessionEnd, StageVisit } from '../../contract/funnel';
import type { FlowMachine } from '../../flows/core/types';
import { stageInfo } from '../../flows/core/engine';
import type { SessionModel } from './model';

/** The machine's stages (final states aside) in its own order, the initial one first. */
export function stageOrder(machine: FlowMachine): SessionEnd['stages'] {
  const ids = [machine.initial, ...Object.keys(machine.states).filter((id) => id !== machine.initial)];
  return ids.flatMap((id) => {
    const info = stageInfo(machine, id);
    return info ? [{ id, kind: info.kind }] : [];
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** How the session left `last`, its last stage (`stepsBefore`: device steps counted when it entered): see the module's comment. */
export function endingOf(session: SessionModel, last: string, stepsBefore: number | null): StageEnding {
  const { state } = session;
  // Without a journey, whether the last stage saw a step is not known: expired, not abandoned.
  if (state.status === 'expired') return stepsBefore === null || state.stepCount > stepsBefore ? 'expired' : 'abandoned';
  if (state.outcome === 'success') return 'completed';
  const kind = stageInfo(session.machine, last)?.kind;
  if (state.endReason !== null) return kind === 'provider' ? 'provider_error' : 'declined';
  const output = state.result[last]?.output;
  if (isObject(output) && output.error !== undefined) return 'provider_error';
  if (kind === 'review' && isObject(output) && output.decision === 'reject') return 'review_rejected';
  return 'declined';
}

/** The visits with their times: each lasts until the next one, the last until the end; none before launch. */
function visitsOf(journey: NonNullable<SessionModel['state']['journey']>, launchedAt: number | null, endedAt: number): StageVisit[] {
  return journey.map((visit, i) => {
    if (launchedAt === null) return { stage: visit.stage, ms: null };
    const from = i === 0 ? Math.max(visit.at, launchedAt) : visit.at;
    const to = i + 1 < journey.length ? journey[i + 1].at : endedAt;
    return { stage: visit.stage, ms: Math.max(0, to - from) };
  });
}

/** The session's end as the funnel keeps it; call once it ended (consumed or expired). */
export function sessionEnd(session: SessionModel): SessionEnd {
  const { state, input } = session;
  const endedAt = state.endedAt ?? state.enteredAt;
  const journey = state.journey;
  const last = journey?.length ? journey[journey.length - 1] : null;
  const lastStage = last?.stage ?? lastStageWithoutJourney(session);
  const { definition } = input;
  return {
    clientId: input.clientId,
    flowId: definition.flowId,
    flowVersion: definition.snapshotId ?? 'draft',
    stages: stageOrder(definition.machine),
    visits: journey ? visitsOf(journey, state.launchedAt, endedAt) : [{ stage: lastStage, ms: null }],
    journey: journey ? 'full' : 'last',
    ending: endingOf(session, lastStage, last ? last.steps : null),
    outcome: state.status === 'expired' ? null : state.outcome,
    createdAt: input.createdAt,
    endedAt,
  };
}

/**
 * A session without a journey: an expired one is still at its last stage; a consumed one is at a
 * final state, so its last stage is the last one its result recorded (result keys keep their
 * insertion order), else the flow's first.
 */
function lastStageWithoutJourney(session: SessionModel): string {
  const { state, machine } = session;
  if (stageInfo(machine, state.stage)) return state.stage;
  const recorded = Object.keys(state.result).filter((id) => stageInfo(machine, id));
  return recorded[recorded.length - 1] ?? machine.initial;
}
