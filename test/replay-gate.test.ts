/**
 * The replay gate, second half (test/replay.test.ts replays the recorded histories): fresh
 * histories of each sample flow in flows/, of a session with webhooks and its webhook outbox, and
 * of a device client, recorded on the previous build (the last commit whose workflow bundle
 * differs from this one, built here from git, running that commit's flows/), must replay on this code; and this code must take
 * over the continue-as-new state a run of that build hands it. A change that fails here would
 * break workflows already running when it is deployed. The check itself is
 * test/helpers/replay-gate.ts (a declared SESSION_REPLAY_EPOCH bump excuses session histories only);
 * test/replay-gate-check.test.ts shows it catches a nondeterministic change.
 * RECORD_HISTORIES=1 also records test/histories/device-client.json and webhook-outbox.json.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { bundleBuildId } from '../src/worker/workflow-bundle';
import { sessionWorkflowId } from '../src/session-secret';
import { bindSessionUpdate, revokeDeviceClientUpdate } from '../src/contract/device-client';
import { closeOutboxSignal, webhookEventSignal, type WebhookEvent } from '../src/contract/webhook-outbox';
import { deviceClientWorkflowId, webhookOutboxWorkflowId } from '../src/contract/workflow-ids';
import { SESSION_REPLAY_EPOCH } from '../src/workflows/versioning';
import { BANK, completeAttestr, IDENTITY } from './helpers/flows';
import { previousBuild, type CommitBuild } from './helpers/previous-build';
import { checkReplay, recordFreshHistories, sampleHistoryNames, startBuildWorker } from './helpers/replay-gate';
import { FlowCatalog } from '../src/flows/catalog';
import { eventually, sessionSecret, startStack, type Stack } from './helpers/stack';
import { SessionGateway } from '../src/api/session-gateway';
import { setCurrentVersion, wakeUntilMoved, type WorkerDeploymentVersion } from '../src/worker/deployment';

jest.setTimeout(600_000);

const CURRENT_BUNDLE = process.env.WORKFLOW_BUNDLE_PATH!;
let stack: Stack;
let previous: CommitBuild;

beforeAll(async () => {
  stack = await startStack('replay-gate');
  previous = await previousBuild(bundleBuildId(readFileSync(CURRENT_BUNDLE, 'utf8')));
});

afterAll(async () => {
  await stack.stop();
});

test('fresh histories of every sample flow, a webhook outbox and a device client, recorded on the previous build, replay on this code', async () => {
  expect(previous.buildId).not.toBe(bundleBuildId(readFileSync(CURRENT_BUNDLE, 'utf8')));
  // The previous build's own flows: today's may use what it does not know (a new stage kind or guard).
  const histories = await recordFreshHistories(stack, previous.bundlePath, 'gate', previous.flowsDir);
  expect(histories.map((h) => h.name).sort()).toEqual([...sampleHistoryNames(previous.flowsDir), 'consent-only-webhooks', 'device-client', 'webhook-outbox'].sort());
  const { replayed, excusedByBump } = await checkReplay({
    histories,
    recordedOn: { label: `the previous build (commit ${previous.commit.slice(0, 10)}, build ${previous.buildId})`, sessionReplayEpoch: previous.sessionReplayEpoch },
    bundlePath: CURRENT_BUNDLE,
    sessionReplayEpoch: SESSION_REPLAY_EPOCH,
    dataConverter: stack.encryption.dataConverter,
  });
  // What a bump excuses is only the sessions, never the auto-upgrade types.
  expect(replayed).toEqual(expect.arrayContaining(['device-client', 'webhook-outbox']));
  expect([...replayed, ...excusedByBump].sort()).toEqual(histories.map((h) => h.name).sort());
});

test('this code takes over the continue-as-new state a run of the previous build hands it, mid-flow', async () => {
  // As a deploy hands a session over, a SESSION_REPLAY_EPOCH bump or not: the two builds as
  // versions of one deployment, on a task queue of their own; the session pinned to the previous
  // build moves by continue-as-new once the current build is current and a wake reaches it, so
  // the new run's history is this code's from its first event.
  const config = { ...stack.config, temporal: { ...stack.config.temporal, taskQueue: `${stack.taskQueue}-handover` } };
  const deploymentName = `gate-${randomUUID().slice(0, 8)}`;
  const versionOf = (buildId: string): WorkerDeploymentVersion => ({ deploymentName, buildId });
  const on = (buildId: string): Stack => ({ ...stack, config: { ...config, workerDeployment: { name: deploymentName, buildId, setCurrent: false } } });
  const gateway = new SessionGateway(stack.client, config.temporal.taskQueue, sessionSecret, stack.encryption.keys);
  const operator = await Connection.connect({ address: config.temporal.address });
  let old: { stop(): Promise<void> } | undefined = await startBuildWorker(on(previous.buildId), previous.bundlePath);
  let current: { stop(): Promise<void> } | undefined;
  try {
    await setCurrentVersion(operator, config.temporal.namespace, versionOf(previous.buildId));
    const kycBasic = FlowCatalog.load(previous.flowsDir).resolve('kyc-basic', null);
    if (!kycBasic.ok) throw new Error(`the previous build's kyc-basic: ${kycBasic.reason}`);
    const { sessionId } = await gateway.create({ tenantId: 'tenant-a', tag: 'gate-handover', definition: kycBasic.definition });
    const launch = await gateway.launch(sessionId);
    const identity = await gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
    await completeAttestr(stack, String(identity.data.handshakeId));
    const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
    const firstRun = (await handle.describe()).runId;

    const currentBuildId = bundleBuildId(readFileSync(CURRENT_BUNDLE, 'utf8'));
    current = await startBuildWorker(on(currentBuildId), CURRENT_BUNDLE);
    await setCurrentVersion(operator, config.temporal.namespace, versionOf(currentBuildId));
    const { notMoved } = await wakeUntilMoved(operator, config.temporal.namespace, versionOf(currentBuildId), { timeoutMs: 60_000, intervalMs: 1_000 });
    expect(notMoved).toEqual([]);
    await old.stop();
    old = undefined;
    expect((await handle.describe()).runId).not.toBe(firstRun);

    const aadhaar = await gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
    await gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
    const { status, result } = await gateway.result(sessionId);
    expect(status).toBe('consumed');
    expect(Object.keys(result ?? {})).toEqual(expect.arrayContaining(['identity', 'aadhaar', 'bank']));
    const chain = await handle.fetchHistory();
    expect(chain.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId).toBe(firstRun);
    expect((await handle.describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe(currentBuildId);
  } finally {
    await old?.stop();
    await current?.stop();
    await operator.close();
  }
});

/**
 * A device client's and a webhook outbox's whole lives on this code, with plain payloads (a
 * recorded history must decode on any machine, whatever its keys); RECORD_HISTORIES=1 keeps them.
 */
