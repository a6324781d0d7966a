import { DEFAULT_LIMITS, memoryCounters, RateLimiter } from '../../src/api/rate-limit';

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

/** `count` checks one after another (each waits for the previous one's count). */
async function times(count: number, check: () => Promise<unknown>): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (let i = 0; i < count; i += 1) answers.push(await check());
  return answers;
}

describe('RateLimiter: per second', () => {
  it('accepts exactly perSecond in one second, then refuses with 4291 until the next second', async () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:00.250Z');
    const limits = { perSecond: 3, perDay: 1000 };
    expect(await times(3, () => limiter.check('acme', limits))).toEqual([OK, OK, OK]);
    // 750 ms are left of this second: Retry-After rounds up to 1.
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4291, retryAfterSeconds: 1 });
    set('2025-01-15T12:00:00.999Z');
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4291, retryAfterSeconds: 1 });
    set('2025-01-15T12:00:01.000Z');
    expect(await times(3, () => limiter.check('acme', limits))).toEqual([OK, OK, OK]);
    expect(await limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4291 });
  });

  it('applies the defaults of 20 a second', async () => {
    expect(DEFAULT_LIMITS).toEqual({ perSecond: 20, perDay: 100_000 });
    const { limiter } = limiterAt('2025-01-15T12:00:00.000Z');
    for (let i = 0; i < 20; i += 1) expect(await limiter.check('acme', DEFAULT_LIMITS)).toEqual(OK);
    expect(await limiter.check('acme', DEFAULT_LIMITS)).toEqual({ ok: false, code: 4291, retryAfterSeconds: 1 });
  });
});

describe('RateLimiter: per UTC day', () => {
  it('refuses with 4293 until the next UTC midnight, then accepts again', async () => {
    const { limiter, set } = limiterAt('2025-01-15T23:59:58.400Z');
    const limits = { perSecond: 100, perDay: 5 };
    expect(await times(5, () => limiter.check('acme', limits))).toEqual([OK, OK, OK, OK, OK]);
    // Midnight is 1.6 s away: Retry-After 2.
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 2 });
    set('2025-01-15T23:59:59.999Z');
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 1 });
    set('2025-01-16T00:00:00.000Z');
    expect(await times(5, () => limiter.check('acme', limits))).toEqual([OK, OK, OK, OK, OK]);
    // A whole day is left now: 86,400 s.
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 86_400 });
  });

  it('gives the seconds to midnight from mid-day, rounded up', async () => {
    const { limiter, set } = limiterAt('2025-03-01T10:00:00.000Z');
    const limits = { perSecond: 100, perDay: 2 };
    expect(await times(2, () => limiter.check('acme', limits))).toEqual([OK, OK]);
    // 14 hours to 2025-03-02T00:00Z.
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 50_400 });
    set('2025-03-01T10:00:00.500Z');
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 50_400 });
    set('2025-03-01T10:00:01.000Z');
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 50_399 });
  });

  it('answers 4293 rather than 4291 when both limits are reached', async () => {
    const { limiter } = limiterAt('2025-01-15T12:00:00.000Z');
    const limits = { perSecond: 1, perDay: 1 };
    expect(await limiter.check('acme', limits)).toEqual(OK);
    expect(await limiter.check('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 43_200 });
  });
});

