import { DEFAULT_LIMITS, RateLimiter } from '../../src/api/rate-limit';

/** A limiter on a clock the test moves by hand. */
function limiterAt(start: string): { limiter: RateLimiter; set: (iso: string) => void } {
  let now = Date.parse(start);
  return {
    limiter: new RateLimiter({ now: () => now }),
    set: (iso: string) => {
      now = Date.parse(iso);
    },
  };
}

const OK = { ok: true };

describe('RateLimiter: per second', () => {
  it('accepts exactly perSecond in one second, then refuses with 4291 until the next second', () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:00.250Z');
    const limits = { perSecond: 3, perDay: 1000 };
    expect([1, 2, 3].map(() => limiter.check('acme', limits))).toEqual([OK, OK, OK]);
    // 750 ms are left of this second: Retry-After rounds up to 1.
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4291, retryAfterSeconds: 1 });
    set('2025-01-15T12:00:00.999Z');
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4291, retryAfterSeconds: 1 });
    set('2025-01-15T12:00:01.000Z');
    expect([1, 2, 3].map(() => limiter.check('acme', limits))).toEqual([OK, OK, OK]);
    expect(limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4291 });
  });

  it('keeps counting in the newer second when the clock steps back', () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:01.500Z');
    const limits = { perSecond: 2, perDay: 1000 };
    expect([1, 2].map(() => limiter.check('acme', limits))).toEqual([OK, OK]);
    set('2025-01-15T12:00:00.900Z');
    // The full window ends at 12:00:02.000, 1.1 s away: Retry-After 2.
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4291, retryAfterSeconds: 2 });
  });

  it('applies the defaults of 20 a second', () => {
    expect(DEFAULT_LIMITS).toEqual({ perSecond: 20, perDay: 100_000 });
    const { limiter } = limiterAt('2025-01-15T12:00:00.000Z');
    for (let i = 0; i < 20; i += 1) expect(limiter.check('acme', DEFAULT_LIMITS)).toEqual(OK);
    expect(limiter.check('acme', DEFAULT_LIMITS)).toEqual({ ok: false, code: 4291, retryAfterSeconds: 1 });
  });
});

describe('RateLimiter: per UTC day', () => {
  it('refuses with 4293 until the next UTC midnight, then accepts again', () => {
    const { limiter, set } = limiterAt('2025-01-15T23:59:58.400Z');
    const limits = { perSecond: 100, perDay: 5 };
    expect([1, 2, 3, 4, 5].map(() => limiter.check('acme', limits))).toEqual([OK, OK, OK, OK, OK]);
    // Midnight is 1.6 s away: Retry-After 2.
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 2 });
    set('2025-01-15T23:59:59.999Z');
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 1 });
    set('2025-01-16T00:00:00.000Z');
    expect([1, 2, 3, 4, 5].map(() => limiter.check('acme', limits))).toEqual([OK, OK, OK, OK, OK]);
    // A whole day is left now: 86,400 s.
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 86_400 });
  });

  it('gives the seconds to midnight from mid-day, rounded up', () => {
    const { limiter, set } = limiterAt('2025-03-01T10:00:00.000Z');
    const limits = { perSecond: 100, perDay: 2 };
    expect([1, 2].map(() => limiter.check('acme', limits))).toEqual([OK, OK]);
    // 14 hours to 2025-03-02T00:00Z.
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 50_400 });
    set('2025-03-01T10:00:00.500Z');
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 50_400 });
    set('2025-03-01T10:00:01.000Z');
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 50_399 });
  });

  it('answers 4293 rather than 4291 when both limits are reached', () => {
    const { limiter } = limiterAt('2025-01-15T12:00:00.000Z');
    const limits = { perSecond: 1, perDay: 1 };
    expect(limiter.check('acme', limits)).toEqual(OK);
    expect(limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 43_200 });
  });
});

describe('RateLimiter: bookkeeping', () => {
  it('does not count refused requests against either limit', () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:00.100Z');
    const limits = { perSecond: 2, perDay: 3 };
    expect([1, 2].map(() => limiter.check('acme', limits))).toEqual([OK, OK]);
    for (let i = 0; i < 5; i += 1) expect(limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4291 });
    set('2025-01-15T12:00:01.100Z');
    // Had the five refusals counted, the day (3) would already be spent.
    expect(limiter.check('acme', limits)).toEqual(OK);
    expect(limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4293 });
  });

  it('counts each client on its own', () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:00.000Z');
    const limits = { perSecond: 2, perDay: 3 };
    expect([1, 2].map(() => limiter.check('acme', limits))).toEqual([OK, OK]);
    expect(limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4291 });
    expect([1, 2].map(() => limiter.check('globex', limits))).toEqual([OK, OK]);
    expect(limiter.check('globex', limits)).toMatchObject({ ok: false, code: 4291 });
    set('2025-01-15T12:00:01.000Z');
    expect(limiter.check('acme', limits)).toEqual(OK);
    expect(limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4293 });
    expect(limiter.check('globex', limits)).toEqual(OK);
    // A client's own limits apply to it alone.
    expect(limiter.check('initech', { perSecond: 1, perDay: 10 })).toEqual(OK);
    expect(limiter.check('initech', { perSecond: 1, perDay: 10 })).toMatchObject({ ok: false, code: 4291 });
  });

  it('forgets the clients of past days', () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:00.000Z');
    const limits = { perSecond: 5, perDay: 5 };
    for (const id of ['a', 'b', 'c']) limiter.check(id, limits);
    expect(limiter.trackedClients).toBe(3);
    set('2025-01-16T00:00:00.000Z');
    limiter.check('a', limits);
    expect(limiter.trackedClients).toBe(1);
  });

  it('refuses limits that are not positive whole numbers', () => {
    const limiter = new RateLimiter({ now: () => 0 });
    expect(() => limiter.check('acme', { perSecond: 0, perDay: 10 })).toThrow(RangeError);
    expect(() => limiter.check('acme', { perSecond: 1.5, perDay: 10 })).toThrow('perSecond must be a positive whole number');
    expect(() => limiter.check('acme', { perSecond: 1, perDay: Number.NaN })).toThrow('perDay must be a positive whole number');
  });
});
