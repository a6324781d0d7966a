/**
 * The replay gate, second half (test/replay.test.ts replays the recorded histories): fresh
 * histories of each sample flow and of a device client, recorded on the previous build (the
 * last commit whose workflow bundle differs from this one, built here from git), must replay on
 * this code; and this code must take over the continue-as-new state a run of that build hands
 * it. A change that fails here would break workflows already running when it is deployed.
 * RECORD_HISTORIES=1 also records test/histories/device-client.json and webhook-outbox.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createSessionWorker, type SessionWorker } from '../src/worker';
import { bundleBuildId } from '../src/workflow-bundle';
import { sessionWorkflowId } from '../src/session-secret';
import {
  bindSessionUpdate,
  closeOutboxSignal,
  deviceClientWorkflowId,
  revokeDeviceClientUpdate,
  webhookEventSignal,
  webhookOutboxWorkflowId,
  type WebhookEvent,
} from '../src/workflows/messages';
import { BANK, completeAttestr, IDENTITY, runConsentOnly, runKycBasic } from './helpers/flows';
import { previousBuild, type Build } from './helpers/previous-build';
import { eventually, sessionSecret, startStack, type Stack } from './helpers/stack';

jest.setTimeout(600_000);

const CURRENT_BUNDLE = process.env.WORKFLOW_BUNDLE_PATH!;
let stack: Stack;
let previous: Build;

beforeAll(async () => {
  stack = await startStack('replay-gate');
  previous = await previousBuild(bundleBuildId(readFileSync(CURRENT_BUNDLE, 'utf8')));
});

afterAll(async () => {
  await stack.stop();
});

/** A session worker on this stack's task queue running `bundlePath`, until `stop()`. */
async function workerOf(bundlePath: string): Promise<{ worker: SessionWorker; stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: stack.config.temporal.address });
  const worker = await createSessionWorker(stack.config, { connection, clients: [], encryption: stack.encryption, sessionSecret, workflowBundle: { codePath: bundlePath } });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await worker.close();
      await connection.close();
    },
  };
}

/** What a failure of the gate says: which history, and what to do about it. */
function gateFailure(what: string, error: unknown): Error {
  return new Error(
    `replay gate: ${what} does not replay on this code: ${(error as Error)?.message ?? String(error)}\n` +
      `Workflows already running would fail like this once this code is deployed. Do one of:\n` +
      `  - guard the change with patched('<a name for it>') (workflow.patched: runs that started before it keep the old path), ` +
      `then deprecatePatch once no such run is left;\n` +
      `  - if it cannot be patched and it only touches the session workflow (pinned to its build): deploy it only as a new ` +
      `Worker Deployment Version, keeping the old build's workers until nothing runs on it (README "Deploying a new version"), ` +
      `never by a restart that hands old sessions to the new build (make start, compose, make cluster), and re-record ` +
      `test/histories (RECORD_HISTORIES=1).`,
  );
}

async function replayAll(histories: Array<{ workflowId: string; history: temporal.api.history.v1.IHistory }>, from: string): Promise<void> {
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: CURRENT_BUNDLE }, dataConverter: stack.encryption.dataConverter }, histories)) {
    if (result.error) throw gateFailure(`the ${result.workflowId} history recorded on ${from}`, result.error);
  }
}

test('fresh histories of each sample flow and of a device client, recorded on the previous build, replay on this code', async () => {
  expect(previous.buildId).not.toBe(bundleBuildId(readFileSync(CURRENT_BUNDLE, 'utf8')));
  const old = await workerOf(previous.bundlePath);
  const consent = await runConsentOnly(stack, 'gate-consent');
  const { sessionId: kyc } = await runKycBasic(stack, 'gate-kyc');
  const device = await stack.gateway.createDeviceClient('tenant-a', 3_600_000);
  await stack.gateway.revokeDeviceClient(device.deviceClientId);
  const ids = { 'consent-only': sessionWorkflowId(consent), 'kyc-basic': sessionWorkflowId(kyc), 'device-client': deviceClientWorkflowId(device.deviceClientId) };
  for (const sessionId of [consent, kyc]) expect((await stack.gateway.status(sessionId)).status).toBe('consumed');
  const histories = await Promise.all(
    Object.entries(ids).map(async ([name, workflowId]) => ({ workflowId: name, history: await stack.client.workflow.getHandle(workflowId).fetchHistory() })),
  );
  await old.stop();
  await replayAll(histories, `the previous build (commit ${previous.commit.slice(0, 10)}, build ${previous.buildId})`);
});

test('this code takes over the continue-as-new state a run of the previous build hands it, mid-flow', async () => {
  const old = await workerOf(previous.bundlePath);
  const { sessionId } = await stack.gateway.create({ clientId: 'tenant-a', tag: 'gate-handover', definition: stack.definition('kyc-basic') });
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

  const current = await workerOf(CURRENT_BUNDLE);
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
