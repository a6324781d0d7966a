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
import { createServer, type Server } from 'node:http';
import { DefaultLogger, Runtime, Worker, type LogLevel, type MetricsExporterConfig, type WorkerOptions } from '@temporalio/worker';
import { exitOnConfigError, type Config } from './config';
import { createActivities } from './activities';
import { WORKER_METRICS, WorkerMetrics } from './activities/metrics';
import { LATENCY_BUCKETS_SECONDS } from './util/latency-buckets';
import { AttestrConnector } from './providers/attestr';
import { FinqwareConnector } from './providers/finqware';
import { HttpStageConnector } from './providers/http-stage';
import { WebhookSender } from './activities/webhooks';
import { loadWorkerSettings } from './settings';
import type { TenantClient } from './tenants/registry';
import { connectClient, connectWorker } from './temporal';
import { providerTaskQueue, RATE_LIMITED_PROVIDERS, resultQuery, sessionWorkflowId } from './workflows/messages';

export interface SessionWorker {
  /** The session task queue's worker: workflows, webhooks and the http stage. */
  worker: Worker;
  /** It and the provider task queues' workers. */
  workers: Worker[];
  /** Runs them all until shutdown; when one fails, shuts the others down and rejects. */
  run(): Promise<void>;
  shutdown(): void;
  /** Closes the provider connection pools; call after the workers stopped. */
  close(): Promise<void>;
}

function workflowSource(config: Config, bundle: WorkerOptions['workflowBundle']): Partial<WorkerOptions> {
  if (bundle) return { workflowBundle: bundle };
  if (config.workflowBundlePath) return { workflowBundle: { codePath: config.workflowBundlePath } };
  return { workflowsPath: require.resolve('./workflows') };
}

/**
 * Builds a worker for `config`, signing webhooks for `clients`; tests pass a pre-built bundle
 * and their own task queue.
 */
export async function createSessionWorker(
  config: Config,
  overrides: Partial<Pick<WorkerOptions, 'workflowBundle' | 'taskQueue' | 'connection'>> & { clients: TenantClient[] },
): Promise<SessionWorker> {
  const attestr = new AttestrConnector(config.providers.attestr);
  const finqware = new FinqwareConnector(config.providers.finqware);
  const http = new HttpStageConnector(config.providers.httpStageSecrets);
  // Exported by the runtime's Prometheus endpoint when installRuntime set one up; recorded nowhere otherwise.
  const metrics = new WorkerMetrics(Runtime.instance().metricMeter);
  const temporal = await connectClient(config.temporal);
  const webhooks = new WebhookSender(overrides.clients, async (sessionId) => {
    const view = await temporal.workflow.getHandle(sessionWorkflowId(sessionId)).query(resultQuery);
    return view.result;
  });
  const connection = overrides.connection ?? (await connectWorker(config.temporal));
  const taskQueue = overrides.taskQueue ?? config.temporal.taskQueue;
  const activities = createActivities({ attestr, finqware, http, webhooks, quotaWaitCapMs: config.providers.quotaWaitCapMs, metrics });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    ...workflowSource(config, overrides.workflowBundle),
    activities,
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
        shutdownGraceTime: '10 seconds',
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
    async close() {
      await Promise.all([attestr.close(), finqware.close(), http.close(), webhooks.close(), temporal.connection.close()]);
      if (!overrides.connection) await connection.close();
    },
  };
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
 * the runtime's meter) at GET /metrics, on every interface like /healthz, named the Prometheus
 * way (counters `_total`, durations in seconds with a `_seconds` suffix).
 */
function prometheusExporter(port: number): MetricsExporterConfig {
  return {
    prometheus: {
      bindAddress: `0.0.0.0:${port}`,
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
    ...(config.workerMetricsPort ? { telemetryOptions: { metrics: prometheusExporter(config.workerMetricsPort) } } : {}),
  });
}

/** GET /healthz: 200 while the worker runs, 503 otherwise (for container health checks). */
function serveHealth(worker: Worker, port: number): Server {
  return createServer((request, response) => {
    const running = worker.getState() === 'RUNNING';
    response.statusCode = request.url === '/healthz' ? (running ? 200 : 503) : 404;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ status: running ? 'ok' : worker.getState().toLowerCase() }));
  }).listen(port);
}

async function main(): Promise<void> {
  const { config, clients } = exitOnConfigError(() => loadWorkerSettings(process.env));
  installRuntime(config);
  const sessionWorker = await createSessionWorker(config, { clients: clients.clients });
  const { worker, close } = sessionWorker;
  const health = config.workerHealthPort ? serveHealth(worker, config.workerHealthPort) : null;
  const rates = RATE_LIMITED_PROVIDERS.map((p) => `${p} ${config.providers[p].maxCallsPerSecond ?? 'unlimited'}/s`).join(', ');
  process.stdout.write(`worker polling task queue ${config.temporal.taskQueue} and its provider queues (${rates}) on ${config.temporal.address}\n`);
  await sessionWorker.run();
  health?.close();
  await close();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
