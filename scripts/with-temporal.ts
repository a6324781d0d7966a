/**
 * Runs a command against its own isolated Temporal dev server: free ports, an in-memory
 * database, the session search attributes. Used by `make test`:
 *   tsx scripts/with-temporal.ts -- jest
 * The command sees TEMPORAL_ADDRESS and TEMPORAL_UI_URL (the UI decodes payloads through a codec
 * server run here, at TEMPORAL_CODEC_URL, as the development operator of `.data/`, by a capability
 * URL as `make start` gives it), and TEST_POSTGRES_URL: a PostgreSQL server (scripts/postgres.sh)
 * for the PostgreSQL key store's tests. Both servers stop when the command ends, and the exit code
 * is the command's. Generated development KEKs go to `.data/test-dev-keks` (SESSIONFLOW_DEV_KEK_DIR)
 * rather than the user's own folder, as tests make many data folders.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, requireVersioningServer, startDevServer, type DevServer, type DevServerOptions } from './dev-server';
import { buildCodecServer, UI_CAPABILITY_PREFIX } from '../src/keys/codec-server';
import { initialiseKeyStore, initSettings } from '../src/keys/init';
import { openKeyStore } from '../src/keys/open-store';
import { configuredAuditTrail } from '../src/audit/trail';
import { loadCodecSettings } from '../src/settings';

/**
 * Low enough that the tests' long sessions get a continue-as-new suggestion, high enough that
 * the sample flows never do. The production default is 4,096 events.
 */
export const TEST_SUGGEST_CONTINUE_AS_NEW_EVENTS = 400;

/**
 * The dev server picks free ports of its own for its internal services, so a port chosen here
 * can be taken between choosing and binding: try again on fresh ports a couple of times.
 */
async function startOnFreePorts(cli: string, logFile: string, uiCodecEndpoint: DevServerOptions['uiCodecEndpoint']): Promise<DevServer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startDevServer({
        cli,
        port: await freePort(),
        uiPort: await freePort(),
        uiCodecEndpoint,
        logFile,
        dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': TEST_SUGGEST_CONTINUE_AS_NEW_EVENTS },
      });
    } catch (err) {
      if (attempt === 3) throw err;
      process.stderr.write(`with-temporal: ${(err as Error).message}; trying other ports\n`);
    }
  }
}

async function main(): Promise<number> {
  const separator = process.argv.indexOf('--');
  const command = separator === -1 ? [] : process.argv.slice(separator + 1);
  if (command.length === 0) {
    process.stderr.write('usage: tsx scripts/with-temporal.ts -- <command> [args...]\n');
    return 2;
  }
  const cli = process.env.TEMPORAL_CLI;
  if (!cli) {
    process.stderr.write('with-temporal: TEMPORAL_CLI must name the Temporal CLI (scripts/install-temporal.sh prints it)\n');
    return 2;
  }
  // test/worker-versioning.test.ts and the replay gate run Worker Versioning.
  requireVersioningServer(cli);
  // Logs stay inside the project (.data/ is ignored) so nothing names a place on the machine.
  const logDir = join('.data', 'test-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `temporal-${process.pid}.log`);
  const runEnv = { SESSIONFLOW_DEV_KEK_DIR: process.env.SESSIONFLOW_DEV_KEK_DIR || resolve('.data', 'test-dev-keks') };
  // The UI decodes payloads through a codec server over the tests' default key store (.data/keys).
  const codecPort = await freePort();
  const codecUrl = `http://127.0.0.1:${codecPort}`;
  const capability = randomBytes(32).toString('base64url');
  const cliEnvFile = join(logDir, `temporal-${process.pid}.env.yaml`);
  const server = await startOnFreePorts(cli, logFile, { url: `${codecUrl}${UI_CAPABILITY_PREFIX}${capability}`, cliEnvFile });
  const { config, operators } = loadCodecSettings({ ...process.env, ...runEnv, TEMPORAL_ADDRESS: server.address });
  // The tests' default key store, made as `make start` makes it (each test stack runs the same init).
  await initialiseKeyStore(initSettings(config));
  const codecKeys = openKeyStore({ dataDir: config.dataDir, ...config.keys });
  const [devOperator] = operators.registry.operators;
  const codecAudit = configuredAuditTrail(config);
  const codec = buildCodecServer({
    keys: codecKeys,
    audit: codecAudit,
    uiOrigin: server.uiUrl ?? 'http://127.0.0.1',
    operators: operators.registry,
    allowedHosts: config.codec.allowedHosts,
    uiCapability: { operator: devOperator.name, secret: capability },
    defaultNamespace: 'default',
  });
  await codec.listen({ host: '127.0.0.1', port: codecPort });
  // One data directory per run; scripts/postgres.sh installs and runs PostgreSQL from Debian's packages.
  const postgresDir = join('.data', `test-postgres-${process.pid}`);
  const postgresUrl = execFileSync('bash', ['scripts/postgres.sh', 'start', postgresDir, String(await freePort())], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const stopPostgres = () => execFileSync('bash', ['scripts/postgres.sh', 'remove', postgresDir], { stdio: 'ignore' });
  process.stdout.write(`with-temporal: dev server on ${server.address}, UI ${server.uiUrl}, log ${logFile}\n`);
  const child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, ...runEnv, TEMPORAL_ADDRESS: server.address, TEMPORAL_UI_URL: server.uiUrl ?? '', TEMPORAL_NAMESPACE: 'default', TEST_POSTGRES_URL: postgresUrl, TEMPORAL_CODEC_URL: codecUrl },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))));
  await server.stop();
  await codec.close();
  await codecKeys.close();
  await codecAudit.close();
  rmSync(cliEnvFile, { force: true });
  stopPostgres();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`with-temporal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
