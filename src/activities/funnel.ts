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
 * started last (the active ones, as this process sees them), or `other`. A version pushed out
 * by a newer one counts as `other` from then on and never gets its label back, so each snapshot
 * makes one set of series at most, and at most LABELLED_VERSIONS grow at a time.
 */
export class VersionLabels {
  /** Per tenant and flow: each active snapshot's newest session start seen. */
  private readonly active = new Map<string, Map<string, number>>();
  /** Per tenant and flow: the snapshots pushed out. */
  private readonly retired = new Map<string, Set<string>>();

  label(end: Pick<SessionEnd, 'clientId' | 'flowId' | 'flowVersion' | 'createdAt'>): string {
    const version = end.flowVersion;
    if (version === 'draft') return 'draft';
    const key = JSON.stringify([end.clientId, end.flowId]);
    const active = this.active.get(key) ?? new Map<string, number>();
    const retired = this.retired.get(key) ?? new Set<string>();
    this.active.set(key, active);
    this.retired.set(key, retired);
    if (retired.has(version)) return 'other';
    active.set(version, Math.max(active.get(version) ?? 0, end.createdAt));
    if (active.size > LABELLED_VERSIONS) {
      const [oldest] = [...active.entries()].sort((a, b) => a[1] - b[1])[0];
      active.delete(oldest);
      retired.add(oldest);
    }
    return active.has(version) ? version : 'other';
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
