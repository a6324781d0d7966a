/**
 * Issue 13: `make start` as a supervisor. The embedded stack (scripts/start.ts, its own dev
 * server on free ports and a fresh data directory) keeps running when a child dies: the worker,
 * the api and the Temporal server are killed in turn, each is said and started again, and the
 * stack serves a whole session afterwards. Ctrl-C still stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../scripts/dev-server';
import { eventually, testEnv } from './helpers/stack';
import { alive } from './helpers/processes';

let child: ChildProcess;
let output = '';
let dataDir: string;
let api: string;

/** The pid the supervisor last said for `name` (running or back), once it said one after `after` characters of output. */
function pidOf(name: string, after = 0): Promise<number> {
  const pattern = new RegExp(`\\[supervisor\\] ${name} (?:running|is back) \\(pid (\\d+)\\)`, 'g');
  return eventually(
    async () => {
      const matches = [...output.slice(after).matchAll(pattern)];
      return matches.length ? Number(matches[matches.length - 1][1]) : undefined;
    },
    120_000,
    `${name} to be running`,
  );
}

async function http(method: string, path: string, body?: unknown) {
  const { id, secret } = JSON.parse(readFileSync(join(dataDir, 'clients.json'), 'utf8'))[0];
  const answer = await request(`${api}${path}`, {
    method: method as 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await answer.body.text();
  return { status: answer.statusCode, body: text ? JSON.parse(text) : null, clientId: id as string };
}

/** A whole consent-only session over HTTP: needs the api, the worker and Temporal. */
async function wholeSession(): Promise<string> {
  const created = await http('POST', '/api/v1/public/flowx/handshake', { flow: 'consent-only', snapshot: null, tag: 'REF-supervised' });
  expect(created.status).toBe(200);
  const launched = await http('POST', `/v1/handshakes/${created.body._id}/launch`);
  expect(launched.status).toBe(200);
  const step = await http('POST', `/v1/sessions/${created.body._id}/steps`, {
    client_id: created.clientId,
    nonce: launched.body.nonce,
    skill: 'consent-only',
    step: 'consent',
    data: { accepted: true },
  });
  expect(step.body).toMatchObject({ status: 'SESSION_COMPLETED' });
  return created.body._id as string;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sessionflow-start-'));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    env: testEnv({
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      PORT: String(port),
      SANDBOX_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      TEMPORAL_UI_PORT: String(await freePort()),
      // Not the default 8081: start-readiness.test.ts may run a make start beside this one.
      CODEC_PORT: String(await freePort()),
      TEMPORAL_TASK_QUEUE: `start-supervisor-${port}`,
    }) as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(async () => (output.includes('sessionflow is running') ? true : child.exitCode !== null ? false : undefined), 180_000, 'make start');
  if (!output.includes('sessionflow is running')) throw new Error(`make start did not start:\n${output}`);
}, 200_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

test.each(['worker', 'api', 'sandbox'])('a killed %s is said, started again after the backoff, and the stack serves', async (name) => {
  const before = await pidOf(name);
  const mark = output.length;
  process.kill(before, 'SIGKILL');
  const after = await pidOf(name, mark);
  expect(after).not.toBe(before);
  expect(output.slice(mark)).toContain(`[supervisor] ${name} exited (signal SIGKILL)`);
  expect(output.slice(mark)).toMatch(new RegExp(`\\[supervisor\\] restarting ${name} in 1 s \\(attempt 1;`));
  await eventually(async () => ((await request(`${api}/healthz`)).statusCode === 200 ? true : undefined), 60_000, 'healthz');
  await wholeSession();
}, 240_000);

test('a dead Temporal server is noticed and said, started again, and nothing is lost', async () => {
  const sessionId = await wholeSession();
  const before = await pidOf('Temporal server');
  const mark = output.length;
  process.kill(before, 'SIGKILL');
  await pidOf('Temporal server', mark);
  expect(output.slice(mark)).toMatch(/\[supervisor\] Temporal server exited \(signal SIGKILL\): sessions wait/);
  // The worker and api come back to it on their own (or are restarted by the supervisor).
  await eventually(
    async () => {
      try {
        return (await http('GET', `/api/v1/public/flowx/handshake/${sessionId}`)).body?.status === 'consumed' ? true : undefined;
      } catch {
        return undefined;
      }
    },
    120_000,
    'the session from before to be readable again',
  );
  await eventually(
    async () => {
      try {
        return (await wholeSession()) ? true : undefined;
      } catch {
        return undefined;
      }
    },
    120_000,
    'a whole session after the restart',
  );
}, 300_000);

test('Ctrl-C stops everything', async () => {
  const pids = await Promise.all(['worker', 'api', 'sandbox', 'Temporal server'].map((name) => pidOf(name)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  for (const pid of pids) expect(alive(pid)).toBe(false);
  expect(output).toContain('stopping sessionflow...');
}, 120_000);
