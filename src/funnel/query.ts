/**
 * A funnel from the records of one tenant, flow and version: pure counting, the same for every
 * store. Definitions (docs/guides/funnel.md):
 *   - entered: sessions with at least one visit of the stage;
 *   - wentOn: sessions that left the stage for another stage at least once (a move to a final
 *     state is an ending, not a going on);
 *   - endedHere: sessions whose last stage it was, by ending;
 *   - timeInStage: nearest-rank p50 and p90 over the stage's visits with a time (ms).
 * A session that comes back to a stage counts once in entered, and may count both in wentOn and
 * endedHere.
 */
import { STAGE_ENDINGS, type FunnelQuery, type FunnelReport, type StageEnding, type StageFunnel } from './report';
import { lastStage, type FunnelRecord } from './record';

const DAY_MS = 24 * 3600 * 1000;

/** A query the stores can answer: ids as text, a window of whole ms with from before to. */
export class FunnelQueryInvalid extends Error {
  override readonly name = 'FunnelQueryInvalid';
}

export function checkQuery(query: FunnelQuery): FunnelQuery {
  for (const field of ['clientId', 'flowId', 'flowVersion'] as const) {
    if (typeof query?.[field] !== 'string' || query[field] === '') throw new FunnelQueryInvalid(`${field} must be a non-empty string`);
  }
  if (!Number.isSafeInteger(query.from) || !Number.isSafeInteger(query.to) || query.from >= query.to) throw new FunnelQueryInvalid('from and to must be Unix ms with from before to');
  if (query.to - query.from > 3660 * DAY_MS) throw new FunnelQueryInvalid('the window must be at most ten years');
  return query;
}

/** The value at rank ceil(p × n) of the sorted values (nearest rank); null without values. */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1];
}

function emptyEndings(): Record<StageEnding, number> {
  return Object.fromEntries(STAGE_ENDINGS.map((ending) => [ending, 0])) as Record<StageEnding, number>;
}

/**
 * The stages in the version's own order (the newest record's, as a draft's stages may change),
 * then those no longer in it, in the order older records listed them, then any only visited.
 */
function orderOf(records: readonly FunnelRecord[]): string[] {
  const order: string[] = [];
  const add = (id: string) => {
    if (!order.includes(id)) order.push(id);
  };
  const newestFirst = [...records].sort((a, b) => b.endedAt - a.endedAt);
  for (const record of newestFirst) for (const stage of record.stages) add(stage.id);
  for (const record of newestFirst) for (const visit of record.visits) add(visit.stage);
  return order;
}

/** The funnel of `records` (those matching `query`, one per key: the first kept). */
export function funnelReport(query: FunnelQuery, records: readonly FunnelRecord[]): FunnelReport {
  const seen = new Set<string>();
  const kept = records.filter((r) => {
    const match = r.clientId === query.clientId && r.flowId === query.flowId && r.flowVersion === query.flowVersion && r.endedAt >= query.from && r.endedAt < query.to;
    if (!match || seen.has(r.key)) return false;
    seen.add(r.key);
    return true;
  });
  const stages = new Map<string, { funnel: StageFunnel; times: number[] }>();
  for (const id of orderOf(kept)) stages.set(id, { funnel: { stage: id, entered: 0, wentOn: 0, endedHere: emptyEndings(), timeInStage: { p50: null, p90: null } }, times: [] });
  for (const record of kept) {
    const entered = new Set<string>();
    const wentOn = new Set<string>();
    record.visits.forEach((visit, i) => {
      entered.add(visit.stage);
      const next = record.visits[i + 1];
      if (next && next.stage !== visit.stage) wentOn.add(visit.stage);
      if (visit.ms !== null) stages.get(visit.stage)!.times.push(visit.ms);
    });
    for (const id of entered) stages.get(id)!.funnel.entered += 1;
    for (const id of wentOn) stages.get(id)!.funnel.wentOn += 1;
    stages.get(lastStage(record))!.funnel.endedHere[record.ending] += 1;
  }
  return {
    query,
    sessions: kept.length,
    stages: [...stages.values()].map(({ funnel, times }) => {
      const sorted = [...times].sort((a, b) => a - b);
      return { ...funnel, timeInStage: { p50: nearestRank(sorted, 0.5), p90: nearestRank(sorted, 0.9) } };
    }),
  };
}
