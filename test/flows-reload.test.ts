/**
 * Flows change without restarting anything, against two running api processes reading one
 * flows directory: a new file, an invalid file (logged once with every problem, skipped, the
 * rest serving), an invalid edit (the last valid version keeps serving), a snapshot published
 * with `flow:publish`, and a removed file. Every wait is a bounded poll on the api's answers.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { loadConfig } from '../src/config';
import { initialiseKeyStore, initSettings } from '../src/keys/init';
import { basic, spawnApi, TENANT_A, type RunningApi } from './helpers/api';
import { testEnv } from './helpers/stack';

const consentOnly = JSON.parse(readFileSync(join(__dirname, '..', 'flows', 'consent-only.json'), 'utf8')) as Record<string, unknown> & {
  draft: { initial: string };
};
let flowsDir: string;
let dataDir: string;
let apis: RunningApi[] = [];

function writeFlow(name: string, content: unknown): void {
  writeFileSync(join(flowsDir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

async function create(api: RunningApi, flow: string, snapshot: string | null = null): Promise<{ status: number; code?: number; details?: string }> {
  const answer = await request(`${api.url}/api/v1/public/flowx/handshake`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(TENANT_A) },
    body: JSON.stringify({ flow, snapshot, tag: 'REF-reload' }),
  });
  const body = (await answer.body.json()) as { code?: number; details?: string };
  return { status: answer.statusCode, code: body.code, details: body.details };
}

/** Polls until `check` holds, every 100 ms, for at most 20 s (far above the 1 s scan, for a loaded machine). */
async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The api's error log lines about a flow file. */
function skipped(api: RunningApi, file: string): Array<{ problems: string[]; msg: string }> {
  return api
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; file?: string; problems: string[]; msg: string })
    .filter((entry) => entry.level === 50 && entry.file === file);
}

function publish(flowId: string) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/publish-flow.ts', flowId], {
    env: testEnv({ FLOWS_DIR: flowsDir }) as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  flowsDir = mkdtempSync(join(tmpdir(), 'sessionflow-flows-'));
  dataDir = mkdtempSync(join(tmpdir(), 'sessionflow-reload-'));
  await initialiseKeyStore(initSettings(loadConfig({ DATA_DIR: dataDir, SESSIONFLOW_DEV_KEK_DIR: process.env.SESSIONFLOW_DEV_KEK_DIR })));
  writeFlow('consent-only.json', consentOnly);
  const env = testEnv({
    TEMPORAL_TASK_QUEUE: `flows-reload-${randomUUID()}`,
    FLOWS_DIR: flowsDir,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    SESSIONFLOW_CLIENTS: JSON.stringify([TENANT_A]),
  }) as NodeJS.ProcessEnv;
  apis = await Promise.all([spawnApi(env), spawnApi(env)]);
});

afterAll(async () => {
  for (const api of apis) {
    api.child.kill('SIGTERM');
    await api.exited;
  }
  rmSync(flowsDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test('a running api picks up new, changed, published and removed flow files, and skips invalid ones', async () => {
  for (const api of apis) expect(await create(api, 'hot-flow')).toEqual({ status: 400, code: 4002 });

  // A new file: every replica serves it on its own.
  writeFlow('hot-flow.json', { ...consentOnly, id: 'hot-flow', name: 'Hot flow', snapshots: {} });
  for (const api of apis) await until('the new flow serves', async () => (await create(api, 'hot-flow')).status === 200);

  // An invalid file: reported with every problem, skipped; the others keep serving.
  writeFlow('broken.json', { id: 'not-broken', active: 'yes', draft: consentOnly.draft, snapshots: {} });
  for (const api of apis) await until('the broken file is reported', () => skipped(api, 'broken.json').length > 0);
  expect(skipped(apis[0], 'broken.json')[0]).toEqual({
    level: 50,
    file: 'broken.json',
    problems: ['id must be "broken", the file\'s name', 'name must be a non-empty string', 'active must be true or false'],
    msg: 'flow file skipped: it is not a valid flow',
    ...Object.fromEntries(['time', 'pid', 'hostname'].map((key) => [key, expect.anything()])),
  });
  expect(await create(apis[0], 'consent-only')).toEqual({ status: 200, code: undefined });
  expect(await create(apis[0], 'not-broken')).toEqual({ status: 400, code: 4002 });
  // The flow its file names did not load: the tenant is told so, and nothing of the problems.
  expect(await create(apis[0], 'broken')).toEqual({ status: 400, code: 4002, details: 'the flow is not available: its definition failed to load; ask the operator' });

  // An invalid edit of a flow that serves: its last valid version keeps serving.
  writeFlow('hot-flow.json', { ...consentOnly, id: 'hot-flow', name: 'Hot flow', snapshots: {}, draft: { ...consentOnly.draft, initial: 'nowhere' } });
  for (const api of apis) await until('the invalid edit is reported', () => skipped(api, 'hot-flow.json').length > 0);
  expect(skipped(apis[1], 'hot-flow.json')[0].msg).toBe('flow file skipped: it is not a valid flow; its last valid version keeps serving');
  expect(skipped(apis[1], 'hot-flow.json')[0].problems).toEqual(['draft: the machine needs an initial state that exists']);
  for (const api of apis) expect(await create(api, 'hot-flow')).toEqual({ status: 200, code: undefined });

  // Fixed, then published: the snapshot serves without a restart.
  writeFlow('hot-flow.json', { ...consentOnly, id: 'hot-flow', name: 'Hot flow, fixed', snapshots: {} });
  const published = publish('hot-flow');
  expect(published).toEqual({ status: 0, stdout: expect.stringMatching(/^hot-flow: published snapshot [0-9a-f-]{36}\n$/), stderr: '' });
  const snapshot = /snapshot ([0-9a-f-]{36})/.exec(published.stdout)![1];
  for (const api of apis) await until('the published snapshot serves', async () => (await create(api, 'hot-flow', snapshot)).status === 200);

  // Many scans later, each invalid content was still reported once only.
  for (const api of apis) {
    expect(skipped(api, 'broken.json')).toHaveLength(1);
    expect(skipped(api, 'hot-flow.json')).toHaveLength(1);
  }

  // A removed file no longer starts sessions.
  unlinkSync(join(flowsDir, 'hot-flow.json'));
  for (const api of apis) await until('the removed flow is refused', async () => (await create(api, 'hot-flow', snapshot)).code === 4002);
});

test('flow:publish lists the problems of an invalid flow and exits 1 without a stack trace, writing nothing', () => {
  const broken = JSON.stringify({ id: 'not-broken', active: 'yes', draft: consentOnly.draft, snapshots: {} });
  writeFlow('broken.json', broken);
  expect(publish('broken')).toEqual({
    status: 1,
    stdout: '',
    stderr: [
      'broken: broken.json is not a valid flow, nothing published:',
      '  - id must be "broken", the file\'s name',
      '  - name must be a non-empty string',
      '  - active must be true or false',
      '',
    ].join('\n'),
  });
  expect(readFileSync(join(flowsDir, 'broken.json'), 'utf8')).toBe(broken);
  expect(publish('no-such-flow')).toEqual({ status: 1, stdout: '', stderr: expect.stringMatching(/^no-such-flow: there is no flow file no-such-flow\.json in the flows directory .*\n$/) });
});
