/**
 * The worker process: polls the task queue, runs session workflows and provider activities.
 * Stateless; run as many as wanted. SIGINT/SIGTERM let in-flight tasks finish, then exit.
 *
 * Each rate-limited provider's calls have an activity task queue of their own
 * (providerTaskQueue), polled by a Worker of their own with maxTaskQueueActivitiesPerSecond
 * from that provider's *_MAX_CALLS_PER_SECOND: the Temporal server then hands out at most that
 * many of its tasks a second across all workers, so sessionflow stays under the vendor's limit
 * instead of collecting its 429s. Every process sets the same rate (the server keeps the last one).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isIPv6 } from 'node:net';
import { DefaultLogger, Runtime, Worker, type LogLevel, type MetricsExporterConfig, type WorkerDeploymentOptions, type WorkerOptions } from '@temporalio/worker';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { exitOnConfigError, type Config } from './config';
import { createActivities } from './activities';
import { WORKER_METRICS, WorkerMetrics } from './activities/metrics';
import { LATENCY_BUCKETS_SECONDS } from './util/latency-buckets';
import { AttestrConnector } from './providers/attestr';
import { FinqwareConnector } from './providers/finqware';
import { HttpStageConnector } from './providers/http-stage';
import { SessionShredder } from './activities/shred';
import { WebhookSender } from './activities/webhooks';
import { loadWorkerSettings } from './settings';
import type { TenantClient } from './tenants/registry';
import { loadSessionSecret, sessionWorkflowId, type SessionSecret } from './session-secret';
import { legacySessionWorkflowId } from './contract/workflow-ids';
import { resultQuery } from './contract/session';
import { SessionStatusKey } from './contract/session-search';
import { providerTaskQueue, RATE_LIMITED_PROVIDERS } from './contract/task-queues';
import { connectClient, connectOperator, connectWorker } from './temporal';
import { openEncryption, type Encryption } from './keys/encryption';
import { KeyStoreUnavailableError, sessionKeyId } from './keys/key-store';
import { bundleBuildId, bundleWorkflows, SOURCE_ROOT } from './workflow-bundle';
import { adoptOrphans, recordSessionReplayEpoch, sessionReplayEpochOf, setCurrentVersion, versionName, type WorkerDeploymentVersion } from './worker-deployment';

export interface SessionWorker {
  /** The session task queue's worker: workflows, webhooks and the http stage. */
  worker: Worker;
  /** It and the provider task queues' workers. */
  workers: Worker[];
  /** Runs them all until shutdown; when one fails, shuts the others down and rejects. */
  run(): Promise<void>;
  shutdown(): void;
  encryption: Encryption;
  /** Closes the provider connection pools; call after the workers stopped. */
  close(): Promise<void>;
  /** Its Worker Deployment Version; null with Worker Versioning off. */
  version: WorkerDeploymentVersion | null;
  /** The SESSION_REPLAY_EPOCH its workflow code declares; null with Worker Versioning off. */
  sessionReplayEpoch: number | null;
}

function workflowSource(config: Config, bundle: WorkerOptions['workflowBundle']): Partial<WorkerOptions> {
  if (bundle) return { workflowBundle: bundle };
  if (config.workflowBundlePath) return { workflowBundle: { codePath: config.workflowBundlePath } };
  return { workflowsPath: require.resolve('./workflows') };
}

/**
 * With Worker Versioning, the workflow code and the version it runs as: the build id is the
 * bundle's hash unless WORKER_BUILD_ID names one, so a worker bundles at start when no bundle was
 * built ahead. Every workflow type declares its own behaviour (src/workflows); the default is
 * for none.
 */
