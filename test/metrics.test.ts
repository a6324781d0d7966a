/**
 * Metrics, end to end: a worker and an api, each its own OS process with its metrics port, run
 * real sessions through the provider sandboxes and a webhook receiver; both /metrics endpoints
 * are then read with a strict exposition parser and compared with what this test did and what
 * the sandbox and the receiver saw.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { request } from 'undici';
import { loadConfig } from '../src/config';
import { initialiseKeyStore, initSettings } from '../src/keys/init';
import { freePort } from '../scripts/dev-server';
import { sessionWorkflowId } from '../src/session-secret';
import type { TenantClient } from '../src/tenants/registry';
import { basic, DEVICE_TOKEN_SECRET, spawnApi, type RunningApi } from './helpers/api';
import { BANK, completeAttestr, IDENTITY, sandboxCall } from './helpers/flows';
import { parsePrometheus, type Exposition } from './helpers/prometheus';
import { eventually, startStack, TEST_SESSION_SECRET, testEnv, type Stack } from './helpers/stack';

/** A webhook endpoint that refuses the first delivery with a 429 and accepts every other one. */
class Receiver {
  private server: Server | null = null;
  url = '';
  refused = 0;
  accepted = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (this.refused === 0) {
          this.refused += 1;
          res.writeHead(429, { 'retry-after': '1' }).end();
          return;
        }
        this.accepted += 1;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const receiver = new Receiver();
let tenant: TenantClient;
let stack: Stack;
let api: RunningApi;
let dataDir: string;
let workerMetricsUrl: string;
let workerHealthPort: number;
let apiMetricsUrl: string;
const sessionIds: string[] = [];

/** What this test did, counted as it went; the metrics must say the same. */
const expectedStatuses = { created: 0, in_progress: 0, consumed: 0, expired: 0, archived: 0 };
const stepsSubmitted = new Map<string, number>();
let before: { api: Exposition; worker: Exposition };

async function scrape(url: string): Promise<{ contentType: string; text: string; metrics: Exposition }> {
  const answer = await request(url, { reset: true });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`GET ${url} answered ${answer.statusCode}`);
  return { contentType: String(answer.headers['content-type']), text, metrics: parsePrometheus(text) };
}

