/**
 * The api process: validated config, clients and flows, one Temporal client, graceful close on
 * SIGINT/SIGTERM (stop accepting, let in-flight requests finish, then exit). A bad setting or
 * clients value, or an unreadable flows directory, stops it with one line on stderr; an invalid
 * flow file is logged and skipped (src/flows/watch.ts).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadConfigOrExit } from '../config';
import { FlowCatalog, FlowLoadError } from '../flows/catalog';
import { FlowWatcher } from '../flows/watch';
import { connectClient } from '../temporal';
import { buildApp } from './app';
import { ClientsError, loadClients } from '../tenants/registry';
import { DeviceTokenSecretError, loadDeviceTokenSecret } from './device-tokens';
import { serveMetrics } from './metrics';

function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ClientsError || err instanceof FlowLoadError || err instanceof DeviceTokenSecretError) {
      process.stderr.write(`sessionflow: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { clients, source } = loadOrExit(() => loadClients(process.env, config.dataDir));
  const deviceTokenSecret = loadOrExit(() => loadDeviceTokenSecret(process.env, config.dataDir));
  const temporal = await connectClient(config.temporal);
  const metricsRegistry = new Registry();
  // Node process metrics (CPU, memory, event loop, GC) are the process's, so added here, once.
  collectDefaultMetrics({ register: metricsRegistry });
  const catalog = FlowCatalog.empty();
  const app = buildApp({ config, temporal, clients, catalog, deviceTokenSecret, logger: { level: config.logLevel }, metricsRegistry });
  // Flow files are read now and again every second: an invalid one is logged and skipped.
  const flowWatcher = new FlowWatcher(config.flowsDir, catalog, app.log);
  loadOrExit(() => flowWatcher.scan());
  for (const rule of config.eventRules) {
    if (rule.action !== 'start') continue;
    const resolved = catalog.resolve(rule.flow, rule.snapshot);
    if (!resolved.ok) {
      process.stderr.write(`sessionflow: SESSIONFLOW_EVENT_RULES: the rule for "${rule.type}" starts a flow that cannot run (${resolved.reason})\n`);
      process.exit(2);
    }
  }
  await app.listen({ host: config.api.host, port: config.api.port });
  const metricsServer = config.api.metricsPort ? await serveMetrics(metricsRegistry, config.api.host, config.api.metricsPort) : null;
  if (metricsServer) app.log.info({ port: config.api.metricsPort }, 'metrics at GET /metrics');
  flowWatcher.start();
  app.log.info({ clients: clients.length, clientsSource: source, flows: catalog.list().length }, 'api ready');
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    flowWatcher.stop();
    metricsServer?.close();
    app
      .close()
      .then(() => temporal.connection.close())
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
