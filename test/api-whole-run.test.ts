/**
 * Issue 23, items 3 and 8: one whole run against the api as its own process (create, the hosted
 * page, launches, reads, steps, the result, the credential handshake, and the usual refusals).
 * - Its whole log output, at the most verbose level, holds none of the ids, nonces, tokens and
 *   secrets the run used: a log line names a route by its pattern, never by its URL.
 * - Every answer that can carry personal data or credentials says `Cache-Control: no-store`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { basic, spawnApi, TENANT_A, type RunningApi } from './helpers/api';
import { BANK, completeAttestr, IDENTITY } from './helpers/flows';
import { TEST_SESSION_SECRET, testEnv } from './helpers/stack';
import { useStack } from './helpers/use-stack';

const TENANT = { ...TENANT_A, redirectUrls: ['https://app.example.com/done'] };

const { stack } = useStack('whole-run');
let api: RunningApi;
/** Everything the run used that would let someone in: ids, nonces, tokens, secrets. */
const used = new Set<string>();
/** Every answer of the run, by what was asked. */
const answers: Array<{ what: string; status: number; cacheControl: string | undefined }> = [];

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: 'GET' | 'POST', path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const answer = await request(`${api.url}${path}`, {
    method,
    // One connection per request: see the SIGTERM test in api-process.test.ts.
    reset: true,
    headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await answer.body.text();
  const cacheControl = answer.headers['cache-control'] as string | undefined;
  answers.push({ what: `${method} ${path.replace(/\?.*/, '')} ${answer.statusCode}`, status: answer.statusCode, cacheControl });
  const json = (answer.headers['content-type'] ?? '').toString().startsWith('application/json');
  return { status: answer.statusCode, headers: answer.headers, body: (json && text ? JSON.parse(text) : {}) as Body };
}

function remember(...values: Array<string | null | undefined>): void {
  for (const value of values) if (value) used.add(value);
}

beforeAll(async () => {
  api = await spawnApi(
    testEnv({
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      DATA_DIR: stack.config.dataDir,
      SESSION_SECRET: TEST_SESSION_SECRET,
      SESSIONFLOW_CLIENTS: JSON.stringify([TENANT]),
      LOG_LEVEL: 'trace',
    }) as NodeJS.ProcessEnv,
  );
  const backend = { authorization: basic(TENANT) };
  remember(TENANT.secret, basic(TENANT).replace(/^Basic /, ''));

  // The backend creates a session; the user opens its page; a native app makes a device client.
  const created = await call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'kyc-basic', snapshot: null, tag: 'REF-whole-run' }, headers: { ...backend, 'idempotency-key': 'whole-run-key-1' } });
  expect(created.status).toBe(200);
  const id = created.body._id as string;
  remember(id, created.body.number, created.body.digest, 'whole-run-key-1');
  expect((await call('GET', `/flow/${id}`)).status).toBe(200);
  const native = await call('POST', `/v1/client?client_id=${TENANT.id}&_is_native=true`);
  const bearer = String(native.headers.authorization);
  remember(native.body.client.id, bearer.replace(/^Bearer /, ''));
  const device = { authorization: bearer };

  // Launch, read, and every step of kyc-basic, with the refusals a device meets on the way.
  const launched = await call('POST', `/v1/handshakes/${id}/launch`, { headers: device });
  expect(launched.status).toBe(200);
  remember(launched.body.nonce);
  expect((await call('POST', `/v1/handshakes/${id}/launch`, { headers: device })).status).toBe(409);
  expect((await call('GET', `/v1/sessions/${id}?wait=0`, { headers: device })).status).toBe(200);
  const step = (nonce: string, name: string, data: unknown) =>
    call('POST', `/v1/sessions/${id}/steps`, { body: { client_id: TENANT.id, skill: 'kyc-basic', nonce, step: name, data }, headers: device });
  const identity = await step(launched.body.nonce, 'identity', IDENTITY);
  expect(identity.status).toBe(200);
  remember(identity.body.nonce, identity.body.data.handshakeId);
  expect((await step(launched.body.nonce, 'aadhaar', {})).status).toBe(400);
  await completeAttestr(stack, identity.body.data.handshakeId);
  const aadhaar = await step(identity.body.nonce, 'aadhaar', {});
  remember(aadhaar.body.nonce);
  const bank = await step(aadhaar.body.nonce, 'bank', BANK);
  expect(bank.body.status).toBe('SESSION_COMPLETED');

  // The backend reads the signed result.
  const result = await call('GET', `/api/v1/public/flowx/handshake/${id}`, { headers: backend });
  expect(result.body.status).toBe('consumed');
  remember(result.body.resultSignature);

  // A second session, launched by the hosted page's open in a browser (a cookie credential).
  const second = await call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'consent-only', snapshot: null, tag: 'REF-whole-run-2' }, headers: backend });
  remember(second.body._id, second.body.number, second.body.digest);
  const opened = await call('POST', `/v1/sessions/${second.body._id}/open`);
  expect(opened.status).toBe(200);
  const cookie = String(opened.headers['set-cookie']).split(';')[0];
  remember(opened.body.nonce, cookie.split('=').slice(1).join('='));
  const consent = await call('POST', `/v1/sessions/${second.body._id}/steps`, {
    body: { client_id: TENANT.id, skill: 'consent-only', nonce: opened.body.nonce, step: 'consent', data: { accepted: true } },
    headers: { cookie },
  });
  expect(consent.status).toBe(200);

  // A session created and launched in one call by an app holding the client's key.
  const direct = await call('POST', '/v1/sessions', { body: { tenant_user_id: 'REF-whole-run-3', client_id: TENANT.id, client_app_key: TENANT.secret, skill: 'consent-only' } });
  expect(direct.status).toBe(200);
  remember(direct.body.session_id, direct.body.nonce);

  // The credential handshake, and requests for what does not exist.
  const handshake = await call('GET', `/v1/client/handshake?redirect_url=${encodeURIComponent('https://app.example.com/done/next')}`, { headers: device });
  expect(handshake.status).toBe(307);
  expect((await call('GET', `/flow/${id}/extra`)).status).toBe(404);
  expect((await call('POST', `/v1/sessions/${id}x/steps`, { body: { client_id: TENANT.id, skill: 'kyc-basic', nonce: 'n'.repeat(43), step: 'identity', data: {} } })).status).toBe(404);
  expect((await call('GET', `/api/v1/public/flowx/handshake/%zz${id}`, { headers: backend })).status).toBe(400);

  api.child.kill('SIGTERM');
  expect(await api.exited).toBe(0);
  // Kept for reading: what an operator's log of such a run looks like.
  const logs = join(__dirname, '..', '.data', 'test-logs');
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(logs, 'api-whole-run.log'), api.output());
}, 120_000);

test('the api logged every request of the run, and none of its ids, nonces, tokens or secrets', () => {
  const output = api.output();
  expect(used.size).toBeGreaterThanOrEqual(20);
  const found = [...used].filter((value) => output.includes(value));
  expect(found).toEqual([]);
  const requestLines = output.split('\n').filter((line) => line.includes('"req":'));
  expect(requestLines.length).toBeGreaterThanOrEqual(answers.length);
  expect(output).toContain('"route":"/v1/sessions/:id/steps"');
  expect(output).toContain('"route":"/flow/:id"');
});

test('every answer says Cache-Control: no-store', () => {
  expect(answers.length).toBeGreaterThanOrEqual(18);
  expect(answers.filter((answer) => answer.cacheControl !== 'no-store').map((answer) => answer.what)).toEqual([]);
});
