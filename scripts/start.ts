/**
 * `make start`: the whole embedded stack on one machine. The Temporal dev server (SQLite under
 * .data/, Web UI), the provider sandboxes, the worker and the api, each a child process whose
 * output is prefixed with its name. Ctrl-C stops them all, the api first and Temporal last.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigOrExit } from '../src/config';
import { writeWorkflowBundle } from './bundle-workflows';
import { startDevServer, type DevServer } from './dev-server';
import { runningBlock } from './running-block';
import { startService, stopServices, type Service } from './services';

const UI_PORT = Number(process.env.TEMPORAL_UI_PORT || 8233);

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const cli = process.env.TEMPORAL_CLI;
  if (!cli) throw new Error('TEMPORAL_CLI must name the Temporal CLI; run this through `make start`');
  mkdirSync(config.dataDir, { recursive: true });
  const temporalPort = Number(config.temporal.address.split(':')[1]);

  const services: Service[] = [];
  let server: DevServer | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping sessionflow...\n');
    await stopServices(services);
    await server?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    process.stdout.write(`starting the Temporal dev server (database ${join(config.dataDir, 'temporal.db')})...\n`);
    server = await startDevServer({
      cli,
      port: temporalPort,
      uiPort: UI_PORT,
      dbFile: join(config.dataDir, 'temporal.db'),
      logFile: join(config.dataDir, 'temporal.log'),
    });
    // Bundled once here, so the worker starts at once and quietly.
    const bundle = join(config.dataDir, 'workflow-bundle.js');
    await writeWorkflowBundle(bundle);
    const env = { ...process.env, TEMPORAL_ADDRESS: server.address, WORKFLOW_BUNDLE_PATH: bundle };
    // The Attestr sandbox posts completions to the api's webhook, as Attestr would.
    const webhook = config.sandbox.attestrWebhookUrl ?? `http://127.0.0.1:${config.api.port}/webhooks/attestr`;
    services.push(await startService('sandbox', 'src/sandbox/main.ts', { ...env, ATTESTR_WEBHOOK_URL: webhook }, /listening on/));
    services.push(await startService('worker', 'src/worker.ts', env, /polling task queue/));
    services.push(await startService('api', 'src/api/main.ts', env, /Server listening at/));
  } catch (err) {
    process.stderr.write(`make start failed: ${(err as Error).message}\n`);
    await stopAll(1);
    return;
  }
  for (const service of services) {
    service.child.once('exit', (code) => {
      if (stopping) return;
      process.stderr.write(`${service.name} stopped unexpectedly (code ${code}); stopping everything\n`);
      void stopAll(1);
    });
  }

  process.stdout.write(
    runningBlock({
      config,
      apiUrls: [`http://localhost:${config.api.port}`],
      uiUrl: server.uiUrl,
      temporalAddress: server.address,
      sandboxUrl: `http://localhost:${config.sandbox.port}`,
      headline: 'sessionflow is running. Ctrl-C stops it; sessions are kept in .data/ for the next start.',
    }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`make start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
