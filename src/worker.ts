/**
 * The worker process: polls the task queue, runs session workflows and provider activities.
 * Stateless; run as many as wanted. SIGINT/SIGTERM let in-flight tasks finish, then exit.
 * What only the worker uses lives in src/worker/: the workers themselves (session-worker.ts),
 * the SDK runtime and health server, the key store gate, the bundle and Worker Versioning.
 */
import { exitOnConfigError, type Config } from './config';
import { loadWorkerSettings } from './settings';
import { loadSessionSecret } from './session-secret';
import { loadReviewSecret } from './review-secret';
import { RATE_LIMITED_PROVIDERS } from './contract/task-queues';
import { openEncryption } from './keys/encryption';
import { createSessionWorker, type SessionWorker } from './worker/session-worker';
import { installRuntime, serveHealth } from './worker/runtime';
import { KeyStoreGate } from './worker/key-store-gate';
import { announce } from './worker/announce';
import { versionName } from './worker/deployment';
import { startTracing } from './tracing';

export { createSessionWorker, type SessionWorker } from './worker/session-worker';
export { installRuntime } from './worker/runtime';

function announcePolling(config: Config, worker: SessionWorker): void {
  const rates = RATE_LIMITED_PROVIDERS.map((p) => `${p} ${config.providers[p].maxCallsPerSecond ?? 'unlimited'}/s`).join(', ');
  const as = worker.version ? ` as ${versionName(worker.version)}` : '';
  process.stdout.write(`worker polling task queue ${config.temporal.taskQueue} and its provider queues (${rates}) on ${config.temporal.address}${as}\n`);
  if (worker.version) void announce(config.temporal, worker.version, worker.sessionReplayEpoch!, config.workerDeployment?.setCurrent ?? false);
}

/**
 * Runs workers one after another, the first once the key store answers, a fresh one after each
 * outage of the key store (src/worker/key-store-gate.ts), until SIGINT or SIGTERM.
 */
async function main(): Promise<void> {
  const { config, clients } = exitOnConfigError(() => loadWorkerSettings(process.env));
  installRuntime(config);
  // Off (null) unless SESSIONFLOW_OTLP_ENDPOINT is set; with it, workers run the traced workflow bundle.
  const tracing = startTracing(config, 'sessionflow-worker');
  const sessionSecret = exitOnConfigError(() => loadSessionSecret(process.env, config.dataDir));
  const reviewSecret = exitOnConfigError(() => loadReviewSecret(process.env, config.dataDir));
  let current: SessionWorker | null = null;
  let stopping = false;
  const gate = new KeyStoreGate({ onPause: () => current?.shutdown(), stopping: () => stopping });
  const encryption = openEncryption(config, () => gate.pause());
  // The store as it is now (not the cache): this deployment's, opened by the KEK, with the namespace key.
  gate.watch(() => encryption.keys.check(config.temporal.namespace));
  const state = () => (gate.down ? 'key_store_unavailable' : (current?.worker.getState().toLowerCase().replace('running', 'ok') ?? 'starting'));
  const health = config.workerHealthPort ? serveHealth(state, config.workerMonitoringHost, config.workerHealthPort) : null;
  const stop = () => {
    stopping = true;
    current?.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // A worker that cannot read keys would only fail tasks: it polls once the store answers.
  await gate.checkFirst();
  while (!stopping) {
    await gate.waitUntilAnswers();
    if (stopping) break;
    current = await createSessionWorker(config, { encryption, clients: clients.clients, sessionSecret, reviewSecret, tracing });
    announcePolling(config, current);
    try {
      await current.run();
    } catch (err) {
      // The SDK stops a worker whose activation could not be decoded; the task is left to time
      // out and Temporal retries it. Only a key store failure is survived here.
      if (!gate.down) throw err;
    }
    await current.close().catch(() => undefined);
    if (!gate.down) break;
  }
  gate.close();
  health?.close();
  await encryption.close();
  await tracing?.shutdown();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
