/**
 * The deploy steps of README "Deploying a new version", against the Temporal of the usual
 * variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS or API key) and the deployment named by
 * WORKER_DEPLOYMENT_NAME (default sessionflow):
 *   tsx scripts/deploy.ts ramp <build-id> <percent>   new sessions: this share to the build
 *   tsx scripts/deploy.ts current <build-id>          make it current, wake sessions on other builds
 *   tsx scripts/deploy.ts wake <build-id>             wake again (sessions busy with a step move after it)
 *   tsx scripts/deploy.ts status <build-id>           what still runs on a build: 0 means its workers can stop
 * A rollback is `current <the previous build id>`: sessions that moved continue as new back on it.
 */
import { loadConfigOrExit } from '../src/config';
import { connectOperator } from '../src/temporal';
import { runningOn, setCurrentVersion, setRampingVersion, versionName, wakeSessions } from '../src/worker-deployment';

const USAGE = 'usage: tsx scripts/deploy.ts ramp <build-id> <percent> | current <build-id> | wake <build-id> | status <build-id>';

async function main(): Promise<number> {
  const [command, buildId, percent] = process.argv.slice(2);
  if (!command || !buildId) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfigOrExit();
  const { namespace } = config.temporal;
  const version = { deploymentName: process.env.WORKER_DEPLOYMENT_NAME || 'sessionflow', buildId };
  const connection = await connectOperator(config.temporal);
  try {
    switch (command) {
      case 'ramp': {
        const share = Number(percent);
        if (!(share >= 0 && share <= 100)) throw new Error('ramp needs a percentage from 0 to 100');
        await setRampingVersion(connection, namespace, version, share);
        process.stdout.write(`${versionName(version)} ramping: ${share}% of new sessions\n`);
        return 0;
      }
      case 'current':
        await setCurrentVersion(connection, namespace, version);
        process.stdout.write(`${versionName(version)} is current; woke ${await wakeSessions(connection, namespace, version)} session(s) on other builds\n`);
        return 0;
      case 'wake':
        process.stdout.write(`woke ${await wakeSessions(connection, namespace, version)} session(s) on builds other than ${versionName(version)}\n`);
        return 0;
      case 'status': {
        const running = await runningOn(connection, namespace, version);
        process.stdout.write(`${running.length} workflow(s) run on ${versionName(version)}${running.length === 0 ? ': its workers can stop' : ''}\n`);
        return 0;
      }
      default:
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`deploy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
