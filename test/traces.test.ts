/**
 * Tracing (docs/guides/tracing.md): the api and a worker, each its own process with
 * SESSIONFLOW_OTLP_ENDPOINT pointing at an OTLP/HTTP receiver on loopback, export the spans of a
 * kyc-basic step that calls Attestr as one trace: the api's request, its Temporal update, the
 * workflow's handling of it, the activity and the provider's HTTP call, each the child of the one
 * before, and nothing in them that names the session or the person. The workflow interceptors
 * change the bundle, so its build id, but not a history: histories replay across the switch both ways.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { loadConfig } from '../src/config';
import { openEncryption } from '../src/keys/encryption';
import { sessionWorkflowId } from '../src/session-secret';
import { deviceClientWorkflowId } from '../src/contract/workflow-ids';
import { SESSION_REPLAY_EPOCH } from '../src/workflows/versioning';
import { bundleBuildId } from '../src/worker/workflow-bundle';
import { writeWorkflowBundle } from '../scripts/bundle-workflows';
import { byTrace, firstTaskOf, startOtlpReceiver, stepBreakdown, type OtlpReceiver, type ReceivedSpan } from '../bench/traces';
import { basic, spawnApi, TENANT_A, type RunningApi } from './helpers/api';
import { BANK, completeAttestr, IDENTITY } from './helpers/flows';
import { checkReplay, RECORDED_EPOCH, recordedHistories } from './helpers/replay-gate';
import { eventually, TEST_SESSION_SECRET, testEnv } from './helpers/stack';
import { useStack } from './helpers/use-stack';

const { stack } = useStack('traces', { worker: false });
const TRACED_BUNDLE = join(__dirname, '..', '.data', 'test-workflow-bundle-traced.js');
let receiver: OtlpReceiver;
let api: RunningApi;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  await writeWorkflowBundle(TRACED_BUNDLE, undefined, { root: join(__dirname, '..'), traced: true });
  await stack.spawnWorker({ WORKFLOW_BUNDLE_PATH: TRACED_BUNDLE, SESSIONFLOW_OTLP_ENDPOINT: receiver.url });
  api = await spawnApi(
    testEnv({
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      DATA_DIR: stack.config.dataDir,
      SESSION_SECRET: TEST_SESSION_SECRET,
      LOG_LEVEL: 'info',
      SESSIONFLOW_CLIENTS: JSON.stringify([TENANT_A]),
      SESSIONFLOW_OTLP_ENDPOINT: receiver.url,
    }) as NodeJS.ProcessEnv,
  );
}, 120_000);

afterAll(async () => {
  api?.child.kill('SIGKILL');
  await receiver?.close();
});

async function call(method: 'POST', path: string, body?: unknown): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const answer = await request(`${api.url}${path}`, {
    method,
    reset: true,
    headers: { authorization: basic(TENANT_A), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await answer.body.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (answer.statusCode !== 200) throw new Error(`${path} answered ${answer.statusCode}: ${JSON.stringify(json)}`);
  return json;
}

/** The trace of the step request whose trace holds a call to `provider`, once all its spans arrived. */
function stepTrace(provider: string, spanCount: number): ReceivedSpan[] | undefined {
  for (const trace of byTrace(receiver.spans).values()) {
    const root = trace.find((span) => span.parentSpanId === null);
    if (root?.name !== 'POST /v1/sessions/:id/steps') continue;
    if (trace.some((span) => span.attributes['sessionflow.provider'] === provider) && trace.length >= spanCount) return trace;
  }
  return undefined;
}

const one = (trace: ReceivedSpan[], name: string | RegExp) => {
  const found = trace.filter((span) => (typeof name === 'string' ? span.name === name : name.test(span.name)));
  expect(found.map((span) => span.name)).toHaveLength(1);
  return found[0];
};

const secrets: string[] = [];
let sessionId = '';

