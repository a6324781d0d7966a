/**
 * The funnel's shape, shared by the store that records session ends (src/funnel) and the
 * console page that draws it (src/console). Types only: no personal data ever appears here,
 * only tenant, flow, version and stage ids, counts and durations.
 */

/** How a session ended in the stage it ended in. `completed`: its flow reached a final state from this stage. */
export const STAGE_ENDINGS = ['completed', 'expired', 'declined', 'provider_error', 'review_rejected', 'abandoned'] as const;
export type StageEnding = (typeof STAGE_ENDINGS)[number];

/** One funnel: one tenant, one flow, one version (a snapshot id, or `draft`), over [from, to) in Unix ms. */
export interface FunnelQuery {
  clientId: string;
  flowId: string;
  flowVersion: string;
  from: number;
  to: number;
}

export interface StageFunnel {
  stage: string;
  /** Sessions that entered the stage at least once. */
  entered: number;
  /** Sessions that entered it and went on to another stage. */
  wentOn: number;
  /** Sessions whose last stage this was, by how they ended. */
  endedHere: Record<StageEnding, number>;
  /** Time spent in the stage per visit, in ms; null without a visit. */
  timeInStage: { p50: number | null; p90: number | null };
}

export interface FunnelReport {
  query: FunnelQuery;
  /** Sessions that ended in the window. */
  sessions: number;
  /** In the flow's own order (the version's first stage first), then stages no longer in it. */
  stages: StageFunnel[];
}

/** Where the console reads funnels from. */
export interface FunnelSource {
  funnel(query: FunnelQuery): Promise<FunnelReport>;
}
