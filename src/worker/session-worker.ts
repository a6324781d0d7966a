/**
 * A worker of the session task queue and one per rate-limited provider, built from a loaded
 * configuration; the worker process (src/worker.ts), the tests and the bench build theirs here.
 *
 * Each rate-limited provider's calls have an activity task queue of their own
 * (providerTaskQueue), polled by a Worker of their own with maxTaskQueueActivitiesPerSecond
 * from that provider's *_MAX_CALLS_PER_SECOND: the Temporal server then hands out at most that
 * many of its tasks a second across all workers, so sessionflow stays under the vendor's limit
 * instead of collecting its 429s. Every process sets the same rate (the server keeps the last one).
 */
import { readFileSync } from 'node:fs';
import { Runtime, Worker, type WorkerDeploymentOptions, type WorkerOptions } from '@temporalio/worker';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ConfigError, type Config } from '../config';
import type { Tracing } from '../tracing';
import { isTracedBundle, tracedWorkerOptions } from './tracing';
import { createActivities } from '../activities';
import { WorkerMetrics } from '../activities/metrics';
import { AttestrConnector } from '../providers/attestr';
import { FinqwareConnector } from '../providers/finqware';
import { HttpStageConnector } from '../providers/http-stage';
import { SessionShredder } from '../activities/shred';
import { configuredAuditTrail, type AuditTrail } from '../audit/trail';
import { openFunnelWriter, type FunnelWriter } from '../funnel/open';
import { WebhookSender, type ReadResult } from '../activities/webhooks';
import type { TenantClient } from '../tenants/registry';
import { legacySessionWorkflowId } from '../contract/workflow-ids';
import { loadSessionSecret, sessionWorkflowId, type SessionSecret } from '../session-secret';
import { loadReviewSecret, type ReviewSecret } from '../review-secret';
import { resultQuery } from '../contract/session';
import { SessionStatusKey } from '../contract/session-search';
import { providerTaskQueue, RATE_LIMITED_PROVIDERS } from '../contract/task-queues';
import { connectClient, connectWorker } from '../temporal';
import { openEncryption, type Encryption } from '../keys/encryption';
import { sessionKeyId } from '../keys/key-store';
import { bundleBuildId, bundleWorkflows, SOURCE_ROOT } from './workflow-bundle';
import { sessionReplayEpochOf, type WorkerDeploymentVersion } from './deployment';

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

function workflowSource(config: Config, bundle: WorkerOptions['workflowBundle'], traced: boolean): Partial<WorkerOptions> {
  if (bundle) return { workflowBundle: bundle };
  if (config.workflowBundlePath) return { workflowBundle: { codePath: config.workflowBundlePath } };
  return { workflowsPath: require.resolve('../workflows'), ...(traced ? { interceptors: { workflowModules: [require.resolve('../workflows/tracing')] } } : {}) };
}

/**
 * A bundle built ahead must match the worker: the traced bundle's spans need the sink a traced
 * worker has, and an untraced bundle would leave a traced worker's traces without their workflow.
 */
function checkBundleTracing(code: string, traced: boolean): void {
  if (isTracedBundle(code) === traced) return;
  throw new ConfigError(
    'WORKFLOW_BUNDLE_PATH',
    traced
      ? 'holds a bundle without tracing, but SESSIONFLOW_OTLP_ENDPOINT is set: build it with `tsx scripts/bundle-workflows.ts --traced <file>`'
      : 'holds a bundle built with tracing, but SESSIONFLOW_OTLP_ENDPOINT is not set: build it without --traced',
  );
}

function bundleCode(bundle: WorkerOptions['workflowBundle'], path: string | undefined): string | null {
  if (bundle && 'code' in bundle) return bundle.code;
  if (bundle) return readFileSync(bundle.codePath, 'utf8');
  return path ? readFileSync(path, 'utf8') : null;
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
  traced: boolean,
): Promise<{ source: Partial<WorkerOptions>; version: WorkerDeploymentVersion | null; sessionReplayEpoch: number | null; deploymentOptions: Partial<WorkerOptions> }> {
  const deployment = config.workerDeployment;
  const built = bundleCode(bundle, config.workflowBundlePath);
  if (built !== null) checkBundleTracing(built, traced);
  if (!deployment) return { source: workflowSource(config, bundle, traced), version: null, sessionReplayEpoch: null, deploymentOptions: {} };
  const code = built ?? (await bundleWorkflows({ root: SOURCE_ROOT, traced }));
  const version = { deploymentName: deployment.name, buildId: deployment.buildId ?? bundleBuildId(code) };
  const workerDeploymentOptions: WorkerDeploymentOptions = { useWorkerVersioning: true, version, defaultVersioningBehavior: 'AUTO_UPGRADE' };
  return { source: { workflowBundle: { code } }, version, sessionReplayEpoch: sessionReplayEpochOf(code), deploymentOptions: { workerDeploymentOptions } };
}

/**
 * How long reading a session's result may take. A query sent to a worker that dies before it
 * answers waits out its whole deadline; this one leaves room for the server's fallback from a
 * dead worker's sticky queue (WORKER_STICKY_QUEUE_TIMEOUT_SECONDS, at most 60 s but 2 s by default) and ends
 * well inside the delivery's start-to-close timeout.
 */