test('a device client and a webhook outbox live their whole lives (RECORD_HISTORIES=1 records them)', async () => {
  const connection = await Connection.connect({ address: stack.config.temporal.address });
  const client = new Client({ connection, namespace: stack.config.temporal.namespace });
  const taskQueue = `${stack.taskQueue}-recording`;
  const delivered: string[] = [];
  const workerConnection = await NativeConnection.connect({ address: stack.config.temporal.address });
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: { codePath: CURRENT_BUNDLE },
    // The outbox's one activity; what it answers is all its history records of a delivery.
    activities: { deliverWebhook: async ({ event }: { event: WebhookEvent }) => (delivered.push(event.id), { delivered: true }) },
  });
  await worker.runUntil(async () => {
    const now = Date.now();
    const device = await client.workflow.start('deviceClientWorkflow', {
      taskQueue,
      workflowId: deviceClientWorkflowId('recorded-device'),
      args: [{ deviceClientId: 'recorded-device', tenantId: 'tenant-a', createdAt: now, refreshUntil: now + 3_600_000 }],
    });
    await device.executeUpdate(bindSessionUpdate, { args: [{ sessionId: 'recorded-session' }] });
    await device.executeUpdate(revokeDeviceClientUpdate);
    expect((await device.result()).sessionIds).toEqual(['recorded-session']);
    const outbox = await client.workflow.signalWithStart('webhookOutboxWorkflow', {
      taskQueue,
      workflowId: webhookOutboxWorkflowId('recorded-ref'),
      args: [{ sealedSessionId: 'sealed-recorded-session', clientId: 'tenant-a' }],
      signal: webhookEventSignal,
      signalArgs: [{ id: 'recorded-ref.1', seq: 1, type: 'session.created', occurredAt: now, data: { status: 'created' } }],
    });
    await outbox.signal(webhookEventSignal, { id: 'recorded-ref.2', seq: 2, type: 'session.consumed', occurredAt: now, data: { status: 'consumed' } });
    await eventually(async () => (delivered.length === 2 ? true : undefined));
    await outbox.signal(closeOutboxSignal);
    expect(await outbox.result()).toEqual({ delivered: 2, failed: 0, gone: false });
    expect(delivered).toEqual(['recorded-ref.1', 'recorded-ref.2']);
    if (process.env.RECORD_HISTORIES !== '1') return;
    for (const [name, handle] of [['device-client', device], ['webhook-outbox', outbox]] as const) {
      writeFileSync(join(__dirname, 'histories', `${name}.json`), JSON.stringify(JSON.parse(historyToJSON(await handle.fetchHistory())), null, 2));
    }
  });
  await workerConnection.close();
  await connection.close();
});
