/**
 * `make start` (scripts/start.ts, the whole embedded stack) says "running" only when a create
 * will succeed. Both restarts the issue saw: on a `.data/` written by a Temporal that never had
 * the session search attributes (as after an upgrade that adds one), and a plain restart on the
 * data the first run left. Each time the README's first create, sent the moment "running" is
 * printed, must answer 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { request } from 'undici';
import { freePort } from '../scripts/dev-server';
import { eventually, testEnv } from './helpers/stack';

const cli = process.env.TEMPORAL_CLI;
let dataDir: string;

beforeAll(() => {
  if (!cli) throw new Error('TEMPORAL_CLI must name the Temporal CLI; run this through `make test`');
  dataDir = mkdtempSync(join(tmpdir(), 'sessionflow-start-'));
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

/** A database as a dev server without the session search attributes leaves it. */
async function writeDatabaseWithoutSearchAttributes(dbFile: string): Promise<void> {
  const port = await freePort();
  const server = spawn(cli!, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile, '--log-level', 'error'], {
    stdio: 'ignore',
  });
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: 'default' });
          const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
          expect(Object.keys(customAttributes ?? {})).not.toContain('SessionStatus');
          return;
        } finally {
          await connection.close();
        }
      } catch (err) {
        if (attempt >= 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
  } finally {
    await stopped(server, 'SIGTERM');
  }
}

/**
 * Runs `make start`'s script until it prints that it is running; then sends the README's create
 * at once. Answers it, and what the terminal showed.
 */
async function startAndCreateFirstSession(
  ports: Record<string, number>,
  extra: Record<string, string> = {},
  showing?: RegExp,
): Promise<{ status: number; body: unknown; terminal: string }> {
  const env = testEnv({
    TEMPORAL_CLI: cli!,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_UI_PORT: String(ports.ui),
    PORT: String(ports.api),
    SANDBOX_PORT: String(ports.sandbox),
    CODEC_PORT: String(ports.codec),
    DATA_DIR: dataDir,
    // make start recognises the api's "Server listening at" line, logged at info.
    LOG_LEVEL: 'info',
  });
  // The stack's own settings, not the test run's.
  for (const name of ['WORKFLOW_BUNDLE_PATH', 'TEMPORAL_TASK_QUEUE', 'SESSIONFLOW_CLIENTS', 'SESSIONFLOW_CLIENTS_FILE', 'SESSIONFLOW_ACCESS_LOG']) delete env[name];
  Object.assign(env, extra);
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('sessionflow is running')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`make start exited with code ${code}:\n${output}`)));
    });
    const [client] = JSON.parse(readFileSync(join(dataDir, 'clients.json'), 'utf8')) as Array<{ id: string; secret: string }>;
    const answer = await request(`http://127.0.0.1:${ports.api}/api/v1/public/flowx/handshake`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` },
      body: JSON.stringify({ flow: 'consent-only', snapshot: null, tag: 'REF-1' }),
    });
    const body = await answer.body.json();
    // It names the data directory it was given, where the sessions stay for the next start.
    expect(output).toContain(`sessions are kept in ${dataDir}/ for the next start`);
    // The Try block opens with the hosted page of a consent-only session made for the reader.
    const hosted = /open +(http:\/\/localhost:\d+\/flow\/DS[0-9A-Za-z]{20}) /.exec(output);
    expect(hosted).not.toBeNull();
    const page = await request(hosted![1].replace('localhost', '127.0.0.1'));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    await page.body.dump();
    const ready = await request(`http://127.0.0.1:${ports.api}/readyz`);
    expect(ready.statusCode).toBe(200);
    await ready.body.dump();
    // The terminal once it showed what is awaited (lines come through two pipes, a moment later).
    if (showing) await eventually(async () => (showing.test(output) ? true : undefined), 30_000, `the terminal to show ${showing}`);
    return { status: answer.statusCode, body, terminal: output };
  } finally {
    const code = await stopped(child, 'SIGINT');
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
  }
}

test('after a restart on existing data, the first create sent when make start says running answers 200', async () => {
  await writeDatabaseWithoutSearchAttributes(join(dataDir, 'temporal.db'));
  // Every port free, the codec's too: start-supervisor.test.ts may run a make start beside this one.
  const ports = { temporal: await freePort(), ui: await freePort(), api: await freePort(), sandbox: await freePort(), codec: await freePort() };
  const upgraded = await startAndCreateFirstSession(ports);
  expect(upgraded).toEqual({ status: 200, body: expect.objectContaining({ _id: expect.stringMatching(/^DS/) }), terminal: expect.any(String) });
  // Access lines stay off the terminal by default (start-first-hour.test.ts: they are in a file);
  // SESSIONFLOW_ACCESS_LOG=stdout brings them back.
  expect(upgraded.terminal).not.toContain('"msg":"incoming request"');
  const createLine = /\[api\] \{"level":30,.*"req":\{"method":"POST","route":"\/api\/v1\/public\/flowx\/handshake"\},"msg":"incoming request"\}/;
  const restarted = await startAndCreateFirstSession(ports, { SESSIONFLOW_ACCESS_LOG: 'stdout' }, createLine);
  expect(restarted).toEqual({ status: 200, body: expect.objectContaining({ _id: expect.stringMatching(/^DS/) }), terminal: expect.any(String) });
  expect(restarted.terminal).toMatch(createLine);
  expect(restarted.terminal).not.toContain('access log   ');
}, 400_000);
