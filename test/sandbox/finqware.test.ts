import { request } from 'undici';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server';

const CLIENT_ID = 'fq-client';
const APP_KEY = 'fq-app-key';
const SKILL = 'bank_account_verification';
const ACCOUNT = { accountNumber: '001234567890', ifsc: 'HDFC0001234' };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let sandbox: RunningSandbox;
let finqware: string;
let userCounter = 0;
const freshUser = () => `user-${Date.now()}-${(userCounter += 1)}`;

async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
  const response = await request(`${finqware}${path}`, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const createSession = (overrides: Record<string, unknown> = {}) =>
  call('POST', '/v1/sessions', { tenant_user_id: freshUser(), client_id: CLIENT_ID, client_app_key: APP_KEY, skill: SKILL, ...overrides });
const submit = (sessionId: string, nonce: string, overrides: Record<string, unknown> = {}) =>
  call('POST', `/v1/sessions/${sessionId}/steps`, { client_id: CLIENT_ID, nonce, skill: SKILL, step: 'account_details', data: ACCOUNT, ...overrides });
const calls = async () => (await call('GET', '/_calls')).body as { method: string; path: string; status: number; fault?: true }[];

function expectError(answer: Answer, http: number, code: string, type = 'invalid_request') {
  expect(answer.status).toBe(http);
  expect(answer.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), type, http, code, message: expect.any(String) });
}

beforeAll(async () => {
  sandbox = await startSandbox({ attestr: { clientId: 'a', secret: 's' }, finqware: { clientId: CLIENT_ID, appKey: APP_KEY } });
  finqware = `${sandbox.url}/finqware`;
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  await call('DELETE', '/_faults');
  await call('DELETE', '/_calls');
});

describe('create session', () => {
  it('creates a session with a 32-byte base64url nonce', async () => {
    const { status, body } = await createSession();
    expect(status).toBe(200);
    expect(body).toEqual({ nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), session_id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'SESSION_CREATED' });
    expect(Buffer.from(body.nonce, 'base64url')).toHaveLength(32);
  });

  it('refuses a wrong client_id or app key with 401', async () => {
    expectError(await createSession({ client_id: 'someone-else' }), 401, 'invalid_client_id', 'authentication_error');
    expectError(await createSession({ client_app_key: 'wrong' }), 401, 'invalid_client_app_key', 'authentication_error');
  });

  it('refuses an unknown skill and malformed bodies with 400', async () => {
    expectError(await createSession({ skill: 'card_issuing' }), 400, 'invalid_skill');
    expectError(await createSession({ tenant_user_id: 42 }), 400, 'invalid_data');
    expectError(await createSession({ extra: true }), 400, 'invalid_data');
    expectError(await call('POST', '/v1/sessions', { client_id: CLIENT_ID, client_app_key: APP_KEY, skill: SKILL }), 400, 'invalid_data');
    expectError(await call('POST', '/v1/sessions', '{"tenant_user_id"'), 400, 'invalid_data');
  });

  it('returns the open session of the same user and skill with its current nonce', async () => {
    const user = freshUser();
    const first = await createSession({ tenant_user_id: user });
    const again = await createSession({ tenant_user_id: user });
    const other = await createSession();
    expect(again.body).toEqual(first.body);
    expect(other.body.session_id).not.toBe(first.body.session_id);

    await submit(first.body.session_id, first.body.nonce);
    const afterCompletion = await createSession({ tenant_user_id: user });
    expect(afterCompletion.body.session_id).not.toBe(first.body.session_id);
  });
});

