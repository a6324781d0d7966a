/**
 * The funnel against the real stack: a worker and an api, each its own OS process with its
 * metrics port, the provider sandboxes, and sessions driven to known ends (success, a provider
 * error, a reviewer's rejection, an expiry after a step, abandoned, declined). The funnel the
 * console reads (openFunnelSource, read-only) must give exactly the counts written out below,
 * before and after Temporal (this file's own dev server, on a database file), the worker, the
 * api and the reader restart; the worker's stage metrics the same; and the
 * Grafana dashboard's queries parse as PromQL and name only metrics the two processes export.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startDevServer, type DevServer } from '../scripts/dev-server';
import { openFunnelSource, type FunnelReader } from '../src/funnel/open';
import type { FunnelReport, StageFunnel } from '../src/funnel/report';
import type { FlowDefinition } from '../src/flows/core/types';
import { sessionWorkflowId } from '../src/session-secret';
import { statusQuery } from '../src/contract/session';
import { basic, DEVICE_TOKEN_SECRET, spawnApi, type RunningApi } from './helpers/api';
import { dashboardQueries, readPromql } from './helpers/dashboard';
import { BANK, completeAttestr, IDENTITY, inlineFlow, sandboxCall } from './helpers/flows';
import { parsePrometheus, type Exposition } from './helpers/prometheus';
import { startReviewers, type Reviewers } from './helpers/reviews';
import { CONSOLE_OPERATORS, startConsole } from './helpers/console';
import { eventually, startStack, TEST_SESSION_SECRET, testEnv, type Stack } from './helpers/stack';

const tenant = { id: `tenant-funnel-${randomBytes(4).toString('hex')}`, secret: 'tenant-funnel-secret-0123456789', perSecond: 1000, perDay: 1_000_000 };
const clients = JSON.stringify([tenant]);
const WINDOW = { from: Date.now() - 3600_000, to: Date.now() + 24 * 3600_000 };
const none = { completed: 0, expired: 0, declined: 0, provider_error: 0, review_rejected: 0, abandoned: 0 };

/** A Temporal dev server of this file's own, on a database file, so the restart below restarts it too. */
const temporalDir = join('.data', `test-funnel-${process.pid}`);
let temporalPort: number;
let temporal: DevServer;
let stack: Stack;
let reviewers: Reviewers;
let worker: ChildProcess;
let api: RunningApi;
let ports: { worker: number; api: number };
let source: FunnelReader;
const workflowIds: string[] = [];
let successWorkflowId = '';

function spawnWorker(): Promise<ChildProcess> {
  return stack.spawnWorker({ WORKER_METRICS_PORT: String(ports.worker) });
}

function startApi(): Promise<RunningApi> {
  return spawnApi(
    testEnv({ TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: stack.taskQueue, SESSION_SECRET: TEST_SESSION_SECRET, SESSIONFLOW_CLIENTS: clients, DEVICE_TOKEN_SECRET, API_METRICS_PORT: String(ports.api), LOG_LEVEL: 'info' }) as NodeJS.ProcessEnv,
  );
}

async function scrape(port: number): Promise<{ text: string; metrics: Exposition }> {
  const answer = await request(`http://127.0.0.1:${port}/metrics`, { reset: true });
  const text = await answer.body.text();
  return { text, metrics: parsePrometheus(text) };
}

async function create(definition: FlowDefinition, expiresAt?: number): Promise<string> {
  const { sessionId } = await stack.gateway.create({ tenantId: tenant.id, tag: 'REF-funnel', definition, ...(expiresAt ? { expiresAt } : {}) });
  workflowIds.push(sessionWorkflowId(sessionId));
  return sessionId;
}

/** A kyc-basic session launched and past identity (typed as `name`): at aadhaar, its handshake open. */
async function kycAtAadhaar(name = IDENTITY.name) {
  const sessionId = await create(stack.definition('kyc-basic'));
  const launch = await stack.gateway.launch(sessionId);
  const identity = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: { ...IDENTITY, name } });
  return { sessionId, identity };
}

async function kycSuccess(): Promise<void> {
  const { sessionId, identity } = await kycAtAadhaar();
  successWorkflowId = sessionWorkflowId(sessionId);
  await completeAttestr(stack, String(identity.data.handshakeId));
  const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
  const bank = await stack.gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
  expect(bank.data).toMatchObject({ outcome: 'success' });
}

