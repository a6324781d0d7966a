/**
 * `make deploy-drill`: a rollout of a new worker build while 200 sessions are mid-flow, on its
 * own dev server. Build A (this checkout) runs the sessions into four stages: created, mid-input,
 * waiting on a provider, waiting on a timer (consumed, retention running). Build B is the same
 * code plus a deliberate change that is nondeterministic for A's runs (one more command at the
 * start). B is ramped to 50 %, then made current; A's sessions are woken and move to B at their
 * next quiet point; A's workers stop once nothing runs on A; then every session is finished.
 * Build B is test/helpers/previous-build.ts's session-changed build, which the replay gate's own
 * test also fails on. Writes bench/results/deploy-drill.{json,md}. Not part of `make test` (minutes).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { freePort, requireVersioningServer, startDevServer } from '../scripts/dev-server';
import { writeWorkflowBundle } from '../scripts/bundle-workflows';
import { createSessionWorker, type SessionWorker } from '../src/worker';
import { sessionWorkflowId } from '../src/session-secret';
import { SOURCE_ROOT } from '../src/worker/workflow-bundle';
import { setCurrentVersion, setRampingVersion, wakeUntilMoved, type WorkerDeploymentVersion } from '../src/worker/deployment';
import { BANK, completeAttestr, IDENTITY } from '../test/helpers/flows';
import { buildWithSessionChange } from '../test/helpers/previous-build';
import { sessionSecret, startStack, type Stack } from '../test/helpers/stack';

const PER_STAGE = 50;
const RAMPED = 20;
const DEPLOYMENT = 'sessionflow-drill';
const DIR = join(SOURCE_ROOT, '.data', 'deploy-drill');
const RESULTS = join(SOURCE_ROOT, 'bench', 'results');

type Stage = 'created' | 'mid-input' | 'waiting-provider' | 'waiting-timer' | 'started-during-ramp';
interface DrillSession {
  sessionId: string;
  flowId: 'consent-only' | 'kyc-basic';
  stage: Stage;
  nonce: string | null;
  steps: number;
}

const NON_DETERMINISTIC = temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR;
const log = (line: string) => process.stdout.write(`deploy-drill: ${line}\n`);

async function inBatches<T, R>(items: T[], size: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => work(item, i + j)))));
  return out;
}

async function main(): Promise<void> {
  const cli = process.env.TEMPORAL_CLI;
  if (!cli) throw new Error('TEMPORAL_CLI must name the Temporal CLI; run this through `make deploy-drill`');
  requireVersioningServer(cli);
  mkdirSync(DIR, { recursive: true });
  const server = await startDevServer({ cli, port: await freePort(), logFile: join(DIR, 'temporal.log') });
  process.env.TEMPORAL_ADDRESS = server.address;
  const bundleA = join(DIR, 'build-a.js');
  const idA = await writeWorkflowBundle(bundleA);
  // B declares its SESSION_REPLAY_EPOCH bump, as such a change has to (the replay gate's advice).
  const { bundlePath: bundleB, buildId: idB } = await buildWithSessionChange(join(DIR, 'build-b'), { bumpEpoch: true });
  const A: WorkerDeploymentVersion = { deploymentName: DEPLOYMENT, buildId: idA };
  const B: WorkerDeploymentVersion = { deploymentName: DEPLOYMENT, buildId: idB };
  if (idA === idB) throw new Error('deploy drill: build B has the same build id as A');
  log(`build A ${idA}, build B ${idB}`);

  const stack: Stack = await startStack('deploy-drill');
  const operator = await Connection.connect({ address: server.address });
  const workers = new Map<string, Array<{ worker: SessionWorker; done: Promise<void>; connection: NativeConnection }>>();
  const startWorkers = async (version: WorkerDeploymentVersion, bundle: string, count: number) => {
    for (let i = 0; i < count; i += 1) {
      const connection = await NativeConnection.connect({ address: server.address });
      const config = { ...stack.config, workerDeployment: { name: DEPLOYMENT, buildId: version.buildId, setCurrent: false } };
      const worker = await createSessionWorker(config, { connection, clients: [], encryption: stack.encryption, sessionSecret, workflowBundle: { codePath: bundle } });
      workers.set(version.buildId, [...(workers.get(version.buildId) ?? []), { worker, done: worker.run(), connection }]);
    }
  };
  const stopWorkers = async (version: WorkerDeploymentVersion) => {
    for (const { worker, done, connection } of workers.get(version.buildId) ?? []) {
      worker.shutdown();
      await done;
      await worker.close();
      await connection.close();
    }
    workers.delete(version.buildId);
  };

  try {
    await startWorkers(A, bundleA, 2);
    await setCurrentVersion(operator, 'default', A);

    // 200 sessions on build A, 50 in each stage.
    const stages: Array<[Stage, DrillSession['flowId']]> = [
      ['created', 'consent-only'],
      ['mid-input', 'consent-only'],
      ['waiting-provider', 'kyc-basic'],
      ['waiting-timer', 'consent-only'],
    ];
    const handshakes = new Map<string, string>();
    const sessions: DrillSession[] = [];
    for (const [stage, flow] of stages) {
      const made = await inBatches(Array.from({ length: PER_STAGE }), 10, async (_, i) => {
        const flowId = stage === 'created' && i % 2 === 1 ? 'kyc-basic' : flow;
        const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: `drill-${stage}-${i}`, definition: stack.definition(flowId) });
        const session: DrillSession = { sessionId, flowId, stage, nonce: null, steps: 0 };
        if (stage === 'created') return session;
        session.nonce = (await stack.gateway.launch(sessionId)).nonce;
        if (stage === 'waiting-provider') {
          const identity = await stack.gateway.submitStep(sessionId, { nonce: session.nonce!, step: 'identity', input: IDENTITY });
          handshakes.set(sessionId, String(identity.data.handshakeId));
          session.nonce = identity.nonce;
          session.steps = 1;
        }
        if (stage === 'waiting-timer') {
          await stack.gateway.submitStep(sessionId, { nonce: session.nonce!, step: 'consent', input: { accepted: true } });
          session.nonce = null;
          session.steps = 1;
        }
        return session;
      });
      sessions.push(...made);
      log(`${made.length} sessions ${stage} on build A`);
    }

    // Build B: ramped to 50 % (new sessions split between the builds), then current.
    await startWorkers(B, bundleB, 2);
    await setRampingVersion(operator, 'default', B, 50);
    const ramped = await inBatches(Array.from({ length: RAMPED }), 10, async (_, i) => {
      const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: `drill-ramp-${i}`, definition: stack.definition('consent-only') });
      const nonce = (await stack.gateway.launch(sessionId)).nonce;
      const build = (await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId;
      return { session: { sessionId, flowId: 'consent-only', stage: 'started-during-ramp', nonce, steps: 0 } as DrillSession, build };
    });
    sessions.push(...ramped.map((r) => r.session));
    const rampedToB = ramped.filter((r) => r.build === idB).length;
    log(`ramp 50 %: ${rampedToB} of ${RAMPED} new sessions started on build B`);

    await setCurrentVersion(operator, 'default', B);
    const current = Date.now();
    log('build B is current; waking the sessions on build A until they moved');
    // The provider answers meanwhile: those sessions finish their step on A, then move.
    const [{ woken, notMoved }] = await Promise.all([
      wakeUntilMoved(operator, 'default', B, { timeoutMs: 15 * 60_000, intervalMs: 5_000 }),
      inBatches([...handshakes.values()], 10, (handshakeId) => completeAttestr(stack, handshakeId)),
    ]);
    if (notMoved.length > 0) throw new Error(`deploy drill: ${notMoved.length} sessions still on build A after 15 minutes`);
    const aNeededMs = Date.now() - current;
    await stopWorkers(A);
    log(`nothing runs on build A ${Math.round(aNeededMs / 1000)} s after B became current; A's workers stopped`);

    // Every session finishes, on build B.
    let refusals = 0;
    await inBatches(sessions, 10, async (s) => {
      try {
        if (s.stage === 'created') s.nonce = (await stack.gateway.launch(s.sessionId)).nonce;
        if (s.flowId === 'kyc-basic') {
          if (s.steps === 0) {
            const identity = await stack.gateway.submitStep(s.sessionId, { nonce: s.nonce!, step: 'identity', input: IDENTITY });
            await completeAttestr(stack, String(identity.data.handshakeId));
            s.nonce = identity.nonce;
            s.steps += 1;
          }
          const aadhaar = await stack.gateway.submitStep(s.sessionId, { nonce: s.nonce!, step: 'aadhaar', input: {} });
          await stack.gateway.submitStep(s.sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
          s.steps += 2;
        } else if (s.steps === 0) {
          await stack.gateway.submitStep(s.sessionId, { nonce: s.nonce!, step: 'consent', input: { accepted: true } });
          s.steps += 1;
        }
      } catch (err) {
        refusals += 1;
        log(`${s.stage} session: ${(err as Error).message}`);
      }
    });
    const statuses = await inBatches(sessions, 20, async (s) => (await stack.gateway.status(s.sessionId)).status);
    const consumed = statuses.filter((status) => status === 'consumed').length;

    // What the histories say: every run of every session.
    let failedTasks = 0;
    let nondeterminism = 0;
    let doubleHandshakes = 0;
    let onBAtEnd = 0;
    let runs = 0;
    await inBatches(sessions, 10, async (s) => {
      const workflowId = sessionWorkflowId(s.sessionId);
      let handshakesOfSession = 0;
      for await (const execution of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        runs += 1;
        const history = await stack.client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
        for (const event of history.events ?? []) {
          const failed = event.workflowTaskFailedEventAttributes;
          if (failed) {
            failedTasks += 1;
            if (failed.cause === NON_DETERMINISTIC) nondeterminism += 1;
          }
          if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'attestrCreateHandshake') handshakesOfSession += 1;
        }
      }
      if (s.flowId === 'kyc-basic' && handshakesOfSession !== 1) doubleHandshakes += 1;
      const described = await stack.client.workflow.getHandle(workflowId).describe();
      if (described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId === idB) onBAtEnd += 1;
    });
    const stuck = (await stack.client.workflow.count(`TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Running' AND SessionStatus != 'consumed'`)).count;

    const results = {
      sessions: sessions.length,
      byStage: Object.fromEntries([...new Set(sessions.map((s) => s.stage))].map((stage) => [stage, sessions.filter((s) => s.stage === stage).length])),
      rampedToB: `${rampedToB} of ${RAMPED}`,
      wokenOnA: woken,
      buildANeededAfterBCurrentSeconds: Math.round(aNeededMs / 100) / 10,
      consumed,
      finishedOnBuildB: onBAtEnd,
      runs,
      refusedSubmissions: refusals,
      failedWorkflowTasks: failedTasks,
      nondeterminismErrors: nondeterminism,
      stuckWorkflows: Number(stuck),
      providerHandshakesRepeated: doubleHandshakes,
      buildA: idA,
      buildB: idB,
      ranAt: new Date().toISOString(),
    };
    const pass = consumed === sessions.length && onBAtEnd === sessions.length && refusals === 0 && failedTasks === 0 && doubleHandshakes === 0 && Number(stuck) === 0;
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'deploy-drill.json'), `${JSON.stringify({ pass, ...results }, null, 2)}\n`);
    writeFileSync(
      join(RESULTS, 'deploy-drill.md'),
      [
        `# Deploy drill (${results.ranAt.slice(0, 10)}): ${pass ? 'pass' : 'FAIL'}`,
        '',
        `${sessions.length} sessions (${Object.entries(results.byStage).map(([k, v]) => `${v} ${k}`).join(', ')}); build B (a change nondeterministic for A's runs) ramped to 50 % (${results.rampedToB} new sessions went to B), then made current.`,
        '',
        '| measure | value |',
        '|---|---|',
        ...Object.entries(results).filter(([k]) => !['byStage', 'ranAt'].includes(k)).map(([k, v]) => `| ${k} | ${String(v)} |`),
        '',
      ].join('\n'),
    );
    log(`${pass ? 'pass' : 'FAIL'}: ${JSON.stringify(results)}`);
    if (!pass) process.exitCode = 1;
  } finally {
    for (const version of [...workers.keys()]) await stopWorkers({ deploymentName: DEPLOYMENT, buildId: version });
    await operator.close();
    await stack.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`deploy-drill failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
