/** Latency samples and their summary: nearest-rank percentiles over every sample taken. */
export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || 1);
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), mean: round(mean) };
}

/** Collects named latency samples (ms) and counts failures, per benchmark pass. */
export class Recorder {
  readonly samples = new Map<string, number[]>();
  errors = 0;
  readonly errorExamples: string[] = [];

  /** Times `work`; the sample counts only once `check` accepted the answer (it throws if not). */
  async time<T>(op: string, work: () => Promise<T>, check?: (value: T) => void): Promise<T> {
    const started = performance.now();
    const value = await work();
    const elapsed = performance.now() - started;
    check?.(value);
    const list = this.samples.get(op) ?? [];
    list.push(elapsed);
    this.samples.set(op, list);
    return value;
  }

  fail(err: unknown): void {
    this.errors += 1;
    if (this.errorExamples.length < 5) this.errorExamples.push(err instanceof Error ? err.message : String(err));
  }

  summaries(): Record<string, LatencySummary> {
    return Object.fromEntries([...this.samples].map(([op, list]) => [op, summarize(list)]));
  }
}
