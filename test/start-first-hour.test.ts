/**
 * Issue 26: a bare `make start` (scripts/start.ts on free ports, a fresh data directory, no
 * clients, no secrets, nothing configured) shows every feature. The development client's
 * webhooks go to the sandbox's signature-checking inbox and its users return to the sandbox's
 * "returned" page; the Try block's session has a hosted link, a return and a webhook. A create
 * with `"webhook": true` and a returnUrl runs through as the hosted page runs it, and its
 * webhooks arrive verified. The terminal stays quiet: access lines go to a private file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../scripts/dev-server';
import type { InboxDelivery } from '../src/sandbox/tenant-pages';
import { eventually, testEnv } from './helpers/stack';

let child: ChildProcess;
let output = '';
let dataDir: string;
let api: string;
let sandbox: number;
let codec: number;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sessionflow-first-hour-'));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  sandbox = await freePort();
  codec = await freePort();
  const env = testEnv({
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    PORT: String(port),
    SANDBOX_PORT: String(sandbox),
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    CODEC_PORT: String(codec),
  });
  // Bare: nothing of the test run's own settings.
  for (const name of ['WORKFLOW_BUNDLE_PATH', 'TEMPORAL_TASK_QUEUE', 'SESSIONFLOW_CLIENTS', 'SESSIONFLOW_CLIENTS_FILE', 'SESSIONFLOW_ACCESS_LOG', 'SANDBOX_INBOX_WEBHOOK_SECRET']) delete env[name];
  child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(async () => (output.includes('sessionflow is running') ? true : child.exitCode !== null ? false : undefined), 180_000, 'make start');
  if (!output.includes('sessionflow is running')) throw new Error(`make start did not start:\n${output}`);
}, 200_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

function devClient(): { id: string; secret: string } {
  return JSON.parse(readFileSync(join(dataDir, 'clients.json'), 'utf8'))[0];
}

async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const answer = await request(`${api}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await answer.body.text();
  return { status: answer.statusCode, headers: answer.headers, body: text ? JSON.parse(text) : null };
}

const basic = () => ({ authorization: `Basic ${Buffer.from(`${devClient().id}:${devClient().secret}`).toString('base64')}` });

async function inbox(): Promise<InboxDelivery[]> {
  const answer = await request(`http://127.0.0.1:${sandbox}/inbox.json`);
  return ((await answer.body.json()) as { deliveries: InboxDelivery[] }).deliveries;
}

/** The inbox's deliveries of one session once `type` has arrived. */
function deliveriesOnce(sessionId: string, type: string): Promise<InboxDelivery[]> {
  return eventually(
    async () => {
      const mine = (await inbox()).filter((delivery) => delivery.sessionId === sessionId);
      return mine.some((delivery) => delivery.type === type) ? mine : undefined;
    },
    60_000,
    `${type} of ${sessionId} in the inbox`,
  );
}

test('the Try block shows a hosted link that returns to the local page and sends webhooks to the inbox, and they arrive verified', async () => {
  const returned = `http://localhost:${sandbox}/returned`;
  const hosted = /open +http:\/\/localhost:\d+\/flow\/(DS[0-9A-Za-z]{20}) +\(a consent-only session made for you: finish it, it returns to (\S+) and sends its webhooks to the inbox\)/.exec(output);
  expect(hosted?.[2]).toBe(returned);
  expect(output).toMatch(new RegExp(`inbox +http://localhost:${sandbox}/inbox +\\(the dev client's webhooks, each signature checked\\)`));
  expect(output).toContain(`"webhook":true,"returnUrl":"${returned}"`);
  // The session made for the reader has sent its first webhook, signed as the inbox expects.
  const [created] = await deliveriesOnce(hosted![1], 'session.created');
  expect(created).toMatchObject({ type: 'session.created', verified: true });
});

test('a create with "webhook": true and a returnUrl succeeds, runs through as the hosted page runs it, and its webhooks are in the inbox, verified; the returned page answers', async () => {
  const returnUrl = `http://localhost:${sandbox}/returned`;
  const created = await call('POST', '/api/v1/public/flowx/handshake', { flow: 'consent-only', tag: 'REF-first-hour', webhook: true, returnUrl }, basic());
  expect(created.status).toBe(200);
  const sessionId = created.body._id as string;

  // As the hosted page does: open it in "the browser", then take the step with its credential.
  const opened = await call('POST', `/v1/sessions/${sessionId}/open`, {});
  expect(opened).toMatchObject({ status: 200, body: { return_url: returnUrl, step: 'consent' } });
  const cookie = String(opened.headers['set-cookie']).split(';')[0];
  const step = await call('POST', `/v1/sessions/${sessionId}/steps`, { client_id: opened.body.client_id, skill: opened.body.skill, nonce: opened.body.nonce, step: 'consent', data: { accepted: true } }, { cookie });
  expect(step.body).toMatchObject({ status: 'SESSION_COMPLETED' });

  const deliveries = await deliveriesOnce(sessionId, 'session.consumed');
  expect(deliveries.map((delivery) => delivery.type).sort()).toEqual(expect.arrayContaining(['session.created', 'session.consumed']));
  for (const delivery of deliveries) expect(delivery).toMatchObject({ verified: true, attempts: [{ verified: true }] });
  const consumed = deliveries.find((delivery) => delivery.type === 'session.consumed')!;
  expect(consumed.body).toMatchObject({ data: { sessionId, outcome: 'success', resultSignature: expect.any(String) } });

  const page = await request(returnUrl.replace('localhost', '127.0.0.1'));
  expect(page.statusCode).toBe(200);
  expect(await page.body.text()).toContain('Back from the hosted page');
  const listed = await request(`http://127.0.0.1:${sandbox}/inbox`);
  expect(await listed.body.text()).toContain(sessionId);
}, 120_000);

test('the terminal shows no access lines: they are in the data folder, in a file only its owner reads', async () => {
  const file = join(dataDir, 'logs', 'access.log');
  expect(output).toContain(`access log   ${file}   (SESSIONFLOW_ACCESS_LOG=stdout prints it here)`);
  // A codec decode, as an operator's CLI asks for one (the development admin's token).
  const token = readFileSync(join(dataDir, 'operator-token'), 'utf8').trim();
  const decoded = await request(`http://127.0.0.1:${codec}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"payloads":[]}' });
  expect(decoded.statusCode).toBe(200);
  await decoded.body.dump();
  await call('GET', '/readyz');
  const lines = await eventually(
    async () => {
      const entries = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { service: string; req?: { url: string } });
      return entries.some((entry) => entry.service === 'codec' && entry.req?.url === '/decode') ? entries : undefined;
    },
    30_000,
    'the codec decode in the access log',
  );
  expect(lines).toContainEqual(expect.objectContaining({ service: 'api', req: expect.objectContaining({ route: '/api/v1/public/flowx/handshake' }) }));
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(output).not.toMatch(/"msg":"(incoming request|request completed)"/);
  expect(output).not.toContain('"req":');
});
