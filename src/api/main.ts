/**
 * The api process: its settings (src/settings.ts), one Temporal client, graceful close on
 * SIGINT/SIGTERM (stop accepting, let in-flight requests finish, then exit). A bad setting or
 * clients value, or an unreadable flows directory, stops it with one line on stderr; an invalid
 * flow file is logged and skipped, and flow files are read again every second (src/flows/watch.ts).
 */
import { Pool } from 'pg';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { exitOnConfigError } from '../config';
import { loadApiSettings } from '../settings';
import { connectClient } from '../temporal';
import { openEncryption } from '../keys/encryption';
import { buildApp } from './app';
import { serveMetrics } from './metrics';
import { RateLimiter } from './rate-limit';
import { loadSessionSecret } from '../session-secret';
import { startTracing } from '../tracing';

async function main(): Promise<void> {
  const { config, clients: loaded, catalog, flowWatcher, deviceTokenSecret } = exitOnConfigError(() => loadApiSettings(process.env));
  const { clients, source } = loaded;
  const sessionSecret = exitOnConfigError(() => loadSessionSecret(process.env, config.dataDir));
  // Before anything that makes spans; off (null) unless SESSIONFLOW_OTLP_ENDPOINT is set.
  const tracing = startTracing(config, 'sessionflow-api');
  const encryption = openEncryption(config);
  const temporal = await connectClient(config.temporal, encryption.dataConverter, tracing !== null);
  // Several api replicas count each client's limits together in PostgreSQL; one counts in memory.
  const limitsPool = config.api.limitsDatabaseUrl ? new Pool({ connectionString: config.api.limitsDatabaseUrl, max: 5 }) : null;
  // An idle pooled connection that fails (PostgreSQL restarting) must not crash the api.
  limitsPool?.on('error', (err) => process.stderr.write(`sessionflow: limits database: ${err.message}\n`));
  const limiter = limitsPool ? await RateLimiter.postgres(limitsPool) : new RateLimiter();
  const metricsRegistry = new Registry();
  // Node process metrics (CPU, memory, event loop, GC) are the process's, so added here, once.
  collectDefaultMetrics({ register: metricsRegistry });
  const app = buildApp({ config, temporal, keys: encryption.keys, clients, catalog, deviceTokenSecret, sessionSecret, logger: { level: config.logLevel }, metricsRegistry, limiter });
  flowWatcher.attachLog(app.log);
  await app.listen({ host: config.api.host, port: config.api.port });
  const metricsServer = config.api.metricsPort ? await serveMetrics(metricsRegistry, config.api.host, config.api.metricsPort) : null;
  if (metricsServer) app.log.info({ port: config.api.metricsPort }, 'metrics at GET /metrics');
  flowWatcher.start();
  app.log.info({ clients: clients.length, clientsSource: source, flows: catalog.list().length, limits: limitsPool ? 'postgresql' : 'memory', tracing: tracing !== null }, 'api ready');
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    flowWatcher.stop();
    metricsServer?.close();
    app
      .close()
      .then(() => temporal.connection.close())
      .then(() => limitsPool?.end())
      .then(() => encryption.close())
      .then(() => tracing?.shutdown())
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