describe('RateLimiter: bookkeeping', () => {
  it('does not count refused requests against either limit', async () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:00.100Z');
    const limits = { perSecond: 2, perDay: 3 };
    expect(await times(2, () => limiter.check('acme', limits))).toEqual([OK, OK]);
    for (let i = 0; i < 5; i += 1) expect(await limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4291 });
    set('2025-01-15T12:00:01.100Z');
    // Had the five refusals counted, the day (3) would already be spent.
    expect(await limiter.check('acme', limits)).toEqual(OK);
    expect(await limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4293 });
  });

  it('counts each client on its own', async () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:00.000Z');
    const limits = { perSecond: 2, perDay: 3 };
    expect(await times(2, () => limiter.check('acme', limits))).toEqual([OK, OK]);
    expect(await limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4291 });
    expect(await times(2, () => limiter.check('globex', limits))).toEqual([OK, OK]);
    expect(await limiter.check('globex', limits)).toMatchObject({ ok: false, code: 4291 });
    set('2025-01-15T12:00:01.000Z');
    expect(await limiter.check('acme', limits)).toEqual(OK);
    expect(await limiter.check('acme', limits)).toMatchObject({ ok: false, code: 4293 });
    expect(await limiter.check('globex', limits)).toEqual(OK);
    // A client's own limits apply to it alone.
    expect(await limiter.check('initech', { perSecond: 1, perDay: 10 })).toEqual(OK);
    expect(await limiter.check('initech', { perSecond: 1, perDay: 10 })).toMatchObject({ ok: false, code: 4291 });
  });

  it('counts concurrent requests one by one: no more than perSecond of a burst get through', async () => {
    const { limiter } = limiterAt('2025-01-15T12:00:00.000Z');
    const answers = await Promise.all(Array.from({ length: 50 }, () => limiter.check('acme', { perSecond: 7, perDay: 1000 })));
    expect(answers.filter((answer) => answer.ok)).toHaveLength(7);
  });

  it('shares the counts between limiters on the same counters, as api replicas do', async () => {
    let now = Date.parse('2025-01-15T12:00:00.000Z');
    const limits = { perSecond: 3, perDay: 4 };
    // Two replicas with one store behind both, as PostgreSQL is in `make cluster`.
    const counters = memoryCounters();
    const first = new RateLimiter({ now: () => now, counters });
    const second = new RateLimiter({ now: () => now, counters });
    expect([await first.check('acme', limits), await second.check('acme', limits), await first.check('acme', limits)]).toEqual([OK, OK, OK]);
    expect(await second.check('acme', limits)).toMatchObject({ ok: false, code: 4291 });
    now += 1000;
    expect(await second.check('acme', limits)).toEqual(OK);
    expect(await first.check('acme', limits)).toMatchObject({ ok: false, code: 4293 });
  });

  it('refuses limits that are not positive whole numbers', async () => {
    const limiter = new RateLimiter({ now: () => 0 });
    await expect(limiter.check('acme', { perSecond: 0, perDay: 10 })).rejects.toThrow(RangeError);
    await expect(limiter.check('acme', { perSecond: 1.5, perDay: 10 })).rejects.toThrow('perSecond must be a positive whole number');
    await expect(limiter.check('acme', { perSecond: 1, perDay: Number.NaN })).rejects.toThrow('perDay must be a positive whole number');
  });
});

describe('RateLimiter: peek, then charge what was done (device steps, issue 23)', () => {
  it('peek counts nothing, however often', async () => {
    const { limiter } = limiterAt('2025-01-15T12:00:00.000Z');
    const limits = { perSecond: 2, perDay: 3 };
    expect(await times(50, () => limiter.peek('acme', limits))).toEqual(Array.from({ length: 50 }, () => OK));
    expect(await times(2, () => limiter.check('acme', limits))).toEqual([OK, OK]);
  });

  it('charge counts in both windows; peek refuses once a window is full, the day first', async () => {
    const { limiter, set } = limiterAt('2025-01-15T12:00:00.250Z');
    const limits = { perSecond: 2, perDay: 3 };
    await limiter.charge('acme');
    await limiter.charge('acme');
    expect(await limiter.peek('acme', limits)).toEqual({ ok: false, code: 4291, retryAfterSeconds: 1 });
    set('2025-01-15T12:00:01.000Z');
    expect(await limiter.peek('acme', limits)).toEqual(OK);
    await limiter.charge('acme');
    expect(await limiter.peek('acme', limits)).toEqual({ ok: false, code: 4293, retryAfterSeconds: 43_199 });
    // Another client's windows are its own.
    expect(await limiter.peek('initech', limits)).toEqual(OK);
  });
});