test("a kyc-basic step's spans from the api, the workflow, the activity and Attestr's HTTP call arrive as one trace", async () => {
  const created = await call('POST', '/api/v1/public/flowx/handshake', { flow: 'kyc-basic', snapshot: null, tag: 'REF-traces' });
  sessionId = created._id as string;
  const launch = await call('POST', `/v1/handshakes/${sessionId}/launch`);
  const step = (nonce: string, name: string, data: unknown) => call('POST', `/v1/sessions/${sessionId}/steps`, { client_id: TENANT_A.id, skill: 'kyc-basic', nonce, step: name, data });
  // The identity step enters the Attestr stage: an activity creates its handshake, one HTTP call.
  const identity = await step(launch.nonce as string, 'identity', IDENTITY);
  const handshakeId = String(identity.data.handshakeId);
  secrets.push(sessionId, launch.nonce as string, identity.nonce as string, handshakeId, IDENTITY.name, IDENTITY.birthDate, TENANT_A.secret, TEST_SESSION_SECRET);

  // root, update, validate, handle, schedule, run, Attestr: seven spans, from two processes' batches.
  const trace = await eventually(async () => stepTrace('attestr', 7), 30_000, "the identity step's spans");
  const root = one(trace, 'POST /v1/sessions/:id/steps');
  expect(root).toMatchObject({ service: 'sessionflow-api', parentSpanId: null, attributes: { 'http.route': '/v1/sessions/:id/steps', 'http.response.status_code': 200 } });
  const update = one(trace, 'StartWorkflowUpdate:submitStep');
  expect(update).toMatchObject({ service: 'sessionflow-api', parentSpanId: root.spanId, attributes: { temporalWorkflowId: sessionWorkflowId(sessionId) } });
  expect(one(trace, 'ValidateUpdate:submitStep')).toMatchObject({ service: 'sessionflow-worker', parentSpanId: update.spanId });
  const handle = one(trace, 'HandleUpdate:submitStep');
  expect(handle).toMatchObject({ service: 'sessionflow-worker', parentSpanId: update.spanId });
  const schedule = one(trace, /^StartActivity:/);
  expect(schedule).toMatchObject({ service: 'sessionflow-worker', parentSpanId: handle.spanId });
  const activity = schedule.name.replace('StartActivity:', '');
  const run = one(trace, `RunActivity:${activity}`);
  expect(run).toMatchObject({ service: 'sessionflow-worker', parentSpanId: schedule.spanId });
  const attestr = one(trace, 'POST attestr');
  expect(attestr).toMatchObject({ service: 'sessionflow-worker', parentSpanId: run.spanId, attributes: { 'sessionflow.provider': 'attestr', 'http.request.method': 'POST' } });

  // One trace, every parent in it.
  const ids = new Set(trace.map((span) => span.spanId));
  for (const span of trace) if (span !== root) expect(ids.has(span.parentSpanId!)).toBe(true);
  // The workflow spans carry when their activation was done, which the bench's breakdown needs.
  expect(typeof handle.attributes['sessionflow.activation_done_unix_ms']).toBe('number');
  const parts = stepBreakdown(trace);
  expect(parts.providerMs).toBeCloseTo(attestr.endMs - attestr.startMs, 3);
  expect(parts.apiMs + parts.temporalMs + parts.workflowTaskMs + parts.activityMs + parts.providerMs).toBeCloseTo(root.endMs - root.startMs, 3);

  // The session's first workflow task makes a span of no length in the create's trace, with when its activation was done:
  // the bench splits out of a launch the part of that task it waited for.
  const createTrace = await eventually(
    async () => [...byTrace(receiver.spans).values()].find((t) => t.some((span) => span.name === 'POST /api/v1/public/flowx/handshake') && t.some((span) => span.name === 'RunWorkflow:sessionWorkflow')),
    30_000,
    "the create's spans",
  );
  const start = one(createTrace, 'StartWorkflow:sessionWorkflow');
  const firstTask = one(createTrace, 'RunWorkflow:sessionWorkflow');
  expect(firstTask).toMatchObject({ service: 'sessionflow-worker', parentSpanId: start.spanId, attributes: { temporalWorkflowId: sessionWorkflowId(sessionId) } });
  expect(firstTask.endMs).toBe(firstTask.startMs);
  expect(firstTaskOf(createTrace)).toEqual({ startMs: firstTask.startMs, doneMs: firstTask.attributes['sessionflow.activation_done_unix_ms'] });
  expect(firstTaskOf(createTrace)!.doneMs).toBeGreaterThanOrEqual(firstTask.startMs);

  // The rest of the session, for the replay below.
  await completeAttestr(stack, handshakeId);
  const aadhaar = await step(identity.nonce as string, 'aadhaar', {});
  const bank = await step(aadhaar.nonce as string, 'bank', BANK);
  expect(bank.status).toBe('SESSION_COMPLETED');
  secrets.push(aadhaar.nonce as string, BANK.accountNumber, BANK.ifsc);
});

