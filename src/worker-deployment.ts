/**
 * Worker Deployment Versioning, the operator's side (README "Deploying a new version"): make a
 * build current or ramp it, find the workflows still on other builds, wake the idle sessions
 * among them so they move at a quiet point, and hand workflows of builds no worker runs any more
 * to the current one. Used by the worker (WORKER_SET_CURRENT), scripts/deploy.ts and the drill.
 */
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { deploymentWakeSignal } from './workflows/messages';

export type { WorkerDeploymentVersion };

/** gRPC status codes Temporal answers with (the numbers are gRPC's). */
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

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
      const notYet = isGrpcServiceError(err) && [NOT_FOUND, FAILED_PRECONDITION].includes(err.code);
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

/**
 * Gives every session on another build of the deployment a workflow task (deploymentWake), in
 * which it sees that its build is no longer the target and moves at its next quiet point. Its
 * old build's workers must still run: they run that task. Answers how many were woken.
 */
export async function wakeSessions(connection: Connection, namespace: string, current: WorkerDeploymentVersion): Promise<number> {
  const sessions = (await runningOnOtherBuilds(connection, namespace, current)).filter((e) => e.workflowType === 'sessionWorkflow');
  for (const { workflowId, runId } of sessions) {
    try {
      await connection.workflowService.signalWorkflowExecution({ namespace, workflowExecution: { workflowId, runId }, signalName: deploymentWakeSignal.name, identity: 'sessionflow deploy' });
    } catch (err) {
      // Closed since it was listed: nothing left to move.
      if (!(isGrpcServiceError(err) && err.code === NOT_FOUND)) throw err;
    }
  }
  return sessions.length;
}

/**
 * For a restart that replaced every worker (make start, compose, make cluster): the workflows
 * still on builds that no worker runs any more follow the current build from now on (an
 * auto-upgrade override), instead of waiting forever. They replay their history on the new code,
 * as every workflow did before Worker Versioning: the replay gate in make test guards that.
 */
export async function adoptOrphans(connection: Connection, namespace: string, current: WorkerDeploymentVersion): Promise<number> {
  const orphans = await runningOnOtherBuilds(connection, namespace, current);
  for (const { workflowId, runId } of orphans) {
    try {
      await connection.workflowService.updateWorkflowExecutionOptions({
        namespace,
        workflowExecution: { workflowId, runId },
        workflowExecutionOptions: { versioningOverride: { autoUpgrade: true } },
        updateMask: { paths: ['versioning_override'] },
      });
    } catch (err) {
      if (!(isGrpcServiceError(err) && err.code === NOT_FOUND)) throw err;
    }
  }
  return orphans.length;
}