/** A flow of `stages` input stages one after another, as snapshot `version`. */
function versioned(version: string, stages: string[]): FlowDefinition {
  const states: Record<string, unknown> = { done: { type: 'final', meta: { outcome: 'success' } } };
  stages.forEach((id, i) => {
    states[id] = { meta: { stage: 'input', schema: { type: 'object', additionalProperties: false } }, on: { SUBMIT: stages[i + 1] ?? 'done' } };
  });
  return { ...inlineFlow({ id: 'funnel-versions', initial: stages[0], states } as never), snapshotId: version };
}

async function runThrough(definition: FlowDefinition, stages: string[]): Promise<void> {
  const sessionId = await create(definition);
  let { nonce } = await stack.gateway.launch(sessionId);
  for (const step of stages) nonce = (await stack.gateway.submitStep(sessionId, { nonce: nonce!, step, input: {} })).nonce;
}

/** A consent-only session through the api's HTTP routes (the api's step metric sees it). */
async function consentThroughApi(accepted: boolean): Promise<void> {
  const call = async (path: string, body?: unknown, backend = false) => {
    const answer = await request(`${api.url}${path}`, {
      method: 'POST',
      reset: true,
      headers: { ...(backend ? { authorization: basic(tenant) } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await answer.body.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const created = await call('/api/v1/public/flowx/handshake', { flow: 'consent-only', snapshot: null, tag: 'REF-funnel' }, true);
  workflowIds.push(sessionWorkflowId(created._id));
  const launched = await call(`/v1/handshakes/${created._id}/launch`);
  const step = await call(`/v1/sessions/${created._id}/steps`, { client_id: tenant.id, skill: 'consent-only', nonce: launched.nonce, step: 'consent', data: { accepted } });
  expect(step.status).toBe('SESSION_COMPLETED');
}

const funnel = (flowId: string, flowVersion = 'draft'): Promise<FunnelReport> => source.funnel({ clientId: tenant.id, flowId, flowVersion, ...WINDOW });
const stage = (name: string, entered: number, wentOn: number, endedHere: Partial<StageFunnel['endedHere']>) => ({ stage: name, entered, wentOn, endedHere: { ...none, ...endedHere } });
const counts = (report: FunnelReport) => ({ sessions: report.sessions, stages: report.stages.map(({ timeInStage: _, ...rest }) => rest) });

/** What this test drove, written out: kyc-basic (draft), consent-only (draft), and the two versions. */
const EXPECTED = {
  kyc: {
    sessions: 8,
    stages: [
      stage('identity', 8, 5, { abandoned: 3 }),
      stage('aadhaar', 5, 3, { provider_error: 1, expired: 1 }),
      stage('review', 1, 0, { review_rejected: 1 }),
      stage('bank', 2, 0, { completed: 2 }),
    ],
  },
  consent: { sessions: 2, stages: [stage('consent', 2, 0, { completed: 1, declined: 1 })] },
  oldVersion: { sessions: 2, stages: [stage('start', 2, 2, {}), stage('extra', 2, 0, { completed: 2 })] },
  newVersion: { sessions: 1, stages: [stage('start', 1, 0, { completed: 1 })] },
};

function startTemporal(): Promise<DevServer> {
  return startDevServer({ cli: process.env.TEMPORAL_CLI!, port: temporalPort, dbFile: join(temporalDir, 'temporal.db'), logFile: join(temporalDir, 'temporal.log') });
}

beforeAll(async () => {
  rmSync(temporalDir, { recursive: true, force: true });
  mkdirSync(temporalDir, { recursive: true });
  temporalPort = await freePort();
  temporal = await startTemporal();
  stack = await startStack('funnel', {}, { SESSIONFLOW_CLIENTS: clients, TEMPORAL_ADDRESS: temporal.address });
  ports = { worker: await freePort(), api: await freePort() };
  worker = await spawnWorker();
  api = await startApi();
  reviewers = await startReviewers(stack);
  source = openFunnelSource(stack.config);

  // Success, twice; Attestr's first handshake create is rate limited and retried (a retry metric).
  await sandboxCall(stack, 'POST', '/attestr/_faults', { status: 429, code: 4291, retryAfter: 1, count: 1 });
  await kycSuccess();
  await kycSuccess();
  // A provider error: Attestr refuses the handshake for good, the flow takes its ERROR path.
  await sandboxCall(stack, 'POST', '/attestr/_faults', { status: 403, code: 4035, count: 1 });
  await kycAtAadhaar();
  // A reviewer's rejection: the typed name differs from the ID's, so the session waits in review.
  const review = await kycAtAadhaar('Someone Else Entirely');
  await completeAttestr(stack, String(review.identity.data.handshakeId));
  const waiting = await stack.gateway.submitStep(review.sessionId, { nonce: review.identity.nonce!, step: 'aadhaar', input: {} });
  expect(waiting.data).toMatchObject({ step: 'review' });
  const decided = await reviewers.call('POST', `/reviews/${sessionWorkflowId(review.sessionId)}/decision`, 'reviewer', { decisionId: 'funnel-reject-1', decision: 'reject', reason: 'name_mismatch' });
  expect(decided.body).toMatchObject({ status: 'consumed' });
  // Expired after a step in aadhaar: the result is still pending there when the tenant ends it.
  const pending = await kycAtAadhaar();
  const tried = await stack.gateway.submitStep(pending.sessionId, { nonce: pending.identity.nonce!, step: 'aadhaar', input: {}, pendingWaitSeconds: 1 });
  expect(tried.data).toMatchObject({ step: 'aadhaar', error: { type: 'ProviderResultPending' } });
  await stack.gateway.expire(pending.sessionId, 'the tenant ended it');
  // Abandoned at identity: launched and left; never launched and ended; never launched, its expiry passed.
  const left = await create(stack.definition('kyc-basic'));
  await stack.gateway.launch(left);
  await stack.gateway.expire(left, 'the tenant ended it');
  await stack.gateway.expire(await create(stack.definition('kyc-basic')), 'the tenant ended it');
  await create(stack.definition('kyc-basic'), Date.now() + 1_000);
  // consent-only through the api: one accepted, one declined.
  await consentThroughApi(true);
  await consentThroughApi(false);
  // Two versions of one flow: the newer one dropped the `extra` stage.
  await runThrough(versioned('v-old', ['start', 'extra']), ['start', 'extra']);
  await runThrough(versioned('v-old', ['start', 'extra']), ['start', 'extra']);
  await runThrough(versioned('v-new', ['start']), ['start']);
  // The expiry timer's session ends on its own: every session is in once the counts are.
  await eventually(async () => ((await funnel('kyc-basic')).sessions === EXPECTED.kyc.sessions ? true : undefined), 30_000, 'every kyc-basic session in the funnel');
}, 120_000);

afterAll(async () => {
  await reviewers?.close();
  await source?.close();
  if (api) {
    api.child.kill('SIGTERM');
    await api.exited;
  }
  await stack?.stop();
  await temporal?.stop();
  rmSync(temporalDir, { recursive: true, force: true });
});

test('the funnel counts each stage exactly as the sessions were driven', async () => {
  const kyc = await funnel('kyc-basic');
  expect(counts(kyc)).toEqual(EXPECTED.kyc);
  expect(counts(await funnel('consent-only'))).toEqual(EXPECTED.consent);
  // Times exist where a device was in the stage: every kyc-basic stage had one.
  for (const s of kyc.stages) expect(s.timeInStage.p50).not.toBeNull();
});

test("a flow's old and new versions are kept apart, each in its own stages", async () => {
  expect(counts(await funnel('funnel-versions', 'v-old'))).toEqual(EXPECTED.oldVersion);
  expect(counts(await funnel('funnel-versions', 'v-new'))).toEqual(EXPECTED.newVersion);
});

test("the console's Funnel page shows the store the workers wrote: each version's own stages", async () => {
  const server = await startConsole(stack, source);
  try {
    const signIn = await request(`${server.url}/auth`, {
      method: 'POST',
      reset: true,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: CONSOLE_OPERATORS.vic.token }),
    });
    await signIn.body.dump();
    expect(signIn.statusCode).toBe(200);
    const cookie = String(signIn.headers['set-cookie']).split(';')[0];
    const rowsOf = async (version: string) => {
      const query = new URLSearchParams({ tenant: tenant.id, flow: 'funnel-versions', version, window: '1' });
      const page = await request(`${server.url}/console/funnel?${query}`, { reset: true, headers: { cookie } });
      const html = await page.body.text();
      expect(page.statusCode).toBe(200);
      // Stage, entered, went on: one table row each, in the version's own order.
      return [...html.matchAll(/<tr><th scope="row">([^<]+)<\/th><td class="number">(\d+)<\/td><td class="number">(\d+)<\/td>/g)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
    };
    expect(await rowsOf('v-old')).toEqual([['start', 2, 2], ['extra', 2, 0]]);
    expect(await rowsOf('v-new')).toEqual([['start', 1, 0]]);
  } finally {
    await server.close();
  }
});

test("the worker's stage metrics count each stage visit once, by outcome", async () => {
  const { metrics, text } = await scrape(ports.worker);
  const exits = (labels: Record<string, string>) => metrics.sum('sessionflow_stage_exits_total', { tenant: tenant.id, flow: 'kyc-basic', version: 'draft', ...labels });
  expect(metrics.families.get('sessionflow_stage_exits_total')?.type).toBe('counter');
  expect(metrics.families.get('sessionflow_stage_duration_seconds')?.type).toBe('histogram');
  expect({
    identityWentOn: exits({ stage: 'identity', outcome: 'went_on' }),
    identityAbandoned: exits({ stage: 'identity', outcome: 'abandoned' }),
    aadhaarWentOn: exits({ stage: 'aadhaar', outcome: 'went_on' }),
    aadhaarProviderError: exits({ stage: 'aadhaar', outcome: 'provider_error' }),
    aadhaarExpired: exits({ stage: 'aadhaar', outcome: 'expired' }),
    reviewRejected: exits({ stage: 'review', stage_kind: 'review', outcome: 'review_rejected' }),
    bankCompleted: exits({ stage: 'bank', outcome: 'completed' }),
  }).toEqual({ identityWentOn: 5, identityAbandoned: 3, aadhaarWentOn: 3, aadhaarProviderError: 1, aadhaarExpired: 1, reviewRejected: 1, bankCompleted: 2 });
  for (const id of workflowIds) expect(text).not.toContain(id);
});

test("the end is written by one local activity: its marker in the session's history, no activity task, no patch", async () => {
  const events = (await stack.client.workflow.getHandle(successWorkflowId).fetchHistory()).events ?? [];
  const markers = events.flatMap((e) => (e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes.markerName] : []));
  expect(markers.filter((name) => name === 'core_local_activity')).toHaveLength(1);
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordSessionEnd')).toHaveLength(0);
  // Its patch went with SESSION_REPLAY_EPOCH 2 (docs/guides/deploying.md): no marker but the local activity's, no TemporalChangeVersion.
  expect(markers).toEqual(['core_local_activity']);
  expect((await stack.client.workflow.getHandle(successWorkflowId).describe()).searchAttributes?.TemporalChangeVersion).toBeUndefined();
});

test('the Grafana dashboard parses; each query parses as PromQL and names only metrics the worker and the api export', async () => {
  const [fromWorker, fromApi] = await Promise.all([scrape(ports.worker), scrape(ports.api)]);
  const exported = new Set([...fromWorker.metrics.families.values(), ...fromApi.metrics.families.values()].flatMap((family) => family.samples.map((sample) => sample.name)));
  const queries = dashboardQueries();
  expect(queries.length).toBeGreaterThan(10);
  const problems = queries.flatMap(({ where, promql }) => {
    const { errors, metrics } = readPromql(promql);
    return [...errors.map((e) => `${where}: does not parse ${e}`), ...metrics.filter((m) => !exported.has(m)).map((m) => `${where}: ${m} is not exported`)];
  });
  expect(problems).toEqual([]);
  // The parser is not lenient: a broken query is caught.
  expect(readPromql('sum by (stage (rate(x[5m]))').errors).not.toEqual([]);
});

test('the funnel is the same after Temporal, the worker and the api restart, and a session ending after it counts once', async () => {
  // A session launched before the restart, declined after it.
  const sessionId = await create(stack.definition('consent-only'));
  const { nonce } = await stack.gateway.launch(sessionId);
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  api.child.kill('SIGTERM');
  await api.exited;
  await temporal.stop();
  temporal = await startTemporal();
  worker = await spawnWorker();
  api = await startApi();
  await source.close();
  source = openFunnelSource(stack.config);
  expect(counts(await funnel('kyc-basic'))).toEqual(EXPECTED.kyc);
  expect(counts(await funnel('funnel-versions', 'v-old'))).toEqual(EXPECTED.oldVersion);
  await stack.gateway.submitStep(sessionId, { nonce: nonce!, step: 'consent', input: { accepted: false } });
  // The new worker replays every session (a query each): their ends are in history, written again by none.
  for (const id of workflowIds) await stack.client.workflow.getHandle(id).query(statusQuery);
  expect(counts(await funnel('kyc-basic'))).toEqual(EXPECTED.kyc);
  expect(counts(await funnel('consent-only'))).toEqual({ sessions: 3, stages: [stage('consent', 3, 0, { completed: 1, declined: 2 })] });
  expect((await scrape(ports.worker)).metrics.sum('sessionflow_stage_exits_total', { tenant: tenant.id, flow: 'kyc-basic' })).toBe(0);
});