async function versionedSource(
  config: Config,
  bundle: WorkerOptions['workflowBundle'],
): Promise<{ source: Partial<WorkerOptions>; version: WorkerDeploymentVersion | null; sessionReplayEpoch: number | null; deploymentOptions: Partial<WorkerOptions> }> {
  const deployment = config.workerDeployment;
  if (!deployment) return { source: workflowSource(config, bundle), version: null, sessionReplayEpoch: null, deploymentOptions: {} };
  let code: string;
  if (bundle && 'code' in bundle) code = bundle.code;
  else if (bundle) code = readFileSync(bundle.codePath, 'utf8');
  else if (config.workflowBundlePath) code = readFileSync(config.workflowBundlePath, 'utf8');
  else code = await bundleWorkflows({ root: SOURCE_ROOT });
  const version = { deploymentName: deployment.name, buildId: deployment.buildId ?? bundleBuildId(code) };
  const workerDeploymentOptions: WorkerDeploymentOptions = { useWorkerVersioning: true, version, defaultVersioningBehavior: 'AUTO_UPGRADE' };
  return { source: { workflowBundle: { code } }, version, sessionReplayEpoch: sessionReplayEpochOf(code), deploymentOptions: { workerDeploymentOptions } };
}

/**
 * How long reading a session's result may take. A query sent to a worker that dies before it
 * answers waits out its whole deadline; this one leaves room for the server's fallback from a
 * dead worker's sticky queue (10 s) and ends well inside the delivery's start-to-close timeout.
 */
const RESULT_READ_DEADLINE_MS = 20_000;

/**
 * A session's result, for its consumed event when it is sent; null once the session is archived
 * (its result is purged, and its key may be destroyed already: describe needs no key, a query would).
 */
function sessionResult(temporal: Client, sessionId: string): Promise<unknown> {
  return temporal.withDeadline(Date.now() + RESULT_READ_DEADLINE_MS, async () => {
    // Sessions started before ids were hashed live under the id itself.
    for (const workflowId of [sessionWorkflowId(sessionId), legacySessionWorkflowId(sessionId)]) {
      const handle = temporal.workflow.getHandle(workflowId);
      try {
        const { status, typedSearchAttributes } = await handle.describe();
        if (status.name !== 'RUNNING' || typedSearchAttributes.get(SessionStatusKey) === 'archived') return null;
        return (await handle.query(resultQuery)).result;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    return null;
  });
}

/**
 * Builds a worker for `config`, signing webhooks for `clients`; tests pass a pre-built bundle
 * and their own task queue.
 */
export async function createSessionWorker(
  config: Config,
  overrides: Partial<Pick<WorkerOptions, 'workflowBundle' | 'taskQueue' | 'connection'>> & {
    clients: TenantClient[];
    encryption?: Encryption;
    sessionSecret?: SessionSecret;
  },
): Promise<SessionWorker> {
  const encryption = overrides.encryption ?? openEncryption(config);
  const attestr = new AttestrConnector(config.providers.attestr);
  const finqware = new FinqwareConnector(config.providers.finqware);
  const http = new HttpStageConnector(config.providers.httpStageSecrets);
  // Exported by the runtime's Prometheus endpoint when installRuntime set one up; recorded nowhere otherwise.
  const metrics = new WorkerMetrics(Runtime.instance().metricMeter);
  const temporal = await connectClient(config.temporal, encryption.dataConverter);
  const secret = overrides.sessionSecret ?? loadSessionSecret(process.env, config.dataDir);
  const taskQueue = overrides.taskQueue ?? config.temporal.taskQueue;
  const webhooks = new WebhookSender(overrides.clients, (sessionId) => sessionResult(temporal, sessionId), secret);
  const shredder = new SessionShredder(temporal, encryption.keys, sessionKeyId);
  const connection = overrides.connection ?? (await connectWorker(config.temporal));
  const activities = createActivities({ attestr, finqware, http, webhooks, shredder, sessionSecret: secret, quotaWaitCapMs: config.providers.quotaWaitCapMs, metrics });
  const { source, version, sessionReplayEpoch, deploymentOptions } = await versionedSource(config, overrides.workflowBundle);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    ...source,
    ...deploymentOptions,
    activities,
    // Payloads encrypted with each session's key; failure messages and stack traces too. What
    // cannot be decrypted reaches the workflow as a refused value, never a failed task.
    dataConverter: encryption.workerDataConverter,
    shutdownGraceTime: '10 seconds',
    ...(config.workerMaxCachedWorkflows ? { maxCachedWorkflows: config.workerMaxCachedWorkflows } : {}),
  });
  const providerWorkers = await Promise.all(
    RATE_LIMITED_PROVIDERS.map((provider) => {
      const rate = config.providers[provider].maxCallsPerSecond;
      return Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: providerTaskQueue(taskQueue, provider),
        // Every activity may land here (a session of older code schedules them on its own queue).
        activities,
        dataConverter: encryption.workerDataConverter,
        shutdownGraceTime: '10 seconds',
        // Part of the same version: a pinned session's provider calls go to its own build's workers.
        ...deploymentOptions,
        ...(rate ? { maxTaskQueueActivitiesPerSecond: rate } : {}),
      });
    }),
  );
  const workers = [worker, ...providerWorkers];
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    worker,
    workers,
    version,
    sessionReplayEpoch,
    shutdown,
    async run() {
      await Promise.all(
        workers.map((w) =>
          w.run().catch((err: unknown) => {
            shutdown();
            throw err;
          }),
        ),
      );
    },
    encryption,
    async close() {
      await Promise.all([attestr.close(), finqware.close(), http.close(), webhooks.close(), temporal.connection.close()]);
      if (!overrides.connection) await connection.close();
      if (!overrides.encryption) await encryption.close();
    },
  };
}

