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
import { eventually, startStack, type Stack } from './helpers/stack';

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
  // Holds with a SESSION_REPLAY_EPOCH bump too: a moving session is handed over this way.
  const old = await startBuildWorker(stack, previous.bundlePath);
  const kycBasic = FlowCatalog.load(previous.flowsDir).resolve('kyc-basic', null);
  if (!kycBasic.ok) throw new Error(`the previous build's kyc-basic: ${kycBasic.reason}`);
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'gate-handover', definition: kycBasic.definition });
  const launch = await stack.gateway.launch(sessionId);
  const identity = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
  await completeAttestr(stack, String(identity.data.handshakeId));
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  const firstRun = (await handle.describe()).runId;
  // Any build continues as new when Temporal suggests it (a long history): signals no build
  // handles add events cheaply until it does.
  await eventually(async () => {
    await Promise.all(Array.from({ length: 50 }, () => handle.signal('deploymentWake')));
    return (await handle.describe()).runId !== firstRun ? true : undefined;
  }, 120_000, 'the previous build to continue the session as new');
  await old.stop();

  const current = await startBuildWorker(stack, CURRENT_BUNDLE);
  try {
    const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
    await stack.gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
    const { status, result } = await stack.gateway.result(sessionId);
    expect(status).toBe('consumed');
    expect(Object.keys(result ?? {})).toEqual(expect.arrayContaining(['identity', 'aadhaar', 'bank']));
    const chain = await handle.fetchHistory();
    expect(chain.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId).toBeTruthy();
  } finally {
    await current.stop();
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
