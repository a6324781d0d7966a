/**
 * `make cluster`: the shape docker-compose.yml describes, run natively without Docker.
 *
 *   PostgreSQL            scripts/postgres.sh (Debian's packages), data under <DATA_DIR>/cluster/postgres
 *   certificates          scripts/temporal-certs.sh, as compose's temporal-certs job, under
 *                         <DATA_DIR>/cluster/certs: mTLS between Temporal and every client of it
 *   schemas               scripts/temporal-schema.sh, as compose's temporal-admin-tools job
 *   Temporal server       built from go.temporal.io/server at compose's version, started with the
 *                         config template of the temporalio/server image (config/docker.yaml in
 *                         the module) and compose's environment and dynamic config; its frontend
 *                         and internode traffic require a client certificate from the local CA
 *   namespace, attributes scripts/temporal-namespace.sh, as compose's temporal-setup job
 *   Temporal UI           built from github.com/temporalio/ui-server/v2 at compose's UI version,
 *                         its codec endpoint the codec server below, by a capability URL acting
 *                         as the development operator (as `make start` gives its UI)
 *   sandboxes, 2 workers, 2 apis (limits counted together in PostgreSQL), the codec server;
 *                         workers, apis and codec server keep session data keys in PostgreSQL;
 *                         workers, apis, the codec server (reviewers' decisions), the UI and the
 *                         CLI calls each present a certificate of their own (the sandbox none)
 *
 * Everything listens on 127.0.0.1, on the ports of the last run when they are free (kept in
 * cluster/ports.json) or on free ones; CLUSTER_API_PORT=8080 asks for 8080 and 8081. As compose's
 * `restart: unless-stopped`, a worker, api, sandbox or Temporal server that dies is started
 * again. Ctrl-C stops everything, apis first and PostgreSQL last; the next `make cluster` finds
 * the sessions in PostgreSQL. cluster/cluster.json names every process, for the smoke test and
 * the drill; cluster/temporal.env holds the CLI's settings (`set -a; . that-file; set +a`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { exitOnConfigError, loadConfig, loadConfigOrExit, type Config } from '../src/config';
import { UI_CAPABILITY_PREFIX } from '../src/keys/codec-server';
import { devAuditKeyFile } from '../src/audit/trail';
import { loadCodecSettings, loadTenantClients } from '../src/settings';
import { devInboxSecret } from '../src/tenants/registry';
import { privateAppendStream, writePrivateFile } from '../src/util/private-files';
import { tenantPageUrls } from '../src/util/tenant-pages';
import { describeInit, initialiseKeyStore, initSettings } from '../src/keys/init';
import { connectionOptions } from '../src/temporal';
import { writeWorkflowBundle } from './bundle-workflows';
import { SOURCE_ROOT } from '../src/worker/workflow-bundle';
import { compileServices } from './compile-services';
import { freePort } from './dev-server';
import { runningBlock } from './running-block';
import { startService, stopService, type LineSink, type Service } from './services';
import { certsFolders, clientTlsEnv, serverTlsEnv, withoutTemporalCredentials, type TemporalClient } from './temporal-tls';

const ROOT = resolve(__dirname, '..');

/** Temporal server ports, named as the variables of the image's config template (config/docker.yaml). */
const SERVER_PORTS = [
  'FRONTEND_GRPC_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'FRONTEND_HTTP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;

interface Ports {
  postgres: number;
  server: Record<(typeof SERVER_PORTS)[number], number>;
  ui: number;
  sandbox: number;
  /** The operator codec server (older ports.json files have none: fresh ports then). */
  codec: number;
  apis: number[];
}

export interface Tools {
  TEMPORAL_SERVER: string;
  TEMPORAL_SQL_TOOL: string;
  TEMPORAL_MODULE: string;
  TEMPORAL_UI?: string;
  TEMPORAL_UI_MODULE?: string;
}

export interface ClusterOptions {
  config: Config;
  /** The Temporal CLI (scripts/install-temporal.sh), for the namespace script. */
  temporalCli: string;
  workers?: number;
  apis?: number;
  /** Extra environment for sandbox, workers and apis (e.g. provider rates). */
  env?: NodeJS.ProcessEnv;
  /** Extra environment for the Temporal server (the bench's PROMETHEUS_ENDPOINT). */
  serverEnv?: NodeJS.ProcessEnv;
  ui?: boolean;
  sink?: LineSink;
  /** The first api port; the others follow it. Free ports when absent. */
  apiPort?: number;
  /** Receives the cluster's stop at once, so a Ctrl-C while it starts stops what already runs. */
  onStop?: (stop: () => Promise<void>) => void;
}

/** A process the cluster keeps running: started again when it dies, unless the cluster is stopping. */
export interface Supervised {
  name: string;
  current(): ChildProcess;
  /** Times it was started again after dying. */
  restarts: number;
  /** Milliseconds from each death to its replacement answering (the 1 s pause included). */
  downtimesMs: number[];
  /** Resolves once the replacement of the current process answers (or at once when it runs). */
  ready(): Promise<void>;
}

export interface Cluster {
  dir: string;
  apiUrls: string[];
  uiUrl: string | null;
  /** The operator codec server, the UI's codec endpoint. */
  codecUrl: string;
  /** The development operator's token file, for `--codec-auth`; null with configured operators. */
  operatorTokenFile: string | null;
  temporalAddress: string;
  /** scripts/temporal-certs.sh's certificates: server/, clients/ and operator/ (clientTlsEnv gives a client its own). */
  certsDir: string;
  sandboxUrl: string;
  postgresUrl: string;
  codec: Supervised;
  workers: Supervised[];
  apis: Supervised[];
  sandbox: Supervised;
  temporal: Supervised;
  /** Stops and starts the Temporal server (same ports, same database). */
  restartTemporal(): Promise<void>;
  stop(): Promise<void>;
}

function say(sink: LineSink, line: string): void {
  sink(`[cluster] ${line}`);
}

/** Runs a command to completion; rejects with its output on failure. */
function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; sink: LineSink; name: string; detached?: boolean }): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    // Detached: in its own process group, so a Ctrl-C meant for the cluster does not reach a
    // server it starts (pg_ctl's PostgreSQL); the cluster stops that itself, in order.
    const child = spawn(command, args, { cwd: ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      for (const line of stderr.split('\n').filter(Boolean)) options.sink(`[${options.name}] ${line}`);
      if (code === 0) resolvePromise(stdout);
      else reject(new Error(`${options.name} failed (exit ${code})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
    });
  });
}

/** Builds (once) and finds the Temporal server, its sql tool and the UI: scripts/install-temporal-server.sh. */
export async function installTools(sink: LineSink, ui = true): Promise<Tools> {
  const out = await run('bash', ['scripts/install-temporal-server.sh', ...(ui ? [] : ['--no-ui'])], { sink, name: 'install' });
  const tools = Object.fromEntries(
    out
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  ) as unknown as Tools;
  if (!tools.TEMPORAL_SERVER || !tools.TEMPORAL_SQL_TOOL || !tools.TEMPORAL_MODULE) throw new Error('install-temporal-server.sh printed no server');
  return tools;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}

/**
 * Distinct free ports, none of them in `taken`. The server keeps membership ports in a
 * PostgreSQL smallint column, so the server's ports come from below 32768, under the kernel's
 * ephemeral range (where `freePort` finds ports) so an outgoing connection cannot take them.
 */
async function freePorts(count: number, taken: Set<number>, below32768 = false): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = below32768 ? 20_000 + Math.floor(Math.random() * 12_000) : await freePort();
    if (!taken.has(port) && !ports.includes(port) && (await portIsFree(port))) ports.push(port);
  }
  return ports;
}

/**
 * The ports of the last run when all are still free (PostgreSQL's may be in use by itself,
 * still running), so URLs stay the same from one `make cluster` to the next; fresh ones otherwise.
 */
async function choosePorts(dir: string, apis: number, apiPort: number | undefined, postgresRunning: boolean): Promise<Ports> {
  const file = join(dir, 'ports.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Ports;
    const wantedApis = apiPort ? Array.from({ length: apis }, (_, i) => apiPort + i) : saved.apis;
    const candidate = { ...saved, apis: wantedApis };
    const others = [...Object.values(candidate.server), candidate.ui, candidate.sandbox, candidate.codec, ...candidate.apis];
    const free = (await Promise.all(others.map(portIsFree))).every(Boolean) && (postgresRunning || (await portIsFree(candidate.postgres)));
    if (free && candidate.codec && candidate.apis.length === apis) return candidate;
  }
  const fixedApis = apiPort ? Array.from({ length: apis }, (_, i) => apiPort + i) : [];
  const fresh = await freePorts(4 + (apiPort ? 0 : apis), new Set(fixedApis));
  const server = await freePorts(SERVER_PORTS.length, new Set([...fixedApis, ...fresh]), true);
  const ports: Ports = {
    postgres: fresh[0],
    ui: fresh[1],
    sandbox: fresh[2],
    codec: fresh[3],
    server: Object.fromEntries(SERVER_PORTS.map((name, i) => [name, server[i]])) as Ports['server'],
    apis: apiPort ? fixedApis : fresh.slice(4),
  };
  writeFileSync(file, `${JSON.stringify(ports, null, 2)}\n`);
  return ports;
}

/** A client's connection options, from the variables it is given (src/config/ reads and checks them). */
export function clientConnection(address: string, clientsDir: string, client: TemporalClient): ConnectionOptions {
  return connectionOptions(loadConfig({ TEMPORAL_ADDRESS: address, ...clientTlsEnv(clientsDir, client) }).temporal);
}

async function waitForFrontend(options: ConnectionOptions, child: () => ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    const process_ = child();
    if (process_.exitCode !== null || process_.signalCode !== null) throw new Error(`the Temporal server exited (${process_.exitCode ?? process_.signalCode}); see its log`);
    try {
      const connection = await Connection.connect({ ...options, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`the Temporal server did not answer within ${timeoutMs / 1000} s (${lastError})`);
}

/** Waits until an HTTP server answers on `url` (any status). */
async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill(signal);
  });
}

/**
 * Keeps `start`'s process running: when it exits while the cluster is not stopping, starts it
 * again after a second (compose's `restart: unless-stopped`).
 */
function supervise(name: string, first: ChildProcess, start: () => Promise<ChildProcess>, stopping: () => boolean, sink: LineSink): Supervised {
  let child = first;
  let pending: Promise<void> = Promise.resolve();
  const supervised: Supervised = {
    name,
    current: () => child,
    restarts: 0,
    downtimesMs: [],
    ready: () => pending,
  };
  const watch = (process_: ChildProcess) => {
    process_.once('exit', (code, signal) => {
      if (stopping()) return;
      say(sink, `${name} exited (${signal ?? `code ${code}`}); starting it again`);
      const died = Date.now();
      pending = (async () => {
        for (;;) {
          await new Promise((r) => setTimeout(r, 1_000));
          if (stopping()) return;
          try {
            child = await start();
            supervised.restarts += 1;
            supervised.downtimesMs.push(Date.now() - died);
            watch(child);
            return;
          } catch (err) {
            say(sink, `${name} did not start: ${(err as Error).message}; trying again`);
          }
        }
      })();
    });
  };
  watch(first);
  return supervised;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const sink: LineSink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
  const { config } = options;
  const dir = resolve(join(config.dataDir, 'cluster'));
  mkdirSync(dir, { recursive: true });
  const certsDir = join(dir, 'certs');
  const certs = certsFolders(certsDir);
  // What the cluster's processes inherit: the cluster's Temporal has its own certificates.
  const inherited = withoutTemporalCredentials(process.env);
  const workerCount = options.workers ?? 2;
  const apiCount = options.apis ?? 2;
  let stopping = false;
  const cleanups: Array<() => Promise<void>> = [];
  // Stops what runs, last started first; a second call (a start step that finished after the
  // first) stops what was added since.
  const stop = async () => {
    stopping = true;
    for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) {
      await cleanup().catch((err: unknown) => say(sink, `stopping: ${(err as Error).message}`));
    }
  };
  options.onStop?.(stop);
  const stillStarting = () => {
    if (stopping) throw new Error('stopped while starting');
  };

  try {
    say(sink, 'building or finding the Temporal server, its schema tool and UI (a first build takes minutes)...');
    const tools = await installTools(sink, options.ui ?? true);
    stillStarting();

    const postgresDir = join(dir, 'postgres');
    const postgresRunning = existsSync(join(postgresDir, 'postmaster.pid'));
    const ports = await choosePorts(dir, apiCount, options.apiPort, postgresRunning);
    say(sink, `PostgreSQL on 127.0.0.1:${ports.postgres}...`);
    const postgresUrl = (await run('bash', ['scripts/postgres.sh', 'start', postgresDir, String(ports.postgres)], { sink, name: 'postgres', detached: true })).trim();
    cleanups.push(() => run('bash', ['scripts/postgres.sh', 'stop', postgresDir], { sink, name: 'postgres' }).then(() => undefined));
    stillStarting();

    // The same connection settings compose gives temporal-admin-tools and temporal (user and
    // password: Debian's `postgres` with local trust, see scripts/postgres.sh).
    const database = { host: '127.0.0.1', port: String(ports.postgres), user: 'postgres', password: '' };
    // The sql tool logs every statement: into cluster/schema.log, not the terminal.
    const schemaLog: string[] = [];
    await run('sh', ['scripts/temporal-schema.sh', tools.TEMPORAL_SQL_TOOL, join(tools.TEMPORAL_MODULE, 'schema/postgresql/v12')], {
      sink: (line) => schemaLog.push(line),
      name: 'schema',
      env: { ...process.env, SQL_HOST: database.host, SQL_PORT: database.port, SQL_USER: database.user, SQL_PASSWORD: database.password },
    })
      .then((out) => say(sink, out.trim().split('\n').pop() ?? ''))
      .finally(() => writePrivateFile(join(dir, 'schema.log'), `${schemaLog.join('\n')}\n`));
    stillStarting();

    // Kept while valid; a new CA and set when one is missing or expires within 30 days.
    await run('sh', ['scripts/temporal-certs.sh', certsDir], { sink, name: 'certs' }).then((out) => say(sink, out.trim()));
    stillStarting();

    const temporalAddress = `127.0.0.1:${ports.server.FRONTEND_GRPC_PORT}`;
    const serverEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      // docker-compose.yml's temporal service, with this machine's addresses.
      DB: 'postgres12',
      DB_PORT: database.port,
      POSTGRES_PORT: database.port,
      POSTGRES_SEEDS: database.host,
      POSTGRES_USER: database.user,
      POSTGRES_PWD: database.password,
      BIND_ON_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      NUM_HISTORY_SHARDS: process.env.TEMPORAL_HISTORY_SHARDS || '4',
      DYNAMIC_CONFIG_FILE_PATH: join(ROOT, 'deploy/temporal-dynamic-config.yaml'),
      LOG_LEVEL: 'warn',
      ...options.serverEnv,
      ...serverTlsEnv(certs.server),
      ...Object.fromEntries(Object.entries(ports.server).map(([name, port]) => [name, String(port)])),
    };
    const serverLog = privateAppendStream(join(dir, 'temporal.log'));
    const startServer = async (): Promise<ChildProcess> => {
      const child = spawn(tools.TEMPORAL_SERVER, ['--config-file', join(tools.TEMPORAL_MODULE, 'config/docker.yaml'), '--allow-no-auth', 'start'], {
        cwd: dir,
        env: serverEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      child.stdout?.pipe(serverLog, { end: false });
      child.stderr?.pipe(serverLog, { end: false });
      await waitForFrontend(clientConnection(temporalAddress, certs.clients, 'cli'), () => child, 180_000);
      return child;
    };
    say(sink, `Temporal server ${temporalAddress} (log ${join(config.dataDir, 'cluster', 'temporal.log')})...`);
    const firstServer = await startServer();
    const temporal = supervise('temporal', firstServer, startServer, () => stopping, sink);
    cleanups.push(async () => {
      await stopChild(temporal.current(), 'SIGTERM', 20_000);
      serverLog.end();
    });

    await run('sh', ['scripts/temporal-namespace.sh'], {
      sink,
      name: 'namespace',
      env: { ...inherited, ...clientTlsEnv(certs.clients, 'cli'), TEMPORAL_CLI: options.temporalCli, TEMPORAL_ADDRESS: temporalAddress, NAMESPACE: config.temporal.namespace },
    }).then((out) => out.split('\n').filter(Boolean).forEach((line) => say(sink, line)));
    stillStarting();
    // The Temporal CLI's settings for an operator (it reads the variables src/config/ reads).
    const cliEnv = { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: config.temporal.namespace, ...clientTlsEnv(certs.clients, 'cli') };
    writeFileSync(join(dir, 'temporal.env'), Object.entries(cliEnv).map(([name, value]) => `${name}='${value.replaceAll("'", "'\\''")}'\n`).join(''));

    let uiUrl: string | null = null;
    const codecUrl = `http://127.0.0.1:${ports.codec}`;
    // What the browser uses: the running block prints the UI as localhost, so that is its origin.
    const browserCodecUrl = `http://localhost:${ports.codec}`;
    // The UI server sends no credentials of its own: its codec URL is one (see scripts/start.ts
    // uiCapability), bound to the development operator, fresh each start, in 0600 files only.
    const { operators } = exitOnConfigError(() => loadCodecSettings({ ...process.env, ...options.env, DATA_DIR: config.dataDir }));
    const capability = operators.source === 'dev' ? { operator: operators.registry.operators[0].name, secret: randomBytes(32).toString('base64url') } : null;
    if (tools.TEMPORAL_UI && tools.TEMPORAL_UI_MODULE) {
      // The UI server's own config file (its docker template has no listen address): loopback only.
      const uiDir = join(dir, 'ui-config');
      mkdirSync(uiDir, { recursive: true });
      const uiTls = clientTlsEnv(certs.clients, 'ui');
      writePrivateFile(
        join(uiDir, 'cluster.yaml'),
        [
          `temporalGrpcAddress: ${temporalAddress}`,
          'host: 127.0.0.1',
          `port: ${ports.ui}`,
          'enableUi: true',
          `defaultNamespace: ${config.temporal.namespace}`,
          'disableNewsFetch: true',
          // The UI server's own client certificate; the server's is checked against the local CA.
          'tls:',
          `  caFile: ${JSON.stringify(uiTls.TEMPORAL_TLS_SERVER_CA_CERT_PATH)}`,
          `  certFile: ${JSON.stringify(uiTls.TEMPORAL_TLS_CLIENT_CERT_PATH)}`,
          `  keyFile: ${JSON.stringify(uiTls.TEMPORAL_TLS_CLIENT_KEY_PATH)}`,
          `  serverName: ${uiTls.TEMPORAL_TLS_SERVER_NAME}`,
          '  enableHostVerification: true',
          'cors:',
          '  cookieInsecure: true',
          // The browser decodes payloads through the codec server, the URL its credential.
          ...(capability ? ['codec:', `  endpoint: ${browserCodecUrl}${UI_CAPABILITY_PREFIX}${capability.secret}`] : []),
          '',
        ].join('\n'),
      );
      const uiLog = privateAppendStream(join(dir, 'ui.log'));
      const startUi = async (): Promise<ChildProcess> => {
        const child = spawn(tools.TEMPORAL_UI as string, ['--root', dir, '--config', 'ui-config', '--env', 'cluster', 'start'], {
          cwd: dir,
          env: { PATH: process.env.PATH },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        child.stdout?.pipe(uiLog, { end: false });
        child.stderr?.pipe(uiLog, { end: false });
        await waitForHttp(`http://127.0.0.1:${ports.ui}/`, 60_000);
        return child;
      };
      const ui = supervise('temporal-ui', await startUi(), startUi, () => stopping, sink);
      cleanups.push(() => stopChild(ui.current()));
      uiUrl = `http://127.0.0.1:${ports.ui}`;
    }

    const bundle = join(dir, 'workflow-bundle.js');
    // With tracing on (SESSIONFLOW_OTLP_ENDPOINT) the workers need the traced bundle: another build id.
    await writeWorkflowBundle(bundle, undefined, { root: SOURCE_ROOT, traced: config.tracing !== undefined });
    // Compiled, as compose's image runs them (and a killed worker is back sooner).
    const dist = await compileServices(join(dir, 'dist'), (line) => say(sink, line));
    stillStarting();
    const apiUrls = ports.apis.map((port) => `http://127.0.0.1:${port}`);
    const appEnv: NodeJS.ProcessEnv = {
      ...inherited,
      ...options.env,
      TEMPORAL_ADDRESS: temporalAddress,
      WORKFLOW_BUNDLE_PATH: bundle,
      // Both workers run one build; each start makes it current (docs/guides/deploying.md).
      ...(process.env.WORKER_DEPLOYMENT_NAME === '' ? {} : { WORKER_DEPLOYMENT_NAME: process.env.WORKER_DEPLOYMENT_NAME ?? 'sessionflow', WORKER_SET_CURRENT: process.env.WORKER_SET_CURRENT ?? 'true' }),
      SANDBOX_PORT: String(ports.sandbox),
      LIMITS_DATABASE_URL: postgresUrl,
      // Session data keys in the cluster's PostgreSQL, as compose keeps them in its own: every
      // worker and api reads the keys of the sessions the others started.
      SESSIONFLOW_KEY_STORE_URL: postgresUrl,
      // One audit chain for the apis, workers and codec server, as compose keeps it: in the
      // cluster's PostgreSQL, under one key file (the development one, beside the development KEKs).
      SESSIONFLOW_AUDIT_URL: postgresUrl,
      // The funnel's session ends, written by both workers, read by the console (docs/guides/funnel.md).
      SESSIONFLOW_FUNNEL_URL: postgresUrl,
      ...(config.audit.key ? {} : { SESSIONFLOW_AUDIT_KEY_FILE: devAuditKeyFile(config.dataDir, config.keys.devKekDir) }),
    };
    // The key store's init step, before any process that reads keys (compose: the key-store-init job).
    const keyStore = await initialiseKeyStore({ ...initSettings(config), keyStoreUrl: postgresUrl });
    say(sink, describeInit(keyStore));
    const services: Service[] = [];
    const startApp = (name: string, entry: string, env: NodeJS.ProcessEnv, ready: RegExp) => async () => {
      const service = await startService(name, entry, env, ready, sink);
      services.push(service);
      return service.child;
    };
    cleanups.push(async () => {
      // Apis first, then workers, then the sandbox: the reverse of their start.
      for (const service of [...services].reverse()) await stopService(service);
    });

    const sandboxUrl = `http://127.0.0.1:${ports.sandbox}`;
    // The Attestr sandbox posts completions to the first api's webhook, as Attestr would to a load balancer.
    // The sandbox's inbox verifies the development client's webhooks, as under `make start`.
    const inboxSecret = devInboxSecret(loadTenantClients(loadConfig(appEnv), appEnv), tenantPageUrls(ports.sandbox).webhookUrl);
    const sandboxEnv = { ...appEnv, ATTESTR_WEBHOOK_URL: `${apiUrls[0]}/webhooks/attestr`, ...(inboxSecret ? { SANDBOX_INBOX_WEBHOOK_SECRET: inboxSecret } : {}) };
    const startSandbox = startApp('sandbox', join(dist, 'sandbox', 'main.js'), sandboxEnv, /listening on/);
    const sandbox = supervise('sandbox', await startSandbox(), startSandbox, () => stopping, sink);
    const startCodec = startApp(
      'codec',
      join(dist, 'codec-server.js'),
      {
        ...appEnv,
        // The folder its operators were loaded from above (the development operator's token).
        DATA_DIR: config.dataDir,
        CODEC_HOST: '127.0.0.1',
        CODEC_PORT: String(ports.codec),
        CODEC_UI_ORIGIN: `http://localhost:${ports.ui}`,
        // Its own certificate, for the reviewers' decisions: not the api's or worker's (compose alike).
        ...clientTlsEnv(certs.operator, 'operator'),
        ...(capability ? { CODEC_UI_CAPABILITY: `${capability.operator}:${capability.secret}` } : {}),
      },
      /codec server listening/,
    );
    const codec = supervise('codec', await startCodec(), startCodec, () => stopping, sink);
    const workers: Supervised[] = [];
    for (let i = 1; i <= workerCount; i += 1) {
      const start = startApp(`worker-${i}`, join(dist, 'worker.js'), { ...appEnv, ...clientTlsEnv(certs.clients, 'worker') }, /polling task queue/);
      workers.push(supervise(`worker-${i}`, await start(), start, () => stopping, sink));
      stillStarting();
    }
    // One after the other: the first creates the limits table the others then find.
    const apis: Supervised[] = [];
    for (const [i, port] of ports.apis.entries()) {
      const start = startApp(`api-${i + 1}`, join(dist, 'api', 'main.js'), { ...appEnv, ...clientTlsEnv(certs.clients, 'api'), PORT: String(port) }, /Server listening at/);
      apis.push(supervise(`api-${i + 1}`, await start(), start, () => stopping, sink));
      stillStarting();
    }

    const cluster: Cluster = {
      dir,
      apiUrls,
      uiUrl,
      codecUrl,
      operatorTokenFile: operators.devTokenFile ?? null,
      temporalAddress,
      certsDir,
      sandboxUrl,
      postgresUrl,
      codec,
      workers,
      apis,
      sandbox,
      temporal,
      async restartTemporal() {
        // The supervisor starts it again once it is gone; wait for that one to answer.
        await stopChild(temporal.current(), 'SIGTERM', 20_000);
        await new Promise((r) => setTimeout(r, 100));
        await temporal.ready();
      },
      stop,
    };
    writeState(cluster);
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** cluster/cluster.json: what runs where, for tools outside this process (the smoke test). */
export function writeState(cluster: Cluster): void {
  const pid = (s: Supervised) => s.current().pid;
  const state = {
    apiUrls: cluster.apiUrls,
    uiUrl: cluster.uiUrl,
    codecUrl: cluster.codecUrl,
    temporalAddress: cluster.temporalAddress,
    certsDir: cluster.certsDir,
    sandboxUrl: cluster.sandboxUrl,
    postgresUrl: cluster.postgresUrl,
    pids: {
      cluster: process.pid,
      temporal: pid(cluster.temporal),
      sandbox: pid(cluster.sandbox),
      codec: pid(cluster.codec),
      workers: cluster.workers.map(pid),
      apis: cluster.apis.map(pid),
    },
  };
  writeFileSync(join(cluster.dir, 'cluster.json'), `${JSON.stringify(state, null, 2)}\n`);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const temporalCli = process.env.TEMPORAL_CLI;
  if (!temporalCli) throw new Error('TEMPORAL_CLI must name the Temporal CLI; run this through `make cluster`');
  const apiPort = process.env.CLUSTER_API_PORT ? Number(process.env.CLUSTER_API_PORT) : undefined;
  let cluster: Cluster | null = null;
  let stopCluster: (() => Promise<void>) | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping the cluster...\n');
    await stopCluster?.();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  cluster = await startCluster({ config, temporalCli, apiPort, onStop: (stop) => (stopCluster = stop) });
  if (stopping) return;
  // Restarted processes have new pids: keep cluster.json current.
  const refresh = setInterval(() => cluster && !stopping && writeState(cluster), 1_000);
  refresh.unref();
  const attestrRate = config.providers.attestr.maxCallsPerSecond ?? 'unlimited';
  const finqwareRate = config.providers.finqware.maxCallsPerSecond ?? 'unlimited';
  // The clients as the apis and workers load them: with the cluster's sandbox port.
  const sandboxPort = new URL(cluster.sandboxUrl).port;
  const clients = exitOnConfigError(() => loadTenantClients(loadConfig({ ...process.env, SANDBOX_PORT: sandboxPort })));
  process.stdout.write(
    runningBlock({
      config,
      apiUrls: cluster.apiUrls.map((url) => url.replace('127.0.0.1', 'localhost')),
      uiUrl: cluster.uiUrl,
      temporalAddress: cluster.temporalAddress,
      sandboxUrl: cluster.sandboxUrl.replace('127.0.0.1', 'localhost'),
      operatorCommand: { codecUrl: cluster.codecUrl.replace('127.0.0.1', 'localhost'), tokenFile: cluster.operatorTokenFile },
      clients,
      headline: `sessionflow cluster is running. Ctrl-C stops it; sessions are kept in PostgreSQL under ${join(config.dataDir, 'cluster')} for the next start.`,
      extra: [
        `  PostgreSQL   ${cluster.postgresUrl.replace(/\/[^/]*$/, '')} (databases temporal, temporal_visibility, sessionflow: limits and data keys)`,
        `  codec        ${cluster.codecUrl.replace('127.0.0.1', 'localhost')}   (the UI's codec endpoint; operator commands below)`,
        `  mTLS         certificates in ${join(config.dataDir, 'cluster', 'certs')}; the Temporal CLI's settings: set -a; . ${join(config.dataDir, 'cluster', 'temporal.env')}; set +a`,
        `  workers      ${cluster.workers.length} (provider calls a second: attestr ${attestrRate}, finqware ${finqwareRate})`,
      ],
    }),
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`make cluster failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
