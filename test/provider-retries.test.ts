/**
 * Provider retries (DESIGN.md section 5, rule 5), through a real worker on the real dev server:
 * entering kyc-basic's `aadhaar` stage creates an Attestr handshake, and faults queued on the
 * Attestr sandbox hit that create call. Each test counts the attempts the sandbox saw and, where
 * the rule is about timing, measures the delay between them from the sandbox's own timestamps.
 */
import type { StepAnswer } from '../src/workflows/messages';
import { BANK, completeAttestr, IDENTITY, sandboxCall } from './helpers/flows';
import { startStack, type Stack } from './helpers/stack';

interface CallRecord {
  method: string;
  path: string;
  /** 0 when the sandbox dropped the connection. */
  status: number;
  at: number;
}

const CREATE_PATH = '/api/v1/public/flowx/handshake';

/** Gaps measured in this run; PROVIDER_RETRIES_REPORT=1 prints them at the end. */
const measured: string[] = [];

afterAll(() => {
  if (process.env.PROVIDER_RETRIES_REPORT === '1') process.stdout.write(`measured gaps:\n  ${measured.join('\n  ')}\n`);
});

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

function gapsOf(calls: CallRecord[]): number[] {
  return calls.slice(1).map((call, i) => call.at - calls[i].at);
}

function note(what: string, gaps: number[]): void {
  measured.push(`${what}: ${gaps.length === 0 ? 'no retry' : gaps.map((g) => `${g} ms`).join(', ')}`);
}

/** Creates and launches a kyc-basic session and submits `identity`, which enters `aadhaar`. */
async function enterAadhaar(stack: Stack, tag: string): Promise<{ sessionId: string; identity: StepAnswer }> {
  const { sessionId } = await stack.gateway.create({ clientId: 'tenant-a', tag, definition: stack.definition('kyc-basic') });
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
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('provider-retries');
    await stack.startWorker();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  beforeEach(async () => {
    await resetSandbox(stack);
  });

  test('429/4291 with Retry-After in seconds: one retry, after the delay the provider asked for', async () => {
    await queueFault(stack, { status: 429, code: 4291, retryAfter: 2, count: 1 });
    const { identity } = await enterAadhaar(stack, 'REF-retry-4291');
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    const gaps = gapsOf(calls);
    note('429/4291 Retry-After: 2', gaps);
    // Retry-After 2 s, not the policy's 1 s first backoff.
    expect(gaps[0]).toBeGreaterThanOrEqual(1_900);
    expect(gaps[0]).toBeLessThanOrEqual(3_500);
  });

  test('429/4292 with Retry-After as an HTTP date: the retry comes at that date', async () => {
    // A whole second, so the HTTP date (1 s resolution) names exactly this instant: 2.5 to 3.5 s ahead.
    const retryAt = Math.floor((Date.now() + 3_500) / 1_000) * 1_000;
    await queueFault(stack, { status: 429, code: 4292, retryAfter: new Date(retryAt).toUTCString(), count: 1 });
    const { identity } = await enterAadhaar(stack, 'REF-retry-4292');
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    const gaps = gapsOf(calls);
    note(`429/4292 Retry-After: HTTP date ${retryAt - calls[0].at} ms after the first call`, gaps);
    // Not before the date (the sandbox and the worker share a clock; 100 ms for timer rounding), and not long after.
    expect(calls[1].at).toBeGreaterThanOrEqual(retryAt - 100);
    expect(calls[1].at).toBeLessThanOrEqual(retryAt + 1_500);
    // And the date put the retry well beyond the policy's 1 s first backoff.
    expect(gaps[0]).toBeGreaterThanOrEqual(1_500);
  });

  test('503/5001 twice: retried with exponential backoff, about 1 s then about 2 s', async () => {
    await queueFault(stack, { status: 503, code: 5001, count: 2 });
    const { identity } = await enterAadhaar(stack, 'REF-retry-503');
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([503, 503, 200]);
    const gaps = gapsOf(calls);
    note('503/5001 x2', gaps);
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[0]).toBeLessThanOrEqual(1_900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_900);
    expect(gaps[1]).toBeLessThanOrEqual(3_200);
  });

  test('a dropped connection is retried and the session continues', async () => {
    await queueFault(stack, { drop: true, count: 1 });
    const { identity } = await enterAadhaar(stack, 'REF-retry-drop');
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([0, 200]);
    const gaps = gapsOf(calls);
    note('dropped connection', gaps);
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[0]).toBeLessThanOrEqual(2_500);
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

  test('429/4293 (daily limit) within the wait cap is waited out and retried', async () => {
    // 2 s rather than 1 s, so a retry at the policy's 1 s first backoff would not pass for it.
    await queueFault(stack, { status: 429, code: 4293, retryAfter: 2, count: 1 });
    const { identity } = await enterAadhaar(stack, 'REF-retry-4293');
    expectAtAadhaar(identity);

    const calls = await createCalls(stack);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    const gaps = gapsOf(calls);
    note('429/4293 Retry-After: 2', gaps);
    expect(gaps[0]).toBeGreaterThanOrEqual(1_900);
    expect(gaps[0]).toBeLessThanOrEqual(3_500);
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
    const gaps = gapsOf(calls);
    note('429 storm, Retry-After: 1 x5', gaps);
    // Each retry at Retry-After (1 s), not at the growing backoff (1, 2, 4, 8, 16 s).
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(900);
      expect(gap).toBeLessThanOrEqual(2_500);
    }

    const handshakes = (await sandboxCall(stack, 'GET', '/attestr/_handshakes')) as Array<{ _id: string; tag: string; consumed: boolean }>;
    const ours = handshakes.filter((h) => h.tag.startsWith(sessionId));
    expect(ours).toEqual([{ _id: handshakeId, tag: expect.any(String), consumed: true }]);
  });
});

describe('Attestr create handshake, PROVIDER_QUOTA_WAIT_CAP_SECONDS=5', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('provider-retries-cap', {}, { PROVIDER_QUOTA_WAIT_CAP_SECONDS: '5' });
    await stack.startWorker();
  });

  afterAll(async () => {
    await stack?.stop();
  });

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
