/**
 * What a versioned worker tells the server once it polls (docs/guides/deploying.md).
 */
import type { TemporalConfig } from '../config';
import { connectOperator } from '../temporal';
import { adoptOrphans, recordSessionReplayEpoch, setCurrentVersion, versionName, type WorkerDeploymentVersion } from './deployment';

/**
 * Once a versioned worker polls, its version records the session replay epoch of its code (which
 * adoptOrphans compares). WORKER_SET_CURRENT: then its build becomes the deployment's current
 * version, and workflows left on builds no worker runs follow it (a restart replaced every
 * worker), except sessions of another epoch, which cannot replay here.
 */
export async function announce(temporal: TemporalConfig, version: WorkerDeploymentVersion, sessionReplayEpoch: number, setCurrent: boolean): Promise<void> {
  const connection = await connectOperator(temporal);
  try {
    await recordSessionReplayEpoch(connection, temporal.namespace, version, sessionReplayEpoch);
    if (!setCurrent) return;
    await setCurrentVersion(connection, temporal.namespace, version);
    const { adopted, keptPinned } = await adoptOrphans(connection, temporal.namespace, version, sessionReplayEpoch);
    process.stdout.write(`worker: ${versionName(version)} is the current version; ${adopted} workflow(s) of earlier builds follow it\n`);
    for (const kept of keptPinned) {
      process.stderr.write(
        `worker: ${kept.sessions} session(s) stay on ${kept.version}: its code declares session replay epoch ${kept.epoch}, this build ${sessionReplayEpoch}, ` +
          `so they cannot replay here. They wait, nothing lost: run that build's workers again beside this one (WORKER_BUILD_ID=${kept.version.slice(version.deploymentName.length + 1)}, ` +
          `WORKER_SET_CURRENT unset) and \`tsx scripts/deploy.ts wake ${version.buildId}\` moves them here at a quiet point (docs/guides/deploying.md)\n`,
      );
    }
  } catch (err) {
    // The messages of setCurrentVersion and recordSessionReplayEpoch say which step failed.
    process.stderr.write(`worker: ${(err as Error).message}\n`);
  } finally {
    await connection.close();
  }
}