/** One connection per request: see the note in api-process.test.ts on keep-alive with a child api. */
async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const backend = path.startsWith('/api/');
  const answer = await request(`${api.url}${path}`, {
    method,
    reset: true,
    headers: { ...(backend ? { authorization: basic(tenant) } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await answer.body.text();
  return { status: answer.statusCode, body: text === '' ? null : JSON.parse(text) };
}

async function handshake(flow: string, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await call('POST', '/api/v1/public/flowx/handshake', { flow, snapshot: null, tag: `REF-metrics-${sessionIds.length}`, ...extra });
  expect(answer.status).toBe(200);
  sessionIds.push(answer.body._id);
  return answer.body._id as string;
}

async function launch(sessionId: string): Promise<string> {
  const answer = await call('POST', `/v1/handshakes/${sessionId}/launch`);
  expect(answer.status).toBe(200);
  return answer.body.nonce as string;
}

/** Submits a step and counts it under the labels the step histogram should use. */
async function step(sessionId: string, flow: string, kind: string, nonce: string, name: string, data: unknown): Promise<Answer> {
  const answer = await call('POST', `/v1/sessions/${sessionId}/steps`, { client_id: tenant.id, skill: flow, nonce, step: name, data });
  const outcome = answer.status === 200 ? 'accepted' : 'refused';
  const key = `${flow}/${kind}/${outcome}`;
  stepsSubmitted.set(key, (stepsSubmitted.get(key) ?? 0) + 1);
  return answer;
}

async function vendorCalls(provider: 'attestr' | 'finqware'): Promise<Array<{ method: string; path: string; status: number }>> {
  return (await sandboxCall(stack, 'GET', `/${provider}/_calls`)) as Array<{ method: string; path: string; status: number }>;
}

beforeAll(async () => {
  await receiver.start();
  tenant = {
    id: 'tenant-metrics',
    secret: 'tenant-metrics-secret-0123456789',
    webhookUrl: receiver.url,
    webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
    perSecond: 1000,
    perDay: 1_000_000,
  };
  const [workerPort, apiPort] = [await freePort(), await freePort()];
  workerHealthPort = await freePort();
  workerMetricsUrl = `http://127.0.0.1:${workerPort}/metrics`;
  apiMetricsUrl = `http://127.0.0.1:${apiPort}/metrics`;
  const clients = JSON.stringify([tenant]);
  stack = await startStack('metrics', {}, { SESSIONFLOW_CLIENTS: clients });
  // The worker and the api share a data directory (the data keys and their KEK) and the session
  // secret, as the processes of one deployment do.
  dataDir = mkdtempSync(join(tmpdir(), 'sessionflow-metrics-'));
  await initialiseKeyStore(initSettings(loadConfig({ DATA_DIR: dataDir, SESSIONFLOW_DEV_KEK_DIR: process.env.SESSIONFLOW_DEV_KEK_DIR })));
  // Only the worker process gets the port: this jest process installs an SDK runtime of its own.
  await stack.spawnWorker({ WORKER_METRICS_PORT: String(workerPort), WORKER_HEALTH_PORT: String(workerHealthPort), DATA_DIR: dataDir });
  api = await spawnApi(
    testEnv({
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      DATA_DIR: dataDir,
      SESSION_SECRET: TEST_SESSION_SECRET,
      SESSIONFLOW_CLIENTS: clients,
      DEVICE_TOKEN_SECRET,
      API_METRICS_PORT: String(apiPort),
      LOG_LEVEL: 'info',
    }) as NodeJS.ProcessEnv,
  );
  before = { api: (await scrape(apiMetricsUrl)).metrics, worker: (await scrape(workerMetricsUrl)).metrics };

  // created: never launched.
  await handshake('consent-only');
  expectedStatuses.created += 1;

  // in_progress: launched, and one step refused for a wrong nonce.
  const waiting = await handshake('consent-only');
  await launch(waiting);
  expect((await step(waiting, 'consent-only', 'input', 'not-the-nonce', 'consent', { accepted: true })).status).toBe(400);
  expectedStatuses.in_progress += 1;

  // consumed, with webhooks: its events go to the receiver, which refuses the first.
  const hooked = await handshake('consent-only', { webhook: true });
  expect((await step(hooked, 'consent-only', 'input', await launch(hooked), 'consent', { accepted: true })).status).toBe(200);
  expectedStatuses.consumed += 1;

  // archived: consumed, then archived.
  const archived = await handshake('consent-only');
  expect((await step(archived, 'consent-only', 'input', await launch(archived), 'consent', { accepted: true })).status).toBe(200);
  expect((await call('POST', `/api/v1/public/flowx/handshake/${archived}/archive`)).status).toBe(200);
  expectedStatuses.archived += 1;

  // expired: its expiry comes before anyone launches it.
  await handshake('consent-only', { expiry: Date.now() + 1_000 });
  expectedStatuses.expired += 1;

  // consumed with the outcome skipped: declined.
  const declined = await handshake('consent-only');
  expect((await step(declined, 'consent-only', 'input', await launch(declined), 'consent', { accepted: false })).status).toBe(200);
  expectedStatuses.consumed += 1;

  // consumed through both providers; Attestr's first handshake create is rate limited and retried.
  await sandboxCall(stack, 'POST', '/attestr/_faults', { status: 429, code: 4291, retryAfter: 1, count: 1 });
  const kyc = await handshake('kyc-basic');
  const identity = await step(kyc, 'kyc-basic', 'input', await launch(kyc), 'identity', IDENTITY);
  expect(identity.status).toBe(200);
  await completeAttestr(stack, identity.body.data.handshakeId);
  const aadhaar = await step(kyc, 'kyc-basic', 'provider', identity.body.nonce, 'aadhaar', {});
  const bank = await step(kyc, 'kyc-basic', 'provider', aadhaar.body.nonce, 'bank', BANK);
  expect(bank.body).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  expectedStatuses.consumed += 1;
});

afterAll(async () => {
  if (api) {
    api.child.kill('SIGTERM');
    await api.exited;
  }
  await stack?.stop();
  await receiver.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('both endpoints answer valid Prometheus text, with no session id or tag in them', async () => {
  for (const url of [apiMetricsUrl, workerMetricsUrl]) {
    const { contentType, text, metrics } = await scrape(url);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.families.size).toBeGreaterThan(5);
    for (const id of sessionIds) expect(text).not.toContain(id);
    expect(text).not.toContain('REF-metrics');
  }
});

test("the worker's metrics and health listen on loopback only, as WORKER_MONITORING_HOST defaults", async () => {
  const outside = Object.values(networkInterfaces())
    .flat()
    .find((info) => info && !info.internal && info.family === 'IPv4')?.address;
  if (!outside) throw new Error("this test needs a non-loopback IPv4 interface to try the worker's ports from off loopback");
  const metricsPort = new URL(workerMetricsUrl).port;
  for (const url of [workerMetricsUrl, `http://127.0.0.1:${workerHealthPort}/healthz`]) {
    const answer = await request(url);
    await answer.body.dump();
    expect(answer.statusCode).toBe(200);
  }
  for (const port of [metricsPort, String(workerHealthPort)]) {
    await expect(request(`http://${outside}:${port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  }
});

test("the api's metrics are not on its public port", async () => {
  expect((await call('GET', '/metrics')).status).toBe(404);
});

test('the api reports Node process metrics', async () => {
  const { metrics } = await scrape(apiMetricsUrl);
  expect(metrics.families.get('process_cpu_user_seconds_total')?.type).toBe('counter');
  expect(metrics.families.get('nodejs_heap_size_used_bytes')?.type).toBe('gauge');
  expect(metrics.sum('process_cpu_user_seconds_total')).toBeGreaterThan(0);
});

test("the worker reports the Temporal SDK's runtime metrics for its task queue", async () => {
  const { metrics } = await scrape(workerMetricsUrl);
  const ours = { task_queue: stack.taskQueue };
  expect(metrics.families.get('temporal_workflow_task_execution_latency_seconds')?.type).toBe('histogram');
  expect(metrics.families.get('temporal_activity_execution_latency_seconds')?.type).toBe('histogram');
  expect(metrics.families.get('temporal_sticky_cache_size')?.type).toBe('gauge');
  expect(metrics.sum('temporal_workflow_task_execution_latency_seconds_count', ours)).toBeGreaterThan(0);
  expect(metrics.sum('temporal_activity_execution_latency_seconds_count', ours)).toBeGreaterThan(0);
  // One of this test's sessions was archived, which completes its workflow.
  expect(metrics.sum('temporal_workflow_completed_total', { ...ours, workflow_type: 'sessionWorkflow' })).toBeGreaterThanOrEqual(expectedStatuses.archived);
});

test('sessions by status count the sessions this test left in each status', async () => {
  let seen: Record<string, number | undefined> = {};
  // Visibility follows a moment behind, and the api counts at most every few seconds.
  await eventually(async () => {
    const { metrics } = await scrape(apiMetricsUrl);
    seen = Object.fromEntries(Object.keys(expectedStatuses).map((status) => [status, metrics.samples('sessionflow_sessions', { status })[0]?.value]));
    return JSON.stringify(seen) === JSON.stringify(expectedStatuses) ? true : undefined;
  }, 40_000).catch(() => undefined);
  expect(seen).toEqual(expectedStatuses);
  expect((await scrape(apiMetricsUrl)).metrics.families.get('sessionflow_sessions')?.type).toBe('gauge');
});

test('the step latency histogram grew by the steps submitted, by flow, stage kind and outcome', async () => {
  const { metrics } = await scrape(apiMetricsUrl);
  expect(metrics.families.get('sessionflow_device_step_duration_seconds')?.type).toBe('histogram');
  const name = 'sessionflow_device_step_duration_seconds_count';
  const total = [...stepsSubmitted.values()].reduce((a, b) => a + b, 0);
  expect(metrics.sum(name) - before.api.sum(name)).toBe(total);
  for (const [key, count] of stepsSubmitted) {
    const [flow, stage_kind, outcome] = key.split('/');
    const labels = { flow, stage_kind, outcome };
    expect({ key, grew: metrics.sum(name, labels) - before.api.sum(name, labels) }).toEqual({ key, grew: count });
  }
});

test("a provider's retried failure is counted by provider, type and code; every provider attempt is timed", async () => {
  const { metrics } = await scrape(workerMetricsUrl);
  const creates = (await vendorCalls('attestr')).filter((c) => c.method === 'POST' && c.path === '/api/v1/public/flowx/handshake');
  const rateLimited = creates.filter((c) => c.status === 429).length;
  expect(rateLimited).toBe(1);
  const retries = 'sessionflow_provider_retries_total';
  expect(metrics.families.get(retries)?.type).toBe('counter');
  const labels = { provider: 'attestr', type: 'ProviderRateLimited', code: '4291' };
  expect(metrics.sum(retries, labels) - before.worker.sum(retries, labels)).toBe(rateLimited);

  const attempts = 'sessionflow_provider_call_duration_seconds_count';
  expect(metrics.families.get('sessionflow_provider_call_duration_seconds')?.type).toBe('histogram');
  for (const provider of ['attestr', 'finqware'] as const) {
    const seen = (await vendorCalls(provider)).length;
    expect({ provider, attempts: metrics.sum(attempts, { provider }) - before.worker.sum(attempts, { provider }) }).toEqual({ provider, attempts: seen });
  }
  expect(metrics.sum(attempts, { provider: 'attestr', outcome: 'ProviderRateLimited' })).toBe(rateLimited);
});

/** Expects the worker's counter `name` to have grown by `expected` per outcome since the run began (it may lag a moment). */
async function expectWorkerCounter(name: string, expected: Record<string, number>): Promise<void> {
  let seen: Record<string, number> = {};
  await eventually(async () => {
    const { metrics } = await scrape(workerMetricsUrl);
    seen = Object.fromEntries(Object.keys(expected).map((outcome) => [outcome, metrics.sum(name, { outcome }) - before.worker.sum(name, { outcome })]));
    return JSON.stringify(seen) === JSON.stringify(expected) ? true : undefined;
  }, 10_000).catch(() => undefined);
  expect(seen).toEqual(expected);
  expect((await scrape(workerMetricsUrl)).metrics.families.get(name)?.type).toBe('counter');
}

test('sessions whose flow ended are counted by outcome, once each', async () => {
  const name = 'sessionflow_sessions_finished_total';
  // Accepted consent (webhooked, archived) and kyc-basic end in success, the declined consent in skipped.
  const expected = { success: 3, skipped: 1, error: 0 };
  await expectWorkerCounter(name, expected);
});

test('webhook delivery attempts are counted by outcome', async () => {
  // session.created, session.in_progress, session.step_completed, session.consumed.
  await eventually(async () => (receiver.accepted >= 4 ? true : undefined), 30_000, 'four webhook deliveries');
  expect(receiver.refused).toBe(1);
  const name = 'sessionflow_webhook_deliveries_total';
  // The worker counts an attempt once the receiver's answer reached it: a moment after the receiver counted.
  await expectWorkerCounter(name, { delivered: receiver.accepted, refused: receiver.refused });
});

test('outside data a session refused is counted: a result that does not verify at its source, a payload not encrypted, and wake-ups by outcome', async () => {
  const kyc = await handshake('kyc-basic');
  const identity = await step(kyc, 'kyc-basic', 'input', await launch(kyc), 'identity', IDENTITY);
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(kyc));
  await sandboxCall(stack, 'POST', '/attestr/_faults', { badSignature: true, count: 1 });
  await completeAttestr(stack, identity.body.data.handshakeId);
  // A wake-up carries nothing; the session fetches the result, whose signature Attestr (here) got wrong.
  await handle.signal('attestrResult');
  const refusedResults = 'sessionflow_provider_results_refused_total';
  const labels = { provider: 'attestr', reason: 'bad_signature' };
  await eventually(async () => ((await scrape(workerMetricsUrl)).metrics.sum(refusedResults, labels) - before.worker.sum(refusedResults, labels) === 1 ? true : undefined), 20_000);
  // The same signal with content, sent without the codec: refused unread.
  const connection = await Connection.connect({ address: stack.config.temporal.address });
  try {
    await new Client({ connection, namespace: stack.config.temporal.namespace }).workflow.getHandle(sessionWorkflowId(kyc)).signal('attestrResult', { result: { forged: true } });
  } finally {
    await connection.close();
  }
  const refusedInbound = 'sessionflow_inbound_refused_total';
  const inbound = { message: 'attestrResult', reason: 'unencrypted' };
  await eventually(async () => ((await scrape(workerMetricsUrl)).metrics.sum(refusedInbound, inbound) - before.worker.sum(refusedInbound, inbound) === 1 ? true : undefined), 20_000);
  const { metrics } = await scrape(workerMetricsUrl);
  for (const name of [refusedResults, refusedInbound, 'sessionflow_attestr_wakeups_total']) expect(metrics.families.get(name)?.type).toBe('counter');
  expect(metrics.sum('sessionflow_attestr_wakeups_total', { outcome: 'fetched' }) - before.worker.sum('sessionflow_attestr_wakeups_total', { outcome: 'fetched' })).toBe(1);
});
