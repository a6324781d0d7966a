/**
 * Per-client request limits of the backend API, answered with Attestr's codes: 4291 when a
 * client exceeds its per-second rate, 4293 when it exceeds its daily quota.
 *
 * The counters live in the memory of one api process. Each api replica counts on its own, so
 * with N replicas behind a load balancer a client can get up to N times its configured limits,
 * and a restart forgets the day's count. That is accepted: the limits protect the service from
 * a runaway client, they are not billing. (Temporal is the only durable store, and the api is
 * stateless by design; a shared counter would need a second one.)
 *
 * Algorithm: fixed windows aligned to the clock. The per-second window is the current whole
 * second of `now()` (epoch milliseconds divided by 1000), the daily window the current UTC
 * calendar day. At most `perSecond` requests are accepted per second window and `perDay` per
 * day; a refused request counts against neither. Each client holds one entry with only the
 * current second's and the current day's counters, and entries of past days are swept, so
 * memory is bounded by the number of clients seen today.
 */

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

interface Counters {
  second: number;
  secondCount: number;
  day: number;
  dayCount: number;
}

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive whole number`);
}

/** Whole seconds from `now` to `until` (epoch ms), rounded up and at least 1, for Retry-After. */
function secondsUntil(until: number, now: number): number {
  return Math.max(1, Math.ceil((until - now) / SECOND_MS));
}

export class RateLimiter {
  private readonly now: () => number;
  private readonly counters = new Map<string, Counters>();
  private sweptDay = -Infinity;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** How many clients currently hold counters (for tests and metrics). */
  get trackedClients(): number {
    return this.counters.size;
  }

  /**
   * Decides one request of `clientId` (an authenticated client id: an unauthenticated caller
   * must not be able to create entries) and counts it when accepted.
   */
  check(clientId: string, limits: RateLimits): RateDecision {
    checkLimit('perSecond', limits.perSecond);
    checkLimit('perDay', limits.perDay);
    const now = this.now();
    const second = Math.floor(now / SECOND_MS);
    const day = Math.floor(now / DAY_MS);
    if (day > this.sweptDay) this.sweep(day);

    let entry = this.counters.get(clientId);
    if (!entry) {
      entry = { second, secondCount: 0, day, dayCount: 0 };
      this.counters.set(clientId, entry);
    }
    // A clock that steps back keeps counting in the newer window rather than reopening an
    // older one, so a clock adjustment never grants extra requests.
    if (second > entry.second) {
      entry.second = second;
      entry.secondCount = 0;
    }
    if (day > entry.day) {
      entry.day = day;
      entry.dayCount = 0;
    }

    // The daily refusal wins when both apply: its Retry-After is the one worth waiting for.
    if (entry.dayCount >= limits.perDay) {
      return { ok: false, code: DAILY_LIMIT_CODE, retryAfterSeconds: secondsUntil((entry.day + 1) * DAY_MS, now) };
    }
    if (entry.secondCount >= limits.perSecond) {
      return { ok: false, code: RATE_LIMIT_CODE, retryAfterSeconds: secondsUntil((entry.second + 1) * SECOND_MS, now) };
    }
    entry.secondCount += 1;
    entry.dayCount += 1;
    return { ok: true };
  }

  /** Drops the entries of days before `day`: their counters can no longer refuse anything. */
  private sweep(day: number): void {
    for (const [clientId, entry] of this.counters) {
      if (entry.day < day) this.counters.delete(clientId);
    }
    this.sweptDay = day;
  }
}
