import { classifyAnswer, msUntilNextUtcMidnight, parseRetryAfter, ProviderError } from '../../src/providers/errors';
import { ConfigError, loadConfig } from '../../src/config';

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  test.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Sun, 22 Nov 2026 12:00:05 GMT', 5000],
    ['Sun, 22 Nov 2026 11:00:00 GMT', 1],
    [undefined, undefined],
    ['soon', undefined],
  ])('%s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('classifyAnswer', () => {
  test.each([
    [429, '4291', 'ProviderRateLimited'],
    [429, '4292', 'ProviderRateLimited'],
    [429, '4293', 'ProviderQuotaExhausted'],
    [429, '4294', 'ProviderQuotaExhausted'],
    [500, '5001', 'ProviderUnavailable'],
    [503, undefined, 'ProviderUnavailable'],
    [408, undefined, 'ProviderUnavailable'],
    [400, '4001', 'ProviderRejected'],
    [400, '4005', 'ProviderRejected'],
    [401, '4016', 'ProviderRejected'],
    [403, '4039', 'ProviderRejected'],
    [404, undefined, 'ProviderRejected'],
    [302, undefined, 'ProviderRejected'],
  ])('%i %s is %s', (status, code, type) => {
    expect(classifyAnswer('attestr', status, code, undefined, 'req-1')).toMatchObject({ type, details: { provider: 'attestr', status, requestId: 'req-1' } });
  });
});

describe('toFailure', () => {
  const cap = { quotaWaitCapMs: 60_000 };

  test('rate limits carry the provider delay; permanent errors are not retried', () => {
    const limited = classifyAnswer('attestr', 429, '4291', '2').toFailure(cap);
    expect(limited).toMatchObject({ type: 'ProviderRateLimited', nonRetryable: false, nextRetryDelay: 2000 });
    const rejected = classifyAnswer('attestr', 403, '4035', '2').toFailure(cap);
    expect(rejected).toMatchObject({ type: 'ProviderRejected', nonRetryable: true, nextRetryDelay: undefined });
    expect(rejected.details).toEqual([{ provider: 'attestr', status: 403, code: '4035' }]);
  });

  test('a daily quota within the cap is waited for; beyond it the stage fails, saying so', () => {
    expect(classifyAnswer('finqware', 429, '4293', '30').toFailure(cap)).toMatchObject({ nonRetryable: false, nextRetryDelay: 30_000 });
    const beyond = classifyAnswer('finqware', 429, '4294', '120').toFailure(cap);
    expect(beyond.nonRetryable).toBe(true);
    expect(beyond.message).toBe('finqware answered 429 (4294): daily limit reached; it resets in 120 s, beyond the wait cap of 60 s');
  });

  test('without Retry-After a daily quota resets at the next UTC midnight', () => {
    const now = Date.UTC(2026, 10, 22, 23, 59, 30);
    expect(msUntilNextUtcMidnight(now)).toBe(30_000);
    const failure = new ProviderError('ProviderQuotaExhausted', 'daily', { provider: 'attestr' }).toFailure({ quotaWaitCapMs: 60_000, now });
    expect(failure).toMatchObject({ nonRetryable: false, nextRetryDelay: 30_000 });
  });
});

describe('provider settings', () => {
  test('defaults: a six-hour quota wait and no http stage secrets', () => {
    const { providers } = loadConfig({});
    expect(providers.quotaWaitCapMs).toBe(6 * 3600 * 1000);
    expect(providers.httpStageSecrets).toEqual({});
  });

  test('HTTP_STAGE_SECRETS must be an object of strings, and errors never repeat it', () => {
    expect(loadConfig({ HTTP_STAGE_SECRETS: '{"A":"x"}' }).providers.httpStageSecrets).toEqual({ A: 'x' });
    for (const bad of ['{"A":1}', '["topsecret"]', 'topsecret{']) {
      let error: unknown;
      try {
        loadConfig({ HTTP_STAGE_SECRETS: bad });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^HTTP_STAGE_SECRETS /);
      expect((error as Error).message).not.toContain('topsecret');
    }
  });

  test('PROVIDER_QUOTA_WAIT_CAP_SECONDS is bounded to a week', () => {
    expect(loadConfig({ PROVIDER_QUOTA_WAIT_CAP_SECONDS: '60' }).providers.quotaWaitCapMs).toBe(60_000);
    expect(() => loadConfig({ PROVIDER_QUOTA_WAIT_CAP_SECONDS: String(8 * 24 * 3600) })).toThrow(/^PROVIDER_QUOTA_WAIT_CAP_SECONDS /);
  });
});
