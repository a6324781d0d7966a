/**
 * Worker Deployment Versioning on the real dev server: workers run as a version of a deployment,
 * sessions pin to the build they start on, a deploy wakes the idle ones so they continue as new
 * on the current build at a quiet point, and a restart that replaced every worker hands the
 * workflows of the build nobody runs any more to the new one (but not sessions of another
 * SESSION_REPLAY_EPOCH).
 */
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createSessionWorker, type SessionWorker } from '../src/worker';
import { sessionWorkflowId } from '../src/session-secret';
import { deviceClientWorkflowId } from '../src/contract/workflow-ids';
import { adoptOrphans, recordSessionReplayEpoch, runningOn, setCurrentVersion, versionName, wakeUntilMoved, type WorkerDeploymentVersion } from '../src/worker/deployment';
import { SESSION_REPLAY_EPOCH } from '../src/workflows/versioning';
import { eventually, sessionClosed, sessionSecret, startStack, type Stack } from './helpers/stack';

let stack: Stack;
let operator: Connection;
const running: Array<{ worker: SessionWorker; done: Promise<void>; connection: NativeConnection }> = [];

beforeAll(async () => {
  stack = await startStack('versioning');
  operator = await Connection.connect({ address: stack.config.temporal.address });
});

afterAll(async () => {
  // stopWorker takes each out of `running`: a loop over the array itself would skip every other one.
  while (running.length > 0) await stopWorker(running[0].worker);
  await operator.close();
  await stack.stop();
});

async function startVersionedWorker(deploymentName: string, buildId?: string): Promise<SessionWorker> {
  const connection = await NativeConnection.connect({ address: stack.config.temporal.address });
  const config = { ...stack.config, workerDeployment: { name: deploymentName, ...(buildId ? { buildId } : {}), setCurrent: false } };
  const worker = await createSessionWorker(config, {
    connection,
    clients: [],
    encryption: stack.encryption,
    sessionSecret,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
  });
  running.push({ worker, done: worker.run(), connection });
  return worker;
}

async function stopWorker(worker: SessionWorker): Promise<void> {
  const index = running.findIndex((entry) => entry.worker === worker);
  if (index === -1) return;
  const [{ done, connection }] = running.splice(index, 1);
  worker.shutdown();
  await done;
  await worker.close();
  await connection.close();
}

async function describeSession(sessionId: string) {
  return stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).describe();
}

async function createLaunched(): Promise<{ sessionId: string; nonce: string }> {
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'versioning', definition: stack.definition('consent-only') });
  const launch = await stack.gateway.launch(sessionId);
  return { sessionId, nonce: launch.nonce! };
}

test('workers of one bundle share its build id; WORKER_BUILD_ID names another', async () => {
  const deployment = `sf-test-${randomUUID().slice(0, 8)}`;
  const first = await startVersionedWorker(deployment);
  const second = await startVersionedWorker(deployment);
  const named = await startVersionedWorker(deployment, 'release-42');
  expect(first.version?.buildId).toMatch(/^[0-9a-f]{16}$/);
  expect(second.version).toEqual(first.version);
  expect(named.version).toEqual({ deploymentName: deployment, buildId: 'release-42' });
  for (const worker of [first, second, named]) await stopWorker(worker);
});