const RESULT_READ_DEADLINE_MS = 20_000;

/**
 * A session's result, for its consumed event when it is sent; null once the session is archived
 * (its result is purged, and its key may be destroyed already: describe needs no key, a query would).
 */
function sessionResult(temporal: Client, sessionId: string): Promise<ReadResult> {
  return temporal.withDeadline(Date.now() + RESULT_READ_DEADLINE_MS, async () => {
    // Sessions started before ids were hashed live under the id itself.
    for (const workflowId of [sessionWorkflowId(sessionId), legacySessionWorkflowId(sessionId)]) {
      const handle = temporal.workflow.getHandle(workflowId);
      try {
        const { status, typedSearchAttributes } = await handle.describe();
        if (status.name !== 'RUNNING' || typedSearchAttributes.get(SessionStatusKey) === 'archived') return null;
        return { workflowId, view: await handle.query(resultQuery) };
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    return null;
  });
}

/**
 * What every worker of the process shares about dying and stopping
 * (docs/guides/benchmark-and-drill.md#timeouts-after-a-fault). A stop (SIGTERM) lets in-flight
 * tasks finish for up to 10 s. Heartbeats go out every second, not at 80 % of the activity's
 * heartbeat timeout: the provider calls' 3 s timeout then allows two late beats before a
 * healthy call is taken for dead. The sticky queue timeout matters only where workflows run.
 */
function failoverOptions(config: Config): Pick<WorkerOptions, 'shutdownGraceTime' | 'maxHeartbeatThrottleInterval' | 'stickyQueueScheduleToStartTimeout'> {
  return { shutdownGraceTime: '10 seconds', maxHeartbeatThrottleInterval: '1 second', stickyQueueScheduleToStartTimeout: config.workerStickyQueueTimeoutMs };
}

/** What a caller gives the worker: tests pass a pre-built bundle and their own task queue. */
export type SessionWorkerOverrides = Partial<Pick<WorkerOptions, 'workflowBundle' | 'taskQueue' | 'connection'>> & {
  clients: TenantClient[];
  encryption?: Encryption;
  sessionSecret?: SessionSecret;
  reviewSecret?: ReviewSecret;
  /** Shredding's; the configured one when absent. */
  audit?: AuditTrail;
  /** The process's tracing (src/tracing.ts): workflows and activities make spans; none when absent. */
  tracing?: Tracing | null;
  /** Where session ends are written; the configured store when absent. */
  funnel?: FunnelWriter;
};

/** Builds a worker for `config`, signing webhooks for `clients`. */
export async function createSessionWorker(config: Config, overrides: SessionWorkerOverrides): Promise<SessionWorker> {
  const encryption = overrides.encryption ?? openEncryption(config);
  const attestr = new AttestrConnector(config.providers.attestr);
  const finqware = new FinqwareConnector(config.providers.finqware);
  const http = new HttpStageConnector(config.providers.httpStageSecrets);
  // Exported by the runtime's Prometheus endpoint when installRuntime set one up; recorded nowhere otherwise.
  const metrics = new WorkerMetrics(Runtime.instance().metricMeter);
  const temporal = await connectClient(config.temporal, encryption.dataConverter);
  const secret = overrides.sessionSecret ?? loadSessionSecret(process.env, config.dataDir);
  const taskQueue = overrides.taskQueue ?? config.temporal.taskQueue;
  const webhooks = new WebhookSender(overrides.clients, (sessionId) => sessionResult(temporal, sessionId), secret, config.unsealedSessionsUntil);
  const audit = overrides.audit ?? configuredAuditTrail(config);
  const shredder = new SessionShredder(temporal, encryption.keys, sessionKeyId, audit);
  const connection = overrides.connection ?? (await connectWorker(config.temporal));
  const funnel = overrides.funnel ?? openFunnelWriter(config);
  const reviewSecret = overrides.reviewSecret ?? loadReviewSecret(process.env, config.dataDir);
  const activities = createActivities({ attestr, finqware, http, webhooks, shredder, sessionSecret: secret, reviewSecret, quotaWaitCapMs: config.providers.quotaWaitCapMs, metrics, funnel });
  const tracing = overrides.tracing ?? null;
  const { source, version, sessionReplayEpoch, deploymentOptions } = await versionedSource(config, overrides.workflowBundle, tracing !== null);
  const traced = tracing ? tracedWorkerOptions(tracing) : null;
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    ...source,
    ...deploymentOptions,
    ...(traced ? { sinks: traced.sinks, interceptors: { ...source.interceptors, activity: traced.interceptors.activity } } : {}),
    activities,
    // Payloads encrypted with each session's key; failure messages and stack traces too. What
    // cannot be decrypted reaches the workflow as a refused value, never a failed task.
    dataConverter: encryption.workerDataConverter,
    ...failoverOptions(config),
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
        ...(traced ? { interceptors: { activity: traced.interceptors.activity } } : {}),
        dataConverter: encryption.workerDataConverter,
        ...failoverOptions(config),
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
      await Promise.all([attestr.close(), finqware.close(), http.close(), webhooks.close(), temporal.connection.close(), overrides.audit ? null : audit.close(), overrides.funnel ? null : funnel.close()]);
      if (!overrides.connection) await connection.close();
      if (!overrides.encryption) await encryption.close();
    },
  };
}