test('no span names the session, a credential or the person: only the attributes tracing lets out', async () => {
  // The Finqware calls of the bank step ended the session: wait for them too.
  await eventually(async () => stepTrace('finqware', 7), 30_000, "the bank step's spans");
  const everything = receiver.bodies.join('\n');
  expect(everything.length).toBeGreaterThan(0);
  for (const secret of secrets) expect(everything).not.toContain(secret);
  const allowed = [
    'http.request.method', 'http.route', 'http.response.status_code', 'sessionflow.provider', 'sessionflow.activation_done_unix_ms',
    'temporalWorkflowType', 'temporalWorkflowId', 'temporalUpdateId', 'temporalActivityId', 'run_id',
  ];
  const keys = new Set(receiver.spans.flatMap((span) => Object.keys(span.attributes)));
  expect([...keys].filter((key) => !allowed.includes(key))).toEqual([]);
});

test('the traced bundle is another build, and histories replay across switching tracing on and off', async () => {
  const defaultBundle = readFileSync(process.env.WORKFLOW_BUNDLE_PATH!, 'utf8');
  expect(bundleBuildId(readFileSync(TRACED_BUNDLE, 'utf8'))).not.toBe(bundleBuildId(defaultBundle));
  const dataConverter = openEncryption(loadConfig()).dataConverter;
  // On: every recorded history (sessions, a device client, a webhook outbox), made without tracing, on the traced code.
  const recorded = recordedHistories();
  const on = await checkReplay({ histories: recorded, recordedOn: { label: 'test/histories', sessionReplayEpoch: RECORDED_EPOCH }, bundlePath: TRACED_BUNDLE, sessionReplayEpoch: RECORDED_EPOCH, dataConverter });
  expect(on.replayed.sort()).toEqual(recorded.map((h) => h.name).sort());
  // Off: the session traced above, and a device client's whole life, made on the traced worker, on the default code.
  const { deviceClientId } = await stack.gateway.createDeviceClient('tenant-a', 3_600_000);
  await stack.gateway.revokeDeviceClient(deviceClientId);
  const deviceClient = stack.client.workflow.getHandle(deviceClientWorkflowId(deviceClientId));
  await eventually(async () => ((await deviceClient.describe()).status.name === 'COMPLETED' ? true : undefined), 30_000, 'the revoked device client to complete');
  const traced = [
    { name: 'traced-kyc-basic', history: await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory() },
    { name: 'traced-device-client', history: await deviceClient.fetchHistory() },
  ];
  const off = await checkReplay({ histories: traced, recordedOn: { label: 'the traced build', sessionReplayEpoch: SESSION_REPLAY_EPOCH }, bundlePath: process.env.WORKFLOW_BUNDLE_PATH!, sessionReplayEpoch: SESSION_REPLAY_EPOCH, dataConverter });
  expect(off.replayed.sort()).toEqual(['traced-device-client', 'traced-kyc-basic']);
});

test('a worker with tracing on refuses a bundle built without it, saying how to build one', async () => {
  await expect(stack.spawnWorker({ SESSIONFLOW_OTLP_ENDPOINT: receiver.url })).rejects.toThrow(/WORKFLOW_BUNDLE_PATH holds a bundle without tracing, but SESSIONFLOW_OTLP_ENDPOINT is set/);
});