describe('steps', () => {
  it('accepts the step with the current nonce, issues a new nonce and completes', async () => {
    const { body: session } = await createSession();
    const answer = await submit(session.session_id, session.nonce);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      step_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      status: 'SESSION_COMPLETED',
      data: { account_id: expect.any(String), ifsc: ACCOUNT.ifsc, verified: true, holder_name: expect.any(String) },
    });
    expect(answer.body.nonce).not.toBe(session.nonce);
    // The chain moved on: the new nonce is current, and the session has no step left.
    expectError(await submit(session.session_id, answer.body.nonce), 409, 'session_completed');
    expectError(await submit(session.session_id, session.nonce, { data: { ...ACCOUNT, accountNumber: '999999' } }), 400, 'invalid_nonce');
  });

  it('rejects a wrong nonce, step or data and changes nothing', async () => {
    const { body: session } = await createSession();
    expectError(await submit(session.session_id, 'not-the-nonce'), 400, 'invalid_nonce');
    expectError(await submit(session.session_id, session.nonce, { step: 'card_details' }), 400, 'invalid_step');
    expectError(await submit(session.session_id, session.nonce, { data: { accountNumber: '12345', ifsc: ACCOUNT.ifsc } }), 400, 'invalid_data');
    expectError(await submit(session.session_id, session.nonce, { data: { accountNumber: '123456', ifsc: 'HDFC1001234' } }), 400, 'invalid_data');
    expectError(await submit(session.session_id, session.nonce, { data: [] }), 400, 'invalid_data');
    expectError(await submit(session.session_id, session.nonce, { skill: 'other' }), 400, 'invalid_skill');
    expectError(await submit(session.session_id, session.nonce, { client_id: 'x' }), 401, 'invalid_client_id', 'authentication_error');
    expectError(await submit('00000000-0000-0000-0000-000000000000', session.nonce), 404, 'session_not_found');

    // None of the refusals consumed the nonce or moved the session.
    const accepted = await submit(session.session_id, session.nonce);
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('SESSION_COMPLETED');
  });

  it('answers an exact replay of the last accepted step with the same answer', async () => {
    const { body: session } = await createSession();
    const first = await submit(session.session_id, session.nonce);
    const replay = await submit(session.session_id, session.nonce);
    const reordered = await submit(session.session_id, session.nonce, { data: { ifsc: ACCOUNT.ifsc, accountNumber: ACCOUNT.accountNumber } });
    expect(replay).toMatchObject({ status: 200, body: first.body });
    expect(reordered.body).toEqual(first.body);
    // Same nonce with other data is not a replay: that nonce is spent.
    expectError(await submit(session.session_id, session.nonce, { data: { ...ACCOUNT, accountNumber: '111111111' } }), 400, 'invalid_nonce');
    // The replay did not move the chain: the nonce from the first answer is still the current one.
    expectError(await submit(session.session_id, first.body.nonce), 409, 'session_completed');
    // The call log tells replays apart from first submissions.
    const steps = (await calls()).filter((c) => c.path.endsWith('/steps')) as Array<{ status: number; replayed?: true }>;
    expect(steps.slice(0, 3).map((c) => c.replayed ?? false)).toEqual([false, true, true]);
  });

  it('holdMs applies the call, then holds its answer', async () => {
    const { body: session } = await createSession();
    await call('POST', '/_faults', { holdMs: 600, count: 1 });
    const started = Date.now();
    const held = submit(session.session_id, session.nonce);
    // While the answer is held, the step is already applied: the same submission is a replay.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const replay = await submit(session.session_id, session.nonce);
    expect(replay.status).toBe(200);
    const first = await held;
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(first.body).toEqual(replay.body);
    expect((await call('POST', '/_faults', { holdMs: -1, count: 1 })).status).toBe(400);
  });
});

describe('fault injection and call log', () => {
  it('answers an injected status with the Finqware error shape and Retry-After, for count calls', async () => {
    expect((await call('POST', '/_faults', { status: 429, retryAfter: 2, count: 2 })).body).toEqual({ queued: 2 });
    const first = await createSession();
    const second = await createSession();
    expectError(first, 429, 'rate_limit_exceeded', 'rate_limit_error');
    expect(first.headers['retry-after']).toBe('2');
    expect(second.status).toBe(429);
    expect((await createSession()).status).toBe(200);
  });

  it('uses the given code and a 5xx error type', async () => {
    await call('POST', '/_faults', { status: 503, code: 'servicer_unavailable', count: 1 });
    expectError(await createSession(), 503, 'servicer_unavailable', 'api_error');
  });

  it('delays, drops, and logs each call in order', async () => {
    await call('POST', '/_faults', { delayMs: 250, count: 1 });
    await call('POST', '/_faults', { drop: true, count: 1 });
    const started = Date.now();
    const { body: session } = await createSession();
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(session.status).toBe('SESSION_CREATED');
    await expect(submit(session.session_id, session.nonce)).rejects.toThrow();
    // The dropped step was not processed, so its nonce still works.
    expect((await submit(session.session_id, session.nonce)).status).toBe(200);
    expect((await calls()).map(({ method, path, status, fault }) => [method, path, status, fault])).toEqual([
      ['POST', '/v1/sessions', 200, true],
      ['POST', `/v1/sessions/${session.session_id}/steps`, 0, true],
      ['POST', `/v1/sessions/${session.session_id}/steps`, 200, undefined],
    ]);
    await call('DELETE', '/_calls');
    expect(await calls()).toEqual([]);
  });

  it('clears faults and refuses invalid ones', async () => {
    await call('POST', '/_faults', { status: 500, count: 3 });
    expect((await call('DELETE', '/_faults')).body).toEqual({ queued: 0 });
    expect((await createSession()).status).toBe(200);
    expect((await call('POST', '/_faults', { badSignature: true, count: 1 })).status).toBe(400);
    expect((await call('POST', '/_faults', { status: 429, count: 1.5 })).status).toBe(400);
    expect((await createSession()).status).toBe(200);
  });
});
