/**
 * Worker Deployment Versioning, the operator's side (docs/guides/deploying.md): make a
 * build current or ramp it, find the workflows still on other builds, wake the idle sessions
 * among them so they move at a quiet point, and hand workflows of builds no worker runs any more
 * to the current one (unless their session replay epoch differs). Used by the worker
 * (WORKER_SET_CURRENT), scripts/deploy.ts, the drill and the replay gate.
 */
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { GRPC_STATUS } from '../temporal';
import { deploymentWakeSignal } from '../contract/session';

export type { WorkerDeploymentVersion };

const { NOT_FOUND, FAILED_PRECONDITION } = GRPC_STATUS;

const VERSION_ATTRIBUTE = 'TemporalWorkerDeploymentVersion';

/** How a version is named in TemporalWorkerDeploymentVersion and by the CLI: `name:buildId`. */
export function versionName({ deploymentName, buildId }: WorkerDeploymentVersion): string {
  return `${deploymentName}:${buildId}`;
}

export interface VersionedExecution {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** The `name:buildId` it runs on. */
  version: string;
}

/** A new version is known to the server only once one of its workers polled: wait for that. */
async function retryUntilRegistered<T>(what: string, call: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      const notYet = isGrpcServiceError(err) && (err.code === NOT_FOUND || err.code === FAILED_PRECONDITION);
      if (!notYet || Date.now() > deadline) throw new Error(`${what} failed: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Makes `version` its deployment's current version: new workflows start on it, auto-upgrade ones move to it. */
export async function setCurrentVersion(connection: Connection, namespace: string, version: WorkerDeploymentVersion, timeoutMs = 60_000): Promise<void> {
  await retryUntilRegistered(
    `making ${versionName(version)} current`,
    () => connection.workflowService.setWorkerDeploymentCurrentVersion({ namespace, deploymentName: version.deploymentName, buildId: version.buildId, identity: 'sessionflow' }),
    timeoutMs,
  );
}

/** Sends `percentage` of new workflows (by workflow id) to `version`; the current version keeps the rest. */
export async function setRampingVersion(
  connection: Connection,
  namespace: string,
  version: WorkerDeploymentVersion,
  percentage: number,
  timeoutMs = 60_000,
): Promise<void> {
  await retryUntilRegistered(
    `ramping ${versionName(version)} to ${percentage}%`,
    () =>
      connection.workflowService.setWorkerDeploymentRampingVersion({ namespace, deploymentName: version.deploymentName, buildId: version.buildId, percentage, identity: 'sessionflow' }),
    timeoutMs,
  );
}

/** Running workflows whose TemporalWorkerDeploymentVersion matches `condition` (a visibility query on it). */
async function runningWhere(connection: Connection, namespace: string, condition: string): Promise<VersionedExecution[]> {
  const found: VersionedExecution[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await connection.workflowService.listWorkflowExecutions({
      namespace,
      query: `ExecutionStatus = 'Running' AND ${condition}`,
      pageSize: 1000,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const info of page.executions ?? []) {
      // Lists carry search attributes, not versioning info.
      const payload = info.searchAttributes?.indexedFields?.[VERSION_ATTRIBUTE];
      const version = payload?.data ? String(JSON.parse(Buffer.from(payload.data).toString('utf8'))) : '';
      found.push({ workflowId: info.execution?.workflowId ?? '', runId: info.execution?.runId ?? '', workflowType: info.type?.name ?? '', version });
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return found;
}

/** Running workflows on `version` (what a build's workers are still needed for). */
export function runningOn(connection: Connection, namespace: string, version: WorkerDeploymentVersion): Promise<VersionedExecution[]> {
  return runningWhere(connection, namespace, `${VERSION_ATTRIBUTE} = '${versionName(version)}'`);
}

/** Running workflows on other builds of `version`'s deployment. */
export async function runningOnOtherBuilds(connection: Connection, namespace: string, version: WorkerDeploymentVersion): Promise<VersionedExecution[]> {
  const prefix = `${version.deploymentName}:`;
  const others = await runningWhere(connection, namespace, `${VERSION_ATTRIBUTE} STARTS_WITH '${prefix}' AND ${VERSION_ATTRIBUTE} != '${versionName(version)}'`);
  return others.filter((execution) => execution.version.startsWith(prefix));
}

/** The epoch of code from before SESSION_REPLAY_EPOCH was declared (src/workflows/versioning.ts). */
export const FIRST_SESSION_REPLAY_EPOCH = 1;

/**
 * The SESSION_REPLAY_EPOCH that workflow code declares: read from a bundle, or from the text of
 * src/workflows/versioning.ts (as the replay gate reads an older commit's), so it is the epoch of
 * the code a worker really runs, whichever tree it was bundled from.
 */
export function sessionReplayEpochOf(code: string): number {
  const declared = /\bSESSION_REPLAY_EPOCH = (\d+)/.exec(code);
  return declared ? Number(declared[1]) : FIRST_SESSION_REPLAY_EPOCH;
}

/** A session: the pinned type, which needs its build's workers until it moves. */
const isSession = (execution: VersionedExecution) => execution.workflowType === 'sessionWorkflow';
const sessionsOf = (executions: VersionedExecution[]) => executions.filter(isSession);

/** Runs a call on one workflow; one that closed since it was listed (NOT_FOUND) has nothing left to do. */
async function unlessClosed(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === NOT_FOUND)) throw err;
  }
}

/**
 * Gives each of `sessions` a workflow task (deploymentWake), in which it sees that its build is
 * no longer the target and moves at its next quiet point. Its build's workers must still run:
 * they run that task.
 */
async function wake(connection: Connection, namespace: string, sessions: VersionedExecution[]): Promise<void> {
  for (const { workflowId, runId } of sessions) {
    await unlessClosed(() =>
      connection.workflowService.signalWorkflowExecution({ namespace, workflowExecution: { workflowId, runId }, signalName: deploymentWakeSignal.name, identity: 'sessionflow deploy' }),
    );
  }
}

export interface WakeOutcome {
  /** Wake signals sent, over all rounds. */
  woken: number;
  /** Sessions still on other builds when the time was up (busy with a step, or their build's workers are gone). */
  notMoved: VersionedExecution[];
}

/**
 * Wakes the sessions on other builds of `current`'s deployment again and again until none is
 * left or `timeoutMs` has passed. Once is not enough: the current version reaches the task queue
 * a moment after set-current (a session woken before that sees no target change), a session busy
 * with a step moves only after it, and visibility lags.
 */
export async function wakeUntilMoved(
  connection: Connection,
  namespace: string,
  current: WorkerDeploymentVersion,
  { timeoutMs = 60_000, intervalMs = 2_000 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<WakeOutcome> {
  const deadline = Date.now() + timeoutMs;
  let woken = 0;
  for (;;) {
    const left = sessionsOf(await runningOnOtherBuilds(connection, namespace, current));
    // At least one round, whatever the timeout.
    if (left.length === 0 || (woken > 0 && Date.now() >= deadline)) return { woken, notMoved: left };
    await wake(connection, namespace, left);
    woken += left.length;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(intervalMs, deadline - Date.now()))));
  }
}

/** Where a version records the session replay epoch of its code (its Worker Deployment Version metadata). */
const EPOCH_KEY = 'sessionReplayEpoch';

/** Records on `version` the SESSION_REPLAY_EPOCH its workflow code declares, for adoptOrphans. */
export async function recordSessionReplayEpoch(connection: Connection, namespace: string, version: WorkerDeploymentVersion, epoch: number, timeoutMs = 60_000): Promise<void> {
  await retryUntilRegistered(
    `recording the session replay epoch of ${versionName(version)}`,
    () =>
      connection.workflowService.updateWorkerDeploymentVersionMetadata({
        namespace,
        deploymentVersion: version,
        upsertEntries: { [EPOCH_KEY]: { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(epoch)) } },
        identity: 'sessionflow',
      }),
    timeoutMs,
  );
}

/** The session replay epoch recorded on `version`; a version without one ran code from before the declaration. */
async function recordedSessionReplayEpoch(connection: Connection, namespace: string, version: WorkerDeploymentVersion): Promise<number> {
  try {
    const { workerDeploymentVersionInfo } = await connection.workflowService.describeWorkerDeploymentVersion({ namespace, deploymentVersion: version });
    const data = workerDeploymentVersionInfo?.metadata?.entries?.[EPOCH_KEY]?.data;
    return data ? Number(JSON.parse(Buffer.from(data).toString('utf8'))) : FIRST_SESSION_REPLAY_EPOCH;
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === NOT_FOUND) return FIRST_SESSION_REPLAY_EPOCH;
    throw err;
  }
}

export interface Adoption {
  /** Workflows of other builds that follow the current build from now on. */
  adopted: number;
  /** Builds whose sessions stay pinned: their code declares another session replay epoch. */
  keptPinned: Array<{ version: string; epoch: number; sessions: number }>;
}

/**
 * For a restart that replaced every worker (make start, compose, make cluster): the workflows
 * still on builds that no worker runs any more follow the current build from now on (an
 * auto-upgrade override), instead of waiting forever. They replay their history on the new code,
 * as every workflow did before Worker Versioning: the replay gate in make test guards that. Not
 * the sessions of a build whose SESSION_REPLAY_EPOCH differs from `sessionReplayEpoch` (the
 * current build's): the epoch was bumped because they cannot replay here, so they stay pinned,
 * waiting (nothing is lost) until their build's workers run again and a wake moves them.
 */
export async function adoptOrphans(connection: Connection, namespace: string, current: WorkerDeploymentVersion, sessionReplayEpoch: number): Promise<Adoption> {
  const orphans = await runningOnOtherBuilds(connection, namespace, current);
  const epochs = new Map<string, number>();
  for (const version of new Set(sessionsOf(orphans).map((e) => e.version))) {
    const buildId = version.slice(current.deploymentName.length + 1);
    epochs.set(version, await recordedSessionReplayEpoch(connection, namespace, { deploymentName: current.deploymentName, buildId }));
  }
  const keep = (e: VersionedExecution) => isSession(e) && epochs.get(e.version) !== sessionReplayEpoch;
  const adopted = orphans.filter((e) => !keep(e));
  for (const { workflowId, runId } of adopted) {
    await unlessClosed(() =>
      connection.workflowService.updateWorkflowExecutionOptions({
        namespace,
        workflowExecution: { workflowId, runId },
        workflowExecutionOptions: { versioningOverride: { autoUpgrade: true } },
        updateMask: { paths: ['versioning_override'] },
      }),
    );
  }
  const keptPinned = [...epochs]
    .filter(([, epoch]) => epoch !== sessionReplayEpoch)
    .map(([version, epoch]) => ({ version, epoch, sessions: orphans.filter((e) => keep(e) && e.version === version).length }));
  return { adopted: adopted.length, keptPinned };
}
