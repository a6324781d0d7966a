/**
 * Provider retries (DESIGN.md section 5, rule 5), through a real worker on the real dev server:
 * entering kyc-basic's `aadhaar` stage creates an Attestr handshake, and faults queued on the
 * Attestr sandbox hit that create call. Each test counts the attempts the sandbox saw and reads
 * the retry schedule from the session's history: the attempt that succeeded, the failure before
 * it with the delay the activity asked for (Retry-After), and the retry policy that spaces the
 * others. Temporal keeps that schedule; the test never times it on the wall clock.
 */
import { tsToMs } from '@temporalio/common/lib/time';
import type { StepAnswer } from '../src/contract/session';
import { sessionRef, sessionWorkflowId } from '../src/session-secret';
import { BANK, completeAttestr, IDENTITY, sandboxCall } from './helpers/flows';
import type { Stack } from './helpers/stack';
import { useStack } from './helpers/use-stack';

interface CallRecord {
  method: string;
  path: string;
  /** 0 when the sandbox dropped the connection. */
  status: number;
  at: number;
}

const CREATE_PATH = '/api/v1/public/flowx/handshake';

async function queueFault(stack: Stack, fault: Record<string, unknown>): Promise<void> {
  await sandboxCall(stack, 'POST', '/attestr/_faults', fault);
}

async function resetSandbox(stack: Stack): Promise<void> {
  await sandboxCall(stack, 'DELETE', '/attestr/_faults');
  await sandboxCall(stack, 'DELETE', '/attestr/_calls');
}

/** The handshake creates the Attestr sandbox answered (or dropped), in arrival order. */
async function createCalls(stack: Stack): Promise<CallRecord[]> {
  const calls = (await sandboxCall(stack, 'GET', '/attestr/_calls')) as CallRecord[];
  return calls.filter((c) => c.method === 'POST' && c.path === CREATE_PATH);
}

interface RetrySchedule {
  /** The attempt that ran last (1 when nothing was retried). */
  attempt: number;
  /** The failure of the attempt before it, and the delay it asked Temporal for (Retry-After). */
  lastFailureType?: string;
  nextRetryDelayMs?: number;
  /** The policy spacing retries that ask for no delay: initial interval times coefficient^(n-1). */
  initialIntervalMs: number;
  backoffCoefficient: number;
}

/** The handshake create's retry schedule, from the session's history. */
async function createRetries(stack: Stack, sessionId: string): Promise<RetrySchedule> {
  const events = (await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'attestrCreateHandshake');
  const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled?.eventId));
  const policy = scheduled!.activityTaskScheduledEventAttributes!.retryPolicy!;
  const { attempt, lastFailure } = started!.activityTaskStartedEventAttributes!;
  const delay = lastFailure?.applicationFailureInfo?.nextRetryDelay;
  return {
    attempt: attempt!,
    ...(lastFailure ? { lastFailureType: lastFailure.applicationFailureInfo?.type ?? undefined } : {}),
    ...(delay ? { nextRetryDelayMs: tsToMs(delay) } : {}),
    initialIntervalMs: tsToMs(policy.initialInterval),
    backoffCoefficient: policy.backoffCoefficient!,
  };
}

/** The retry profile of provider calls (src/workflows/providers.ts): 1 s, then doubling. */
const BACKOFF = { initialIntervalMs: 1_000, backoffCoefficient: 2 };

/** Creates and launches a kyc-basic session and submits `identity`, which enters `aadhaar`. */
async function enterAadhaar(stack: Stack, tag: string): Promise<{ sessionId: string; identity: StepAnswer }> {
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag, definition: stack.definition('kyc-basic') });
  const launch = await stack.gateway.launch(sessionId);
  const identity = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
  return { sessionId, identity };
}

function expectAtAadhaar(identity: StepAnswer): void {
  expect(identity).toMatchObject({
    status: 'SESSION_IN_PROGRESS',
    nonce: expect.any(String),
    data: { step: 'aadhaar', kind: 'provider', handshakeId: expect.stringMatching(/^DS/) },
  });
}

/** The session ended in its error outcome with the aadhaar stage's error recorded; returns that error. */
async function expectStageError(stack: Stack, sessionId: string, identity: StepAnswer): Promise<Record<string, unknown>> {
  expect(identity).toMatchObject({ status: 'SESSION_COMPLETED', nonce: null, data: { step: null, outcome: 'error' } });
  const { status, outcome, result } = await stack.gateway.result(sessionId);
  expect({ status, outcome }).toEqual({ status: 'consumed', outcome: 'error' });
  const output = result!.aadhaar.output as { error: Record<string, unknown> };
  expect(output).toEqual({ error: expect.any(Object) });
  return output.error;
}

