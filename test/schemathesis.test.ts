/**
 * Schemathesis (PyPI, installed into .tools/ by scripts/install-schemathesis.sh, which `make
 * test` runs) against the api of the test stack: every check, once with credentials (a tenant's
 * Basic auth, a device credential as bearer and cookie) and once without, a bounded number of
 * examples, real session and flow ids from test/schemathesis/schemathesis.toml. Zero failures.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, TENANT_A, type Api } from './helpers/api';
import { startStack, type Stack } from './helpers/stack';

const ROOT = join(__dirname, '..');
const ST = process.env.SCHEMATHESIS ?? join(ROOT, '.tools', 'schemathesis', 'bin', 'st');
/** Per operation and phase; with every phase this keeps a run to a few minutes on two cores. */
const MAX_EXAMPLES = Number(process.env.SCHEMATHESIS_MAX_EXAMPLES ?? 20);
const LOG_DIR = join(ROOT, '.data', 'test-logs');

let stack: Stack;
let api: Api;
const ids: Record<string, string> = {};

beforeAll(async () => {
  if (!existsSync(ST)) throw new Error(`Schemathesis is not installed at ${ST}: run bash scripts/install-schemathesis.sh (make test does)`);
  stack = await startStack('schemathesis');
  await stack.startWorker();
  api = await startApi(stack);
  const definition = stack.definition('consent-only');
  const create = async (tag: string) => (await stack.gateway.create({ tenantId: TENANT_A.id, tag, definition })).sessionId;
  ids.SF_CREATED_SESSION = await create('REF-st-created');
  ids.SF_OPEN_SESSION = await create('REF-st-open');
  ids.SF_CONSUMED_SESSION = await create('REF-st-consumed');
  const launched = await stack.gateway.launch(ids.SF_CONSUMED_SESSION);
  await stack.gateway.submitStep(ids.SF_CONSUMED_SESSION, { nonce: launched.nonce!, step: 'consent', input: { accepted: true } });
  ids.SF_FLOW = 'consent-only';
  ids.SF_CLIENT = TENANT_A.id;
  const device = await api.call('POST', `/v1/client?client_id=${TENANT_A.id}&_is_native=true`, { as: null });
  ids.SF_DEVICE_CREDENTIAL = String(device.headers.authorization).replace(/^Bearer /, '');
  // Launched with the run's device credential: with credentials, its steps and reads reach it.
  ids.SF_LIVE_SESSION = await create('REF-st-live');
  const live = await api.call('POST', `/v1/handshakes/${ids.SF_LIVE_SESSION}/launch`, { as: null, headers: { authorization: String(device.headers.authorization) } });
  if (live.status !== 200) throw new Error(`launching the live session: ${live.status}`);
  mkdirSync(LOG_DIR, { recursive: true });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await stack?.stop();
});

/** The committed config, plus an [auth] section for the run with credentials. */
function configFile(withCredentials: boolean): string {
  const base = readFileSync(join(ROOT, 'test', 'schemathesis', 'schemathesis.toml'), 'utf8');
  const auth = [
    '',
    '[auth.openapi.basicAuth]',
    `username = "${TENANT_A.id}"`,
    `password = "${TENANT_A.secret}"`,
    '[auth.openapi.deviceBearer]',
    'bearer = "${SF_DEVICE_CREDENTIAL}"',
    '[auth.openapi.deviceCookie]',
    'api_key = "${SF_DEVICE_CREDENTIAL}"',
    '',
  ].join('\n');
  const file = join(LOG_DIR, `schemathesis-${withCredentials ? 'auth' : 'anonymous'}.toml`);
  writeFileSync(file, withCredentials ? `${base}${auth}` : base);
  return file;
}

function runSchemathesis(withCredentials: boolean): Promise<{ code: number | null; output: string }> {
  const args = [
    '--config-file',
    configFile(withCredentials),
    'run',
    `${api.url}/openapi.json`,
    '--checks',
    'all',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--workers',
    '2',
    '--seed',
    '13',
    '--no-color',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(ST, args, { env: { ...process.env, ...ids }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      writeFileSync(join(LOG_DIR, `schemathesis-${withCredentials ? 'auth' : 'anonymous'}.log`), output);
      resolve({ code, output });
    });
  });
}

test.each([
  ['with credentials', true],
  ['without credentials', false],
])('Schemathesis finds no failure %s', async (_name, withCredentials) => {
  const { code, output } = await runSchemathesis(withCredentials);
  if (code !== 0) throw new Error(`Schemathesis exited ${code}:\n${output.slice(-20_000)}`);
  expect(output).toMatch(/No issues found|passed/);
}, 600_000);
