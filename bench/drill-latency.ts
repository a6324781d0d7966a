/**
 * The drill's step latency, judged: p50 and p99 without faults and under them, their p99 ratio
 * against issue 31's target (at most 3×), and, when it is missed, by how much and which faults
 * the slowest steps ran into.
 */
import { percentile as sortedPercentile } from './stats';

/** Issue 31: a step's p99 under faults at most this many times its p99 without. */
export const P99_RATIO_TARGET = 3;

/** One device step: when it was sent and how long its answer took. */
export interface TimedStep {
  startedAt: number;
  ms: number;
}

export type FaultKind = 'temporal restart' | 'worker kill' | 'api kill' | '429 storm';

/** A fault as the drill injected it: a moment, or for the Temporal restart the time it was down. */
export interface FaultEvent {
  kind: FaultKind;
  at: number;
  until?: number;
}

/**
 * How long before a step's start a fault still reaches it: a killed worker's sessions wait on
 * its sticky queue until Temporal stops routing there (about 10 s after its last poll); a storm's
 * 429s are waited out (Retry-After 2 s, for 3 s at most).
 */
const REACH_MS: Record<FaultKind, number> = { 'temporal restart': 0, 'worker kill': 10_000, 'api kill': 10_000, '429 storm': 5_000 };
/** The order a step that met several faults is counted under: the longest outage first. */
const WEIGHT: FaultKind[] = ['temporal restart', 'worker kill', 'api kill', '429 storm'];

export interface StepLatency {
  p50: number | null;
  p99: number | null;
  steps: number;
}

export interface LatencyJudgement {
  withoutFaults: StepLatency;
  withFaults: StepLatency;
  /** withFaults.p99 / withoutFaults.p99, to two decimals. */
  p99Ratio: number | null;
  target: number;
  met: boolean | null;
  /** The steps under faults slower than the target allows, by the fault each ran into. */
  slowSteps: { over: number; count: number; byFault: Record<FaultKind | 'none', number> };
  /** When the target is missed: by how much, and what the slowest steps met. */
  why: string | null;
}

/** Nearest-rank percentile of unsorted values; null when there are none. */
export function percentile(values: number[], p: number): number | null {
  return values.length === 0 ? null : sortedPercentile([...values].sort((a, b) => a - b), p);
}

function latency(values: number[]): StepLatency {
  return { p50: percentile(values, 50), p99: percentile(values, 99), steps: values.length };
}

/** The heaviest fault a step ran into, or none. */
export function faultMet(step: TimedStep, faults: FaultEvent[]): FaultKind | 'none' {
  const end = step.startedAt + step.ms;
  const met = new Set(faults.filter((f) => f.at <= end && (f.until ?? f.at) >= step.startedAt - REACH_MS[f.kind]).map((f) => f.kind));
  return WEIGHT.find((kind) => met.has(kind)) ?? 'none';
}

export function judgeStepLatency(baseline: number[], underFaults: TimedStep[], faults: FaultEvent[]): LatencyJudgement {
  const withoutFaults = latency(baseline);
  const withFaults = latency(underFaults.map((s) => s.ms));
  const ratio = withoutFaults.p99 && withFaults.p99 !== null ? Math.round((withFaults.p99 / withoutFaults.p99) * 100) / 100 : null;
  const met = ratio === null ? null : ratio <= P99_RATIO_TARGET;
  const over = withoutFaults.p99 === null ? Infinity : withoutFaults.p99 * P99_RATIO_TARGET;
  const slow = underFaults.filter((s) => s.ms > over);
  const byFault: Record<FaultKind | 'none', number> = { 'temporal restart': 0, 'worker kill': 0, 'api kill': 0, '429 storm': 0, none: 0 };
  for (const step of slow) byFault[faultMet(step, faults)] += 1;
  const slowSteps = { over: Number.isFinite(over) ? over : 0, count: slow.length, byFault };
  let why: string | null = null;
  if (met === false) {
    const met_ = (Object.entries(byFault) as Array<[string, number]>).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`);
    why =
      `p99 under faults ${withFaults.p99} ms is ${ratio}× the ${withoutFaults.p99} ms without: ${withFaults.p99! - over} ms over the ${P99_RATIO_TARGET}× target (${over} ms). ` +
      `${slow.length} of ${underFaults.length} steps under faults took longer than ${over} ms; the heaviest fault each ran into: ${met_.join(', ')}.`;
  }
  return { withoutFaults, withFaults, p99Ratio: ratio, target: P99_RATIO_TARGET, met, slowSteps, why };
}
