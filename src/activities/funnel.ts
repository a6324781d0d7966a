/**
 * The funnel's local activity: writes a session's end once (src/funnel, keyed by its workflow
 * id) and, when the write was new, counts its stage visits in the worker's metrics. Counting on
 * the store's answer makes each session count once per worker process, whatever Temporal retries.
 */
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FunnelActivities, SessionEnd } from '../contract/funnel';
import type { FunnelWriter } from '../funnel/open';
import { FunnelRecordInvalid } from '../funnel/record';
import type { WorkerMetrics } from './metrics';

/** How many snapshot versions of a flow keep a label of their own: the rest are `other`. */
export const LABELLED_VERSIONS = 3;

/**
 * The version label, bounded: `draft`, or one of the LABELLED_VERSIONS snapshots whose sessions
 * started last (the active ones, as this process sees them), or `other`. A version that falls
 * out counts under `other` from then on; Prometheus keeps its earlier series as they were.
 */
export class VersionLabels {
  /** Per tenant and flow: each snapshot's newest session start seen. */
  private readonly latest = new Map<string, Map<string, number>>();

  label(end: Pick<SessionEnd, 'clientId' | 'flowId' | 'flowVersion' | 'createdAt'>): string {
    if (end.flowVersion === 'draft') return 'draft';
    const key = JSON.stringify([end.clientId, end.flowId]);
    const versions = this.latest.get(key) ?? new Map<string, number>();
    this.latest.set(key, versions);
    versions.set(end.flowVersion, Math.max(versions.get(end.flowVersion) ?? 0, end.createdAt));
    const active = [...versions.entries()].sort((a, b) => b[1] - a[1]).slice(0, LABELLED_VERSIONS);
    // Only the active ones are remembered: the map stays as small as the labels.
    for (const version of [...versions.keys()]) if (!active.some(([v]) => v === version)) versions.delete(version);
    return versions.has(end.flowVersion) ? end.flowVersion : 'other';
  }
}

export function funnelActivities(writer: FunnelWriter, metrics: WorkerMetrics, versions = new VersionLabels()): FunnelActivities {
  return {
    async recordSessionEnd(end: SessionEnd): Promise<void> {
      const workflowId = activityInfo().workflowExecution?.workflowId;
      if (!workflowId) throw ApplicationFailure.nonRetryable('a session end is written from its session workflow only', 'FunnelRecordInvalid');
      let written;
      try {
        written = await writer.write(workflowId, end);
      } catch (err) {
        if (err instanceof FunnelRecordInvalid) throw ApplicationFailure.nonRetryable(err.message, 'FunnelRecordInvalid');
        throw err;
      }
      if (!written.fresh) return;
      const kinds = new Map(end.stages.map((stage) => [stage.id, stage.kind]));
      const base = { tenant: end.clientId, flow: end.flowId, version: versions.label(end) };
      end.visits.forEach((visit, i) => {
        const outcome = i === end.visits.length - 1 ? end.ending : 'went_on';
        metrics.stageExit({ ...base, stage: visit.stage, stage_kind: kinds.get(visit.stage) ?? 'unknown', outcome }, visit.ms === null ? null : visit.ms / 1000);
      });
    },
  };
}
