/**
 * What one `make bench` run measures. By default everything: sessionflow, the naive peer and
 * the Restate peer at 1, 8 and 32 devices, then history, encryption and memory. Three variables
 * narrow it to a short partial run (its report goes to .data/bench/results, never
 * bench/results, and judges no target):
 * - BENCH_ONLY: a comma list of sessionflow, peer, restate (`BENCH_ONLY=restate`);
 * - BENCH_DEVICES: a comma list of concurrencies among 1, 8, 32 (`BENCH_DEVICES=1`);
 * - BENCH_SESSIONS: whole sessions per pass (`BENCH_SESSIONS=20`).
 */

export const SYSTEMS = ['sessionflow', 'peer', 'restate'] as const;
export type System = (typeof SYSTEMS)[number];

export const CONCURRENCY = [1, 8, 32] as const;
export type Concurrency = (typeof CONCURRENCY)[number];

export interface Selection {
  systems: System[];
  concurrency: Concurrency[];
  /** Whole sessions per pass when BENCH_SESSIONS sets it. */
  sessions: number | null;
  /** Narrowed by any of the three: no history, encryption or memory pass, no target judged. */
  partial: boolean;
}

function list<T extends string | number>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], parse: (word: string) => T): T[] | null {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return null;
  const chosen = raw.split(',').map((word) => parse(word.trim()));
  const unknown = chosen.filter((value) => !allowed.includes(value));
  if (unknown.length > 0 || chosen.length === 0) throw new Error(`${name} must be a comma list of ${allowed.join(', ')}; got ${raw}`);
  // In the standard order, once each.
  return allowed.filter((value) => chosen.includes(value));
}

export function readSelection(env: NodeJS.ProcessEnv): Selection {
  const systems = list<System>(env, 'BENCH_ONLY', SYSTEMS, (word) => word as System);
  const concurrency = list<Concurrency>(env, 'BENCH_DEVICES', CONCURRENCY, (word) => Number(word) as Concurrency);
  const rawSessions = env.BENCH_SESSIONS;
  let sessions: number | null = null;
  if (rawSessions !== undefined && rawSessions.trim() !== '') {
    sessions = Number(rawSessions);
    if (!Number.isInteger(sessions) || sessions < 1) throw new Error(`BENCH_SESSIONS must be a whole number of at least 1; got ${rawSessions}`);
  }
  return {
    systems: systems ?? [...SYSTEMS],
    concurrency: concurrency ?? [...CONCURRENCY],
    sessions,
    partial: systems !== null || concurrency !== null || sessions !== null,
  };
}
