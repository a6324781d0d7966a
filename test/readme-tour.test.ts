/**
 * The README's five-minute tour, walked as a newcomer would on a bare `make start` (its script,
 * on free ports): the tour's own shell commands, run as written with only the ports, the secret
 * and the session id filled in; the hosted page in Chromium; the session in the Temporal UI's
 * list query; the webhooks in the sandbox's inbox with their signatures verified; and the signed
 * result. A change that breaks a step of the tour fails here.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { request } from 'undici';
import { launchChromium } from '../scripts/chromium';
import { freePort } from '../scripts/dev-server';
import { testEnv } from './helpers/stack';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const TOUR = README.slice(README.indexOf('## A five-minute tour'), README.indexOf('\n## ', README.indexOf('## A five-minute tour') + 5));
/** The tour's shell blocks, in order. */
const BLOCKS = [...TOUR.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]);

const cli = process.env.TEMPORAL_CLI;
let dataDir: string;
let child: ChildProcess | undefined;
let output = '';
let browser: Browser | undefined;
const ports: Record<string, number> = {};

/** A tour command as written, with this stack's ports, the dev client's secret and the session id. */
function fill(block: string, values: { secret: string; sessionId?: string }): string {
  let filled = block
    .replaceAll('localhost:8080', `127.0.0.1:${ports.api}`)
    .replaceAll('localhost:8090', `127.0.0.1:${ports.sandbox}`)
    .replaceAll('<secret>', values.secret);
  if (values.sessionId) filled = filled.replace(/DS\.\.\./g, values.sessionId);
  return filled;
}

/** Runs the export block and then `block` in one bash, as a reader pastes them in one terminal. */
function run(block: string, values: { secret: string; sessionId?: string }): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', `${fill(BLOCKS[0], values)}\n${fill(block, values)}`], { encoding: 'utf8', timeout: 30_000 });
}

beforeAll(async () => {
  if (!cli) throw new Error('TEMPORAL_CLI must name the Temporal CLI; run this through `make test`');
  dataDir = mkdtempSync(join(tmpdir(), 'sessionflow-tour-'));
  for (const name of ['temporal', 'ui', 'api', 'sandbox', 'codec']) ports[name] = await freePort();
  const env = testEnv({
    TEMPORAL_CLI: cli,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_UI_PORT: String(ports.ui),
    PORT: String(ports.api),
    SANDBOX_PORT: String(ports.sandbox),
    CODEC_PORT: String(ports.codec),
    DATA_DIR: dataDir,
  });
  // A bare make start: the stack's own settings, not the test run's.
  for (const name of ['WORKFLOW_BUNDLE_PATH', 'TEMPORAL_TASK_QUEUE', 'SESSIONFLOW_CLIENTS', 'SESSIONFLOW_CLIENTS_FILE', 'LOG_LEVEL']) delete env[name];
  child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child!.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('sessionflow is running')) resolve();
    });
    child!.once('exit', (code) => reject(new Error(`make start exited with code ${code}:\n${output}`)));
  });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => {
      child!.once('exit', resolve);
      child!.kill('SIGINT');
    });
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('the tour, step by step, on a bare make start', async () => {
  expect(BLOCKS.length).toBeGreaterThanOrEqual(3);
  // Its first block names the api and the dev client; the secret is on make start's `dev client` line.
  const secret = /dev client .*secret (\S+)/.exec(output)?.[1];
  expect(secret).toBeDefined();
  const values = { secret: secret! };

  // 1. The create, as written: a session with a webhook and a return page.
  const created = JSON.parse(run(BLOCKS[1], values)) as { _id: string; url: string };
  expect(created).toEqual(expect.objectContaining({ _id: expect.stringMatching(/^DS/), url: expect.stringContaining('/flow/DS') }));

  // 2. The hosted page: Start, Yes, Continue; then back to the local "returned" page.
  const page = await browser!.newPage();
  await page.goto(created.url.replace(/localhost:\d+/, `127.0.0.1:${ports.api}`));
  await page.getByRole('button', { name: 'Start' }).click();
  await page.getByRole('radio', { name: 'Yes' }).check();
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.waitForURL(new RegExp(`127\\.0\\.0\\.1:${ports.sandbox}/returned`), { timeout: 30_000 });
  expect(await page.title()).toMatch(/returned|back/i);

  // 3. The Temporal UI's list query the tour names finds the session, and the UI answers.
  const query = /`(SessionStatus = "consumed")`/.exec(TOUR)?.[1];
  expect(query).toBeDefined();
  const listed = execFileSync(cli!, ['workflow', 'list', '--address', `127.0.0.1:${ports.temporal}`, '--query', query!, '--output', 'json'], { encoding: 'utf8' });
  expect(listed).toContain('sessionWorkflow');
  const ui = await request(`http://127.0.0.1:${ports.ui}/`);
  expect(ui.statusCode).toBe(200);
  await ui.body.dump();

  // 4. The inbox: every event the tour names arrived, each with its signature verified.
  const events = [...TOUR.matchAll(/`(session\.[a-z_]+)`/g)].map((match) => match[1]);
  expect(events).toContain('session.consumed');
  const inboxUrl = /(http:\/\/localhost:8090\/inbox)/.exec(TOUR)?.[1];
  expect(inboxUrl).toBeDefined();
  let deliveries: Array<{ type?: string; verified?: boolean }> = [];
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const inbox = await request(`${fill(inboxUrl!, values)}.json`);
    deliveries = ((await inbox.body.json()) as { deliveries: typeof deliveries }).deliveries;
    if (events.every((type) => deliveries.some((delivery) => delivery.type === type && delivery.verified))) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  for (const type of events) expect({ type, verified: deliveries.some((delivery) => delivery.type === type && delivery.verified) }).toEqual({ type, verified: true });

  // 5. The signed result, fetched as written, verifies with the client secret.
  const result = JSON.parse(run(BLOCKS[BLOCKS.length - 1], { ...values, sessionId: created._id })) as { status: string; outcome: string; result: unknown; resultSignature: string };
  expect(result).toEqual(expect.objectContaining({ status: 'consumed', outcome: 'success' }));
  expect(result.resultSignature).toBe(createHmac('sha256', secret!).update(JSON.stringify(result.result)).digest('hex'));
}, 180_000);
