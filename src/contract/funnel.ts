/**
 * A session's end as the funnel keeps it: written once per session by the workflow's
 * `recordSessionEnd` local activity (src/workflows/session/funnel.ts), kept by src/funnel/.
 * Persisted in histories (the local activity's marker): fields are added, never renamed.
 * No personal data: tenant, flow, version and stage ids, times, and how the session ended.
 */
import type { Outcome, StageKind } from '../flows/core/types';
import type { StageEnding } from '../funnel/report';

/** One visit of a stage: `ms` the time spent in it, null when no device was there (a session never launched). */
export interface StageVisit {
  stage: string;
  ms: number | null;
}

export interface SessionEnd {
  clientId: string;
  flowId: string;
  /** The snapshot id the session ran, or `draft`. */
  flowVersion: string;
  /** The version's stages (final states aside) in its machine's order, with their kinds. */
  stages: Array<{ id: string; kind: StageKind }>;
  /**
   * The stages visited, in order; the last is where the session ended. `full`: every visit;
   * `last`: a session continued from a build before the funnel, which knows only its last stage.
   */
  visits: StageVisit[];
  journey: 'full' | 'last';
  ending: StageEnding;
  /** The flow's outcome; null when the session expired. */
  outcome: Outcome | null;
  /** Unix ms: when the session was created and when it ended. */
  createdAt: number;
  endedAt: number;
}

/** The local activity the session workflow writes its end with (src/activities/funnel.ts). */
export interface FunnelActivities {
  recordSessionEnd(end: SessionEnd): Promise<void>;
}
