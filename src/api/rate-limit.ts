/**
 * Per-client request limits of the backend API, answered with Attestr's codes: 4291 when a
 * client exceeds its per-second rate, 4293 when it exceeds its daily quota.
 *
 * The counting is rate-limiter-flexible's. With one api process (the embedded default) the
 * counters live in its memory; with several (`make cluster`, docker-compose.yml) they live in
 * PostgreSQL (`LIMITS_DATABASE_URL`), where every replica increments the same row atomically,
 * so the limits hold for the client as a whole rather than per process. Should PostgreSQL stop
 * answering, each process falls back to counting in memory (rate-limiter-flexible's insurance
 * limiter) rather than refusing or failing requests: the limits protect the service from a
 * runaway client, they are not billing.
 *
 * Windows are aligned to the clock: the per-second window is the current whole second of
 * `now()` (epoch milliseconds divided by 1000), the daily window the current UTC calendar day.
 * Each window is its own counter key, so the store only ever increments. At most `perSecond`
 * requests are accepted per second window and `perDay` per day; a refused request counts
 * against neither. Keys expire shortly after their window, so memory and table rows are
 * bounded by the clients seen in the current windows.
 */
import type { Pool } from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { retryAfterSeconds } from './errors';

export interface RateLimits {
  perSecond: number;
  perDay: number;
}

export const DEFAULT_LIMITS: Readonly<RateLimits> = Object.freeze({ perSecond: 20, perDay: 100_000 });

/** Attestr: "Maximum account rate limit exceeded". */
export const RATE_LIMIT_CODE = 4291;
/** Attestr: "Maximum account daily limit exceeded". */
export const DAILY_LIMIT_CODE = 4293;

export type RateDecision = { ok: true } | { ok: false; code: 4291 | 4293; retryAfterSeconds: number };

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/** The table every api replica counts in. */
export const LIMITS_TABLE = 'sessionflow_rate_limits';

/**
 * How long a window's key is kept, in seconds: past its window's end, so a slow request near the
 * boundary still finds it; the key names its window, so keeping it longer changes no count.
 */
const KEEP_SECOND_KEY_S = 5;
const KEEP_DAY_KEY_S = 86_400 + 3_600;
/** The counters decide nothing themselves: the limits differ per client, so check() compares. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

function checkLimits(limits: RateLimits): void {
  for (const name of ['perSecond', 'perDay'] as const) {
    if (!Number.isSafeInteger(limits[name]) || limits[name] < 1) throw new RangeError(`${name} must be a positive whole number`);
  }
}

/** The two stores a limiter counts in; limiters given the same ones count together. */
export interface Counters {
  second: RateLimiterAbstract;
  day: RateLimiterAbstract;
}

/** Counters in this process's memory: the embedded default, one api process. */
export function memoryCounters(): Counters {
  return {
    second: new RateLimiterMemory({ keyPrefix: 'rl-s', points: UNLIMITED, duration: KEEP_SECOND_KEY_S }),
    day: new RateLimiterMemory({ keyPrefix: 'rl-d', points: UNLIMITED, duration: KEEP_DAY_KEY_S }),
  };
}

function postgresCounter(pool: Pool, keyPrefix: string, duration: number, tableCreated: boolean): Promise<RateLimiterAbstract> {
  return new Promise((resolve, reject) => {
    const limiter: RateLimiterAbstract = new RateLimiterPostgres(
      {
        storeClient: pool,
        tableName: LIMITS_TABLE,
        tableCreated,
        clearExpiredByTimeout: true,
        keyPrefix,
        points: UNLIMITED,
        duration,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix, points: UNLIMITED, duration }),
      },
      // Called from inside the constructor when the table exists already: resolve after it returned.
      (err?: Error) => queueMicrotask(() => (err ? reject(err) : resolve(limiter))),
    );
  });
}

export class RateLimiter {
  private readonly now: () => number;
  private readonly counters: Counters;

