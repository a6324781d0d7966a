/**
 * Worker Deployment Versioning on the real dev server: workers run as a version of a deployment,
 * sessions pin to the build they start on, a deploy wakes the idle ones so they continue as new
 * on the current build at a quiet point, and a restart that replaced every worker hands the
 * workflows of the build nobody runs any more to the new one.
 */
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createSessionWorker, type SessionWorker } from '../src/worker';
import { sessionWorkflowId } from '../src/session-secret';
import { adoptOrphans, runningOn, setCurrentVersion, versionName, wakeSessions, type WorkerDeploymentVersion } from '../src/worker-deployment';
import { eventually, sessionClosed, sessionSecret, startStack, type Stack } from './helpers/stack';

let stack: Stack;
let operator: Connection;
const running: Array<{ worker: SessionWorker; done: Promise<void>; connection: NativeConnection }> = [];

beforeAll(async () => {
  stack = await startStack('versioning');
  operator = await Connection.connect({ address: stack.config.temporal.address });
});

afterAll(async () => {
  for (const entry of running) await stopWorker(entry.worker);
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
  const { sessionId } = await stack.gateway.create({ clientId: 'tenant-a', tag: 'versioning', definition: stack.definition('consent-only') });
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

  expect(await wakeSessions(operator, 'default', buildB)).toBeGreaterThanOrEqual(1);
  let probes = 0;
  const onB = await eventually(async () => {
    const described = await describeSession(sessionId);
    if (described.runId !== onA.runId && described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId === buildB.buildId) return described;
    // The new current version reaches the task queue a moment after set-current: a wake that
    // came first found no target change, so wake it again (as the deploy drill does).
    probes += 1;
    if (described.runId === onA.runId && probes % 10 === 0) await wakeSessions(operator, 'default', buildB);
    return undefined;
  }, 30_000, 'the session to continue as new on build B');
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

test('a restart that replaced every worker hands sessions of the old build to the new one', async () => {
  const deployment = `sf-test-${randomUUID().slice(0, 8)}`;
  const old: WorkerDeploymentVersion = { deploymentName: deployment, buildId: 'before-restart' };
  const next: WorkerDeploymentVersion = { deploymentName: deployment, buildId: 'after-restart' };
  const oldWorker = await startVersionedWorker(deployment, old.buildId);
  await setCurrentVersion(operator, 'default', old);
  const { sessionId, nonce } = await createLaunched();
  await eventually(async () => ((await runningOn(operator, 'default', old)).length === 1 ? true : undefined), 20_000, 'the session listed on the old build');
  await stopWorker(oldWorker);

  await startVersionedWorker(deployment, next.buildId);
  await setCurrentVersion(operator, 'default', next);
  expect(await adoptOrphans(operator, 'default', next)).toBe(1);
  await stack.gateway.submitStep(sessionId, { nonce, step: 'consent', input: { accepted: true } });
  expect((await stack.gateway.status(sessionId)).status).toBe('consumed');
  expect(versionName((await describeSession(sessionId)).raw.workflowExecutionInfo!.versioningInfo!.deploymentVersion as WorkerDeploymentVersion)).toBe(versionName(next));
});