/**
 * Once a versioned worker polls, its version records the session replay epoch of its code (which
 * adoptOrphans compares). WORKER_SET_CURRENT: then its build becomes the deployment's current
 * version, and workflows left on builds no worker runs follow it (a restart replaced every
 * worker), except sessions of another epoch, which cannot replay here.
 */
async function announce(config: Config, version: WorkerDeploymentVersion, sessionReplayEpoch: number, setCurrent: boolean): Promise<void> {
  const connection = await connectOperator(config.temporal);
  try {
    await recordSessionReplayEpoch(connection, config.temporal.namespace, version, sessionReplayEpoch);
    if (!setCurrent) return;
    await setCurrentVersion(connection, config.temporal.namespace, version);
    const { adopted, keptPinned } = await adoptOrphans(connection, config.temporal.namespace, version, sessionReplayEpoch);
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

const SDK_LOG_LEVELS: Record<Config['logLevel'], LogLevel> = {
  fatal: 'ERROR',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'ERROR',
};

/**
 * The SDK's Prometheus exporter: Temporal's worker metrics and the project's own (recorded on
 * the runtime's meter) at GET /metrics, on WORKER_MONITORING_HOST like /healthz (loopback unless
 * set), named the Prometheus way (counters `_total`, durations in seconds with a `_seconds` suffix).
 */
function prometheusExporter(host: string, port: number): MetricsExporterConfig {
  return {
    prometheus: {
      bindAddress: `${isIPv6(host) ? `[${host}]` : host}:${port}`,
      countersTotalSuffix: true,
      unitSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: { [WORKER_METRICS.providerCallDuration]: LATENCY_BUCKETS_SECONDS },
    },
  };
}

/** Sets the Temporal SDK's log level and metrics exporter once per process, before any worker exists. */
export function installRuntime(config: Config): void {
  Runtime.install({
    logger: new DefaultLogger(SDK_LOG_LEVELS[config.logLevel]),
    ...(config.workerMetricsPort ? { telemetryOptions: { metrics: prometheusExporter(config.workerMonitoringHost, config.workerMetricsPort) } } : {}),
  });
}

/** GET /healthz: 200 while the worker runs, 503 otherwise (`key_store_unavailable` while paused). */
function serveHealth(state: () => string, host: string, port: number): Server {
  return createServer((request, response) => {
    const status = state();
    response.statusCode = request.url === '/healthz' ? (status === 'ok' ? 200 : 503) : 404;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ status }));
  }).listen(port, host);
}

/** How often the worker asks the key store whether it answers: while polling, and while paused. */
const KEY_STORE_PROBE_MS = 2_000;