describe('Attestr create handshake, default settings', () => {
  const { stack } = useStack('provider-retries');

  beforeEach(async () => {
    await resetSandbox(stack);
  });

  // Retry-After 2 s rather than 1 s, so a retry at the policy's 1 s first backoff would not pass for it.
  test.each([
    ['429/4291 with Retry-After in seconds: one retry, after the delay the provider asked for', 4291, 'ProviderRateLimited'],
    ['429/4293 (daily limit) within the wait cap is waited out and retried', 4293, 'ProviderQuotaExhausted'],
  ])('%s', async (_name, code, failureType) => {
    await queueFault(stack, { status: 429, code, retryAfter: 2, count: 1 });
    const { sessionId, identity } = await enterAadhaar(stack, `REF-retry-${code}`);
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(await createRetries(stack, sessionId)).toEqual({ attempt: 2, lastFailureType: failureType, nextRetryDelayMs: 2_000, ...BACKOFF });
  });

  test('429/4292 with Retry-After as an HTTP date: the retry comes at that date', async () => {
    // A whole second, so the HTTP date (1 s resolution) names exactly this instant: 2.5 to 3.5 s ahead.
    const retryAt = Math.floor((Date.now() + 3_500) / 1_000) * 1_000;
    await queueFault(stack, { status: 429, code: 4292, retryAfter: new Date(retryAt).toUTCString(), count: 1 });
    const { sessionId, identity } = await enterAadhaar(stack, 'REF-retry-4292');
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    // The activity asked for the time left until the date, counted from when it read the answer
    // (the sandbox and the worker share a clock): at most the date less the first call's time.
    const retries = await createRetries(stack, sessionId);
    expect(retries).toMatchObject({ attempt: 2, lastFailureType: 'ProviderRateLimited', ...BACKOFF });
    expect(retries.nextRetryDelayMs).toBeGreaterThan(0);
    expect(retries.nextRetryDelayMs).toBeLessThanOrEqual(retryAt - calls[0].at);
  });

  test('503/5001 twice: retried with exponential backoff, 1 s then 2 s', async () => {
    await queueFault(stack, { status: 503, code: 5001, count: 2 });
    const { sessionId, identity } = await enterAadhaar(stack, 'REF-retry-503');
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([503, 503, 200]);
    // No delay asked for: the policy spaces the two retries, 1 s then 2 s.
    expect(await createRetries(stack, sessionId)).toEqual({ attempt: 3, lastFailureType: 'ProviderUnavailable', ...BACKOFF });
  });

  test('a dropped connection is retried and the session continues', async () => {
    await queueFault(stack, { drop: true, count: 1 });
    const { sessionId, identity } = await enterAadhaar(stack, 'REF-retry-drop');
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([0, 200]);
    expect(await createRetries(stack, sessionId)).toEqual({ attempt: 2, lastFailureType: 'ProviderUnavailable', ...BACKOFF });
  });

  test.each([
    [400, 4001],
    [400, 4002],
    [400, 4005],
    [400, 40034],
    [401, 4016],
    [403, 4031],
    [403, 4035],
    [403, 4039],
  ])('%i/%i is permanent: one call, the session ends in error with a typed ProviderRejected', async (status, code) => {
    await queueFault(stack, { status, code, count: 1 });
    const { sessionId, identity } = await enterAadhaar(stack, `REF-permanent-${code}`);
    const error = await expectStageError(stack, sessionId, identity);
    expect(error).toMatchObject({
      type: 'ProviderRejected',
      provider: 'attestr',
      status,
      code: String(code),
      message: expect.stringContaining(String(status)),
    });

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([status]);
  });

  test('a storm of five 429s: the session still completes, with exactly one handshake created', async () => {
    await queueFault(stack, { status: 429, code: 4291, retryAfter: 1, count: 5 });
    const { sessionId, identity } = await enterAadhaar(stack, 'REF-retry-storm');
    expectAtAadhaar(identity);
    const handshakeId = String(identity.data.handshakeId);

    await completeAttestr(stack, handshakeId);
    const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
    expect(aadhaar).toMatchObject({ status: 'SESSION_IN_PROGRESS', data: { step: 'bank' } });
    const bank = await stack.gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
    expect(bank).toMatchObject({ status: 'SESSION_COMPLETED', nonce: null, data: { step: null, outcome: 'success' } });
    const { status, outcome, result } = await stack.gateway.result(sessionId);
    expect({ status, outcome }).toEqual({ status: 'consumed', outcome: 'success' });
    expect(result!.aadhaar.output).toMatchObject({ handshakeId, verified: true });

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([429, 429, 429, 429, 429, 200]);
    expect(calls.filter((c) => c.status === 200)).toHaveLength(1);
    // Retried at Retry-After (1 s), not at the growing backoff (1, 2, 4, 8, 16 s).
    expect(await createRetries(stack, sessionId)).toEqual({ attempt: 6, lastFailureType: 'ProviderRateLimited', nextRetryDelayMs: 1_000, ...BACKOFF });

    const handshakes = (await sandboxCall(stack, 'GET', '/attestr/_handshakes')) as Array<{ _id: string; tag: string; consumed: boolean }>;
    // Attestr's tag carries the session's ref, never its id.
    const ours = handshakes.filter((h) => h.tag.startsWith(sessionRef(sessionId)));
    expect(ours).toEqual([{ _id: handshakeId, tag: expect.any(String), consumed: true }]);
  });
});

describe('Attestr create handshake, PROVIDER_QUOTA_WAIT_CAP_SECONDS=5', () => {
  const { stack } = useStack('provider-retries-cap', { env: { PROVIDER_QUOTA_WAIT_CAP_SECONDS: '5' } });

  beforeEach(async () => {
    await resetSandbox(stack);
  });

  test('429/4294 (daily limit) resetting beyond the wait cap fails the stage at once', async () => {
    await queueFault(stack, { status: 429, code: 4294, retryAfter: 100_000, count: 1 });
    const { sessionId, identity } = await enterAadhaar(stack, 'REF-quota-cap');
    const error = await expectStageError(stack, sessionId, identity);
    expect(error).toMatchObject({
      type: 'ProviderQuotaExhausted',
      provider: 'attestr',
      status: 429,
      code: '4294',
      message: expect.stringContaining('beyond the wait cap of 5 s'),
    });

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([429]);
  });
});
