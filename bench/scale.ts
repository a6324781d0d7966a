/**
 * Scale on paper (docs/guides/scale.md): what a number of sessions a day needs, from the
 * per-session figures `make bench-cluster` measures. Pure arithmetic; each assumption is named
 * here and stated, with its source, on the page.
 */
export interface ScaleInputs {
  /** CPU ms per whole session. */
  temporalCpuMs: number;
  postgresCpuMs: number;
  /** All workers together, all apis together. */
  workerCpuMs: number;
  apiCpuMs: number;
  /** Growth of the temporal and temporal_visibility databases per session. */
  temporalDbBytes: number;
  /** Growth of the sessionflow database (keys, funnel, audit, limits) per session. */
  sessionflowDbBytes: number;
  walBytes: number;
  /** WAL writes, WAL fsyncs and data pages written. */
  writeIos: number;
  persistenceRequests: number;
  cloudActions: number;
}

export interface ScaleAssumptions {
  peakFactor: number;
  coreUtilisation: number;
  openDays: number;
  namespaceRetentionDays: number;
  sessionflowRetentionDays: number;
  workflowsPerShard: number;
}

export const SCALE_ASSUMPTIONS: Readonly<ScaleAssumptions> = {
  /** The busiest hour's rate against the day's average (a working day's traffic in about 8 hours). */
  peakFactor: 3,
  /** Cores are planned to be this busy at the peak, leaving room for a lost host, GC and bursts. */
  coreUtilisation: 0.6,
  /** A session stays open (and in the history tables) until its client's retentionSeconds, 30 days by default. */
  openDays: 30,
  /** Then closed, kept for the namespace's retention: 72 h, the Temporal CLI's default, which scripts/temporal-namespace.sh keeps. */
  namespaceRetentionDays: 3,
  /** The funnel's and the audit trail's default retention (SESSIONFLOW_FUNNEL_RETENTION_DAYS, SESSIONFLOW_AUDIT_RETENTION_DAYS). */
  sessionflowRetentionDays: 400,
  /** Workflows one history shard is planned to hold ("tens of thousands", Temporal's docs). */
  workflowsPerShard: 20_000,
};

export interface ScaleEstimate {
  averagePerSecond: number;
  peakPerSecond: number;
  temporalCores: number;
  postgresCores: number;
  workerCores: number;
  apiCores: number;
  writeIops: number;
  walGiBPerDay: number;
  /** temporal and temporal_visibility at steady state: open sessions plus closed ones within retention. */
  temporalStorageGiB: number;
  sessionflowStorageGiB: number;
  persistenceRequestsPerSecond: number;
  cloudActionsPerSecond: number;
  /** Open session workflows at steady state (a session's other workflows close within minutes). */
  openSessions: number;
  historyShards: number;
}

const DAY_SECONDS = 86_400;
const GIB = 2 ** 30;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The smallest power of two at least `n`. */
export function powerOfTwoAtLeast(n: number): number {
  let power = 1;
  while (power < n) power *= 2;
  return power;
}

export function scaleFor(inputs: ScaleInputs, sessionsPerDay: number, assumptions: Readonly<ScaleAssumptions> = SCALE_ASSUMPTIONS): ScaleEstimate {
  const average = sessionsPerDay / DAY_SECONDS;
  const peak = average * assumptions.peakFactor;
  const cores = (cpuMsPerSession: number) => round((peak * cpuMsPerSession) / 1000 / assumptions.coreUtilisation);
  const openSessions = sessionsPerDay * assumptions.openDays;
  const temporalDays = assumptions.openDays + assumptions.namespaceRetentionDays;
  return {
    averagePerSecond: round(average),
    peakPerSecond: round(peak),
    temporalCores: cores(inputs.temporalCpuMs),
    postgresCores: cores(inputs.postgresCpuMs),
    workerCores: cores(inputs.workerCpuMs),
    apiCores: cores(inputs.apiCpuMs),
    writeIops: Math.round(peak * inputs.writeIos),
    walGiBPerDay: round((sessionsPerDay * inputs.walBytes) / GIB),
    temporalStorageGiB: Math.round((sessionsPerDay * temporalDays * inputs.temporalDbBytes) / GIB),
    sessionflowStorageGiB: Math.round((sessionsPerDay * assumptions.sessionflowRetentionDays * inputs.sessionflowDbBytes) / GIB),
    persistenceRequestsPerSecond: Math.round(peak * inputs.persistenceRequests),
    cloudActionsPerSecond: Math.round(peak * inputs.cloudActions),
    openSessions,
    historyShards: powerOfTwoAtLeast(openSessions / assumptions.workflowsPerShard),
  };
}