  /** In memory (one api process), or on the counters `RateLimiter.postgres` made. */
  constructor(options: { now?: () => number; counters?: Counters } = {}) {
    this.now = options.now ?? Date.now;
    this.counters = options.counters ?? memoryCounters();
  }

  /**
   * Counters shared by every api process that uses the same database: creates the table when
   * missing (once, before the second counter, so two replicas starting together do not race).
   */
  static async postgres(pool: Pool, options: { now?: () => number } = {}): Promise<RateLimiter> {
    const second = await postgresCounter(pool, 'rl-s', KEEP_SECOND_KEY_S, false);
    const day = await postgresCounter(pool, 'rl-d', KEEP_DAY_KEY_S, true);
    return new RateLimiter({ ...options, counters: { second, day } });
  }

  /**
   * Decides one request of `clientId` (an authenticated client id: an unauthenticated caller
   * must not be able to create entries) and counts it when accepted.
   */
  async check(clientId: string, limits: RateLimits): Promise<RateDecision> {
    checkLimits(limits);
    const { secondKey, dayKey, secondFull, dayFull } = this.windows(clientId);

    // Each consume is one atomic increment that answers this request's place in the window.
    const inSecond = await consumed(this.counters.second, secondKey);
    if (inSecond > limits.perSecond) {
      // The daily refusal wins when both apply: its Retry-After is the one worth waiting for.
      const dayCount = (await this.counters.day.get(dayKey))?.consumedPoints ?? 0;
      if (dayCount >= limits.perDay) return dayFull;
      return secondFull;
    }
    const inDay = await consumed(this.counters.day, dayKey);
    if (inDay > limits.perDay) {
      // Refused: give the second back, so the refusal counts against neither window. (The
      // day's own excess needs no undo: that window refuses everything until it ends.)
      await this.counters.second.reward(secondKey, 1);
      return dayFull;
    }
    return { ok: true };
  }

  /**
   * Decides one request of `clientId` without counting it: refused when a window is full
   * already. For requests counted only once done (`charge`): a device step counts only when its
   * session accepted it, so nobody without the session's nonce can spend the client's limits.
   */
  async peek(clientId: string, limits: RateLimits): Promise<RateDecision> {
    checkLimits(limits);
    const { secondKey, dayKey, secondFull, dayFull } = this.windows(clientId);
    const [inSecond, inDay] = await Promise.all([this.counters.second.get(secondKey), this.counters.day.get(dayKey)]);
    if ((inDay?.consumedPoints ?? 0) >= limits.perDay) return dayFull;
    if ((inSecond?.consumedPoints ?? 0) >= limits.perSecond) return secondFull;
    return { ok: true };
  }

  /**
   * Counts one request `peek` let through, once it was done. Requests in flight together all
   * pass `peek`, so a window can end a few over its limit: the limits hold back runaway use,
   * they are not billing.
   */
  async charge(clientId: string): Promise<void> {
    const { secondKey, dayKey } = this.windows(clientId);
    await consumed(this.counters.second, secondKey);
    await consumed(this.counters.day, dayKey);
  }

  /** The client's current one-second and one-day windows: their counters' keys, and the refusal each gives once full. */
  private windows(clientId: string): { secondKey: string; dayKey: string; secondFull: RateDecision; dayFull: RateDecision } {
    const now = this.now();
    const second = Math.floor(now / SECOND_MS);
    const day = Math.floor(now / DAY_MS);
    return {
      secondKey: `${clientId}:${second}`,
      dayKey: `${clientId}:${day}`,
      secondFull: { ok: false, code: RATE_LIMIT_CODE, retryAfterSeconds: retryAfterSeconds((second + 1) * SECOND_MS - now) },
      dayFull: { ok: false, code: DAILY_LIMIT_CODE, retryAfterSeconds: retryAfterSeconds((day + 1) * DAY_MS - now) },
    };
  }
}

/** Counts one request in the window `key` and answers how many that window holds now. */
async function consumed(counter: RateLimiterAbstract, key: string): Promise<number> {
  const result: RateLimiterRes = await counter.consume(key, 1);
  return result.consumedPoints;
}
