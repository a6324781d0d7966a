/**
 * The benchmark's comparison pair without payload encryption: an api (BENCH_PLAIN_ROLE=api) or
 * a worker (BENCH_PLAIN_ROLE=worker) built exactly as src/api/main.ts and src/worker.ts build
 * them, but on Temporal's default data converter and without data keys. Only bench/run.ts
 * starts them, on a task queue of their own, to measure what the codec costs an input step;
 * sessionflow itself has no way to turn encryption off.
 */
import { Client, Connection } from '@temporalio/client';
import { exitOnConfigError } from '../src/config';
import { loadApiSettings, loadWorkerSettings } from '../src/settings';
import { loadSessionSecret } from '../src/session-secret';
import { buildApp } from '../src/api/app';
import { createSessionWorker, installRuntime } from '../src/worker';
import { CachedKeyStore } from '../src/keys/cache';
import { EncryptionCodec } from '../src/keys/codec';
import type { Encryption } from '../src/keys/encryption';
import type { KeyStore } from '../src/keys/key-store';

/** Answers no key: nothing in this pair encodes with one (the shredder's destroy is a no-op). */
const NO_KEYS: KeyStore = {
  get: async () => null,
  createIfAbsent: () => Promise.reject(new Error('the plain benchmark pair has no data keys')),
  destroy: async () => undefined,
  rewrapAll: async () => 0,
  check: async () => undefined,
  close: async () => undefined,
};

function plainEncryption(namespace: string): Encryption {
  const keys = new CachedKeyStore(NO_KEYS);
  // Default data converter: payloads as plain JSON, failures as the SDK writes them.
  return { keys, codec: new EncryptionCodec(keys, { namespace }), dataConverter: {}, workerDataConverter: {}, close: () => keys.close() };
}

async function api(): Promise<void> {
  const { config, clients, catalog, deviceTokenSecret } = exitOnConfigError(() => loadApiSettings(process.env));
  const sessionSecret = exitOnConfigError(() => loadSessionSecret(process.env, config.dataDir));
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const app = buildApp({ config, temporal, clients: clients.clients, catalog, deviceTokenSecret, sessionSecret, logger: { level: config.logLevel } });
  await app.listen({ host: config.api.host, port: config.api.port });
  const stop = () => void app.close().then(() => connection.close()).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function worker(): Promise<void> {
  const { config, clients } = exitOnConfigError(() => loadWorkerSettings(process.env));
  installRuntime(config);
  const sessionSecret = exitOnConfigError(() => loadSessionSecret(process.env, config.dataDir));
  const running = await createSessionWorker(config, { clients: clients.clients, sessionSecret, encryption: plainEncryption(config.temporal.namespace) });
  process.once('SIGINT', () => running.shutdown());
  process.once('SIGTERM', () => running.shutdown());
  process.stdout.write(`plain worker polling task queue ${config.temporal.taskQueue}\n`);
  await running.run();
  await running.close();
}

const role = process.env.BENCH_PLAIN_ROLE;
(role === 'api' ? api() : role === 'worker' ? worker() : Promise.reject(new Error('BENCH_PLAIN_ROLE must be api or worker'))).catch((err: unknown) => {
  process.stderr.write(`plain ${role ?? ''} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