test('a session pins to its build; after a deploy, a wake moves the idle session to the new build through continue-as-new, and it finishes there', async () => {
  const deployment = `sf-test-${randomUUID().slice(0, 8)}`;
  const buildA: WorkerDeploymentVersion = { deploymentName: deployment, buildId: 'build-a' };
  const buildB: WorkerDeploymentVersion = { deploymentName: deployment, buildId: 'build-b' };
  const workerA = await startVersionedWorker(deployment, buildA.buildId);
  await setCurrentVersion(operator, 'default', buildA);

  const { sessionId, nonce } = await createLaunched();
  const onA = await describeSession(sessionId);
  expect(onA.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion).toMatchObject(buildA);
  expect(String(onA.raw.workflowExecutionInfo?.versioningInfo?.behavior)).toMatch(/PINNED|^1$/);
  await eventually(async () => ((await runningOn(operator, 'default', buildA)).some((e) => e.workflowId === sessionWorkflowId(sessionId)) ? true : undefined), 20_000, 'the session listed on build A');

  await startVersionedWorker(deployment, buildB.buildId);
  await setCurrentVersion(operator, 'default', buildB);
  // Idle (waiting for its consent step): it has no workflow task, so it has not moved.
  expect((await describeSession(sessionId)).runId).toBe(onA.runId);

  const { woken, notMoved } = await wakeUntilMoved(operator, 'default', buildB, { timeoutMs: 30_000, intervalMs: 1_000 });
  expect(woken).toBeGreaterThanOrEqual(1);
  expect(notMoved).toEqual([]);
  const onB = await eventually(async () => {
    const described = await describeSession(sessionId);
    return described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId === buildB.buildId ? described : undefined;
  }, 10_000, 'the session described on build B');
  expect(onB.runId).not.toBe(onA.runId);
  expect(String(onB.raw.workflowExecutionInfo?.versioningInfo?.behavior)).toMatch(/PINNED|^1$/);
  const firstRun = await stack.client.workflow.getHandle(sessionWorkflowId(sessionId), onA.runId).fetchHistory();
  const last = firstRun.events!.at(-1)!;
  expect(last.workflowExecutionContinuedAsNewEventAttributes).toBeDefined();
  // Build A is needed by nothing any more: its workers can stop.
  await eventually(async () => ((await runningOn(operator, 'default', buildA)).length === 0 ? true : undefined), 30_000, 'nothing left on build A');
  await stopWorker(workerA);

  // The state carried over: the nonce issued on build A is the one build B expects.
  await stack.gateway.submitStep(sessionId, { nonce, step: 'consent', input: { accepted: true } });
  expect((await stack.gateway.status(sessionId)).status).toBe('consumed');
  await stack.gateway.archive(sessionId);
  expect(await sessionClosed(stack, sessionId)).toBe('archived');
});

/**
 * A restart that replaced every worker: a launched session (and a device client) on a build
 * whose workers stop, recording `epoch` as their process does (src/worker/announce.ts), then a new build current.
 */
async function restartedDeployment(epoch: number) {
  const deployment = `sf-test-${randomUUID().slice(0, 8)}`;
  const old: WorkerDeploymentVersion = { deploymentName: deployment, buildId: 'before-restart' };
  const next: WorkerDeploymentVersion = { deploymentName: deployment, buildId: 'after-restart' };
  const oldWorker = await startVersionedWorker(deployment, old.buildId);
  await setCurrentVersion(operator, 'default', old);
  await recordSessionReplayEpoch(operator, 'default', old, epoch);
  const { sessionId, nonce } = await createLaunched();
  const { deviceClientId } = await stack.gateway.createDeviceClient('tenant-a', 3_600_000);
  await eventually(async () => ((await runningOn(operator, 'default', old)).length === 2 ? true : undefined), 20_000, 'the session and the device client listed on the old build');
  await stopWorker(oldWorker);
  await startVersionedWorker(deployment, next.buildId);
  await setCurrentVersion(operator, 'default', next);
  return { old, next, sessionId, nonce, deviceClientId };
}

test('a restart that replaced every worker hands sessions of the old build to the new one', async () => {
  const { next, sessionId, nonce } = await restartedDeployment(SESSION_REPLAY_EPOCH);
  expect(await adoptOrphans(operator, 'default', next, SESSION_REPLAY_EPOCH)).toEqual({ adopted: 2, keptPinned: [] });
  await stack.gateway.submitStep(sessionId, { nonce, step: 'consent', input: { accepted: true } });
  expect((await stack.gateway.status(sessionId)).status).toBe('consumed');
  expect(versionName((await describeSession(sessionId)).raw.workflowExecutionInfo!.versioningInfo!.deploymentVersion as WorkerDeploymentVersion)).toBe(versionName(next));
});

test('a restart does not hand sessions to a build that declares another session replay epoch: they stay pinned, and adoptOrphans reports them', async () => {
  const { old, next, sessionId, deviceClientId } = await restartedDeployment(SESSION_REPLAY_EPOCH);
  // The device client (auto-upgrade) follows the new build; the session waits for its own.
  expect(await adoptOrphans(operator, 'default', next, SESSION_REPLAY_EPOCH + 1)).toEqual({
    adopted: 1,
    keptPinned: [{ version: versionName(old), epoch: SESSION_REPLAY_EPOCH, sessions: 1 }],
  });
  const session = await describeSession(sessionId);
  expect(session.raw.workflowExecutionInfo?.versioningInfo?.versioningOverride).toBeFalsy();
  expect(session.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion).toMatchObject(old);
  const deviceClient = await stack.client.workflow.getHandle(deviceClientWorkflowId(deviceClientId)).describe();
  expect(deviceClient.raw.workflowExecutionInfo?.versioningInfo?.versioningOverride).toBeTruthy();
});
