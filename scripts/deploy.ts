/**
 * The deploy steps of docs/guides/deploying.md, against the Temporal of the usual
 * variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS or API key) and the deployment named by
 * WORKER_DEPLOYMENT_NAME (default sessionflow):
 *   tsx scripts/deploy.ts ramp <build-id> <percent>   new sessions: this share to the build
 *   tsx scripts/deploy.ts current <build-id> [<s>]    make it current, wake sessions on other builds until they moved (<s> seconds at most, 60)
 *   tsx scripts/deploy.ts wake <build-id> [<s>]       the same wake again (a session busy with a step moves after it)
 *   tsx scripts/deploy.ts status <build-id>           what still runs on a build: 0 means its workers can stop
 * A rollback is `current <the previous build id>`: sessions that moved continue as new back on it.
 */
import { loadConfigOrExit } from '../src/config';
import { connectOperator } from '../src/temporal';
import { runningOn, setCurrentVersion, setRampingVersion, versionName, wakeUntilMoved, type WakeOutcome } from '../src/worker/deployment';

const USAGE = 'usage: tsx scripts/deploy.ts ramp <build-id> <percent> | current <build-id> [<seconds>] | wake <build-id> [<seconds>] | status <build-id>';

/** What a wake did, and what to do about sessions that did not move in time. */
function describeWake(version: string, { woken, notMoved }: WakeOutcome): string {
  if (notMoved.length === 0) return `every session on other builds moved to ${version} (${woken} wake signal(s))\n`;
  const builds = [...new Set(notMoved.map((e) => e.version))].join(', ');
  return (
    `${notMoved.length} session(s) still on ${builds} (${woken} wake signal(s)): busy with a step, or that build's workers are not running; ` +
    `keep its workers running and run \`wake\` again\n`
  );
}

async function main(): Promise<number> {
  const [command, buildId, third] = process.argv.slice(2);
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
        const share = Number(third);
        if (!(share >= 0 && share <= 100)) throw new Error('ramp needs a percentage from 0 to 100');
        await setRampingVersion(connection, namespace, version, share);
        process.stdout.write(`${versionName(version)} ramping: ${share}% of new sessions\n`);
        return 0;
      }
      case 'current':
      case 'wake': {
        const seconds = third === undefined ? 60 : Number(third);
        if (!(seconds >= 0)) throw new Error(`${command} takes the seconds to keep waking for, a number`);
        if (command === 'current') {
          await setCurrentVersion(connection, namespace, version);
          process.stdout.write(`${versionName(version)} is current\n`);
        }
        process.stdout.write(describeWake(versionName(version), await wakeUntilMoved(connection, namespace, version, { timeoutMs: seconds * 1000 })));
        return 0;
      }
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
