import { ApplicationFailure } from '@temporalio/common';
import { codeLabel, willRetry } from '../../src/activities/metrics';
import { ProviderError } from '../../src/providers/errors';
import { failedDeliveryOutcome } from '../../src/activities/webhooks';
import { cachedFor, stepOutcome } from '../../src/api/metrics';
import { FlowCatalog } from '../../src/flows/catalog';
import { parsePrometheus } from '../helpers/prometheus';
import { FLOWS_DIR } from './fixtures';

describe('willRetry, as Temporal decides it', () => {
  const policy = { maximumAttempts: 12, nonRetryableErrorTypes: ['ProviderRejected'] };
  const failure = (type: string, nonRetryable = false) => ApplicationFailure.create({ type, message: type, nonRetryable });

  test.each([
    ['a retryable failure with attempts left', failure('ProviderRateLimited'), 1, policy, true],
    ['the last attempt', failure('ProviderRateLimited'), 12, policy, false],
    ['a failure marked non-retryable', failure('ProviderQuotaExhausted', true), 1, policy, false],
    ['a type the policy lists as non-retryable', failure('ProviderRejected'), 1, policy, false],
    ['unlimited attempts (maximumAttempts 0)', failure('ProviderUnavailable'), 500, { maximumAttempts: 0 }, true],
    ['no policy known', failure('ProviderUnavailable'), 3, undefined, true],
  ])('%s', (_, err, attempt, retryPolicy, expected) => {
    expect(willRetry(err, attempt, retryPolicy)).toBe(expected);
  });

  test('a quota reset beyond the wait cap is not retried', () => {
    const quota = new ProviderError('ProviderQuotaExhausted', 'daily limit', { provider: 'attestr', status: 429, code: '4293' }, 3_600_000);
    expect(willRetry(quota.toFailure({ quotaWaitCapMs: 60_000 }), 1, policy)).toBe(false);
    expect(willRetry(quota.toFailure({ quotaWaitCapMs: 7_200_000 }), 1, policy)).toBe(true);
  });
});

describe('codeLabel keeps the code label bounded and impersonal', () => {
  test.each([
    ['attestr', { code: '4291', status: 429 }, '4291'],
    ['finqware', { code: 'rate_limit_exceeded', status: 429 }, 'rate_limit_exceeded'],
    ['attestr', { code: 'ECONNRESET' }, 'ECONNRESET'],
    ['http', { code: 'UND_ERR_SOCKET' }, 'UND_ERR_SOCKET'],
    ['finqware', { status: 503 }, '503'],
    ['attestr', {}, 'none'],
    ['attestr', undefined, 'none'],
    ['attestr', { code: 'user 1234 not found: Zebediah' }, 'other'],
    ['attestr', { code: 'x'.repeat(41) }, 'other'],
    // Any endpoint may sit behind the http stage: its own codes could be ids or names.
    ['http', { code: 'john.doe', status: 422 }, '422'],
    ['http', { code: '5551234567', status: 400 }, '400'],
    ['http', { code: 'zebediah' }, 'other'],
  ])('%s %p', (provider, details, expected) => {
    expect(codeLabel(provider, details)).toBe(expected);
  });
});

test('failed webhook deliveries are counted by their failure type', () => {
  expect(failedDeliveryOutcome(ApplicationFailure.retryable('down', 'WebhookUnreachable'))).toBe('unreachable');
  expect(failedDeliveryOutcome(ApplicationFailure.create({ type: 'WebhookRefused', message: '500' }))).toBe('refused');
  expect(failedDeliveryOutcome(ApplicationFailure.nonRetryable('gone', 'WebhookGone'))).toBe('gone');
  expect(failedDeliveryOutcome(new Error('query failed'))).toBe('error');
});

test('stepOutcome by HTTP status', () => {
  expect([200, 400, 409, 429, 500].map(stepOutcome)).toEqual(['accepted', 'refused', 'refused', 'refused', 'failed']);
});

describe('cachedFor', () => {
  test('loads once per period, shares a load in flight, and keeps a failure for the period too', async () => {
    let now = 0;
    let loads = 0;
    let fail = false;
    const value = cachedFor(
      5_000,
      async () => {
        loads += 1;
        if (fail) throw new Error('visibility unavailable');
        return loads;
      },
      () => now,
    );
    expect(await Promise.all([value(), value()])).toEqual([1, 1]);
    now = 4_999;
    expect(await value()).toBe(1);
    now = 5_000;
    fail = true;
    await expect(value()).rejects.toThrow('visibility unavailable');
    await expect(value()).rejects.toThrow('visibility unavailable');
    expect(loads).toBe(2);
    now = 10_000;
    fail = false;
    expect(await value()).toBe(3);
  });
});

test('FlowCatalog.stageKind', () => {
  const catalog = FlowCatalog.load(FLOWS_DIR);
  expect(catalog.stageKind('kyc-basic', 'identity')).toBe('input');
  expect(catalog.stageKind('kyc-basic', 'bank')).toBe('provider');
  expect(catalog.stageKind('kyc-basic', 'success')).toBeUndefined();
  expect(catalog.stageKind('kyc-basic', 'nope')).toBeUndefined();
  expect(catalog.stageKind('no-such-flow', 'identity')).toBeUndefined();
  expect(catalog.stageKind('kyc-basic', 'constructor')).toBeUndefined();
});

describe('the Prometheus text reader the integration test relies on', () => {
  const valid = [
    '# HELP c_total A counter',
    '# TYPE c_total counter',
    'c_total{a="x",b="y \\"quoted\\""} 3',
    '# TYPE h histogram',
    'h_bucket{le="0.5"} 1',
    'h_bucket{le="+Inf"} 2',
    'h_sum 0.7',
    'h_count 2',
    'g Nan',
  ].join('\n');

  test('reads families, types and samples', () => {
    const text = parsePrometheus(valid);
    expect(text.families.get('c_total')?.type).toBe('counter');
    expect(text.families.get('h')?.type).toBe('histogram');
    expect(text.samples('c_total', { a: 'x' })[0].labels.b).toBe('y "quoted"');
    expect(text.sum('h_count')).toBe(2);
    expect(text.sum('missing')).toBe(0);
  });

  test.each([
    ['a bad metric name', 'bad-name 1'],
    ['a value that is not a number', 'g one'],
    ['malformed labels', 'g{a=x} 1'],
    ['a family split in two', 'a 1\nb 1\na{x="1"} 2'],
    ['a repeated series', 'g{a="1"} 1\ng{a="1"} 2'],
    ['a TYPE after the samples', 'g 1\n# TYPE g gauge'],
    ['a negative counter', '# TYPE c_total counter\nc_total -1'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1'],
    ['a histogram whose count is not its +Inf bucket', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3'],
    ['decreasing buckets', '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2'],
  ])('refuses %s', (_, text) => {
    expect(() => parsePrometheus(text)).toThrow();
  });
});