/**
 * Runs workers one after another, the first once the key store answers (a worker that cannot
 * read keys would only fail tasks; docs/security/key-store.md). When a key cannot be read (the
 * store is down, the KEK is wrong), the task fails (nothing is written; Temporal retries it after
 * its timeout) and the worker stops polling until the store answers again, then a fresh worker polls. While paused
 * no activity runs, so an outage of any length uses up no activity's retry budget and ends no
 * session in `error`. The store is also probed while polling, so an outage that no task has met
 * yet stops polling too: otherwise the next activity attempt due (a provider call's last one,
 * say) would be handed to this worker, fail to decode its input, and be spent. Only attempts
 * handed out in the probe interval an outage begins in can still be spent, one per activity.
 */
async function main(): Promise<void> {
  const { config, clients } = exitOnConfigError(() => loadWorkerSettings(process.env));
  installRuntime(config);
  const sessionSecret = exitOnConfigError(() => loadSessionSecret(process.env, config.dataDir));
  let current: SessionWorker | null = null;
  let keyStoreDown = false;
  let stopping = false;
  const pause = () => {
    if (keyStoreDown || stopping) return;
    keyStoreDown = true;
    process.stderr.write('worker: the key store cannot be read; polling stops until it answers\n');
    current?.shutdown();
  };
  const encryption = openEncryption(config, pause);
  // The store as it is now (not the cache): this deployment's, opened by the KEK, with the namespace key.
  const probeKey = () => encryption.keys.check(config.temporal.namespace);
  let probing = false;
  const probe = setInterval(() => {
    if (keyStoreDown || stopping || probing) return;
    probing = true;
    probeKey()
      .catch((err: unknown) => {
        if (err instanceof KeyStoreUnavailableError) pause();
      })
      .finally(() => (probing = false));
  }, KEY_STORE_PROBE_MS);
  probe.unref();
  const state = () => (keyStoreDown ? 'key_store_unavailable' : (current?.worker.getState().toLowerCase().replace('running', 'ok') ?? 'starting'));
  const health = config.workerHealthPort ? serveHealth(state, config.workerMonitoringHost, config.workerHealthPort) : null;
  const stop = () => {
    stopping = true;
    current?.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const waitForKeyStore = async () => {
    while (keyStoreDown && !stopping) {
      await new Promise((resolve) => setTimeout(resolve, KEY_STORE_PROBE_MS));
      try {
        await probeKey();
        keyStoreDown = false;
        process.stdout.write('worker: the key store answers again; polling resumes\n');
      } catch {
        // still down
      }
    }
  };
  // A worker that cannot read keys would only fail tasks: it polls once the store answers.
  try {
    await probeKey();
  } catch (err) {
    keyStoreDown = true;
    process.stderr.write(`worker: ${err instanceof KeyStoreUnavailableError ? err.message : 'the key store cannot be read'}; polling waits until it answers\n`);
  }
  while (!stopping) {
    await waitForKeyStore();
    if (stopping) break;
    current = await createSessionWorker(config, { encryption, clients: clients.clients, sessionSecret });
    const rates = RATE_LIMITED_PROVIDERS.map((p) => `${p} ${config.providers[p].maxCallsPerSecond ?? 'unlimited'}/s`).join(', ');
    const as = current.version ? ` as ${versionName(current.version)}` : '';
    process.stdout.write(`worker polling task queue ${config.temporal.taskQueue} and its provider queues (${rates}) on ${config.temporal.address}${as}\n`);
    if (current.version) void announce(config, current.version, current.sessionReplayEpoch!, config.workerDeployment?.setCurrent ?? false);
    try {
      await current.run();
    } catch (err) {
      // The SDK stops a worker whose activation could not be decoded; the task is left to time
      // out and Temporal retries it. Only a key store failure is survived here.
      if (!keyStoreDown) throw err;
    }
    await current.close().catch(() => undefined);
    if (!keyStoreDown) break;
  }
  clearInterval(probe);
  health?.close();
  await encryption.close();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
