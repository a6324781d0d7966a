/**
 * `make start`: the whole embedded stack on one machine. The Temporal dev server (SQLite under
 * .data/, Web UI), the provider sandboxes, the worker and the api, each a child process whose
 * output is prefixed with its name; their access lines go to a file (scripts/access-log.ts). A
 * process that dies is said and started again after a bounded backoff (scripts/supervisor.ts).
 * Ctrl-C stops them all, the api first and Temporal last.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { exitOnConfigError } from '../src/config';
import { UI_CAPABILITY_PREFIX } from '../src/keys/codec-server';
import { sessionWorkflowId } from '../src/session-secret';
import { loadCodecSettings, loadTenantClients } from '../src/settings';
import { devInboxSecret, type TenantClient } from '../src/tenants/registry';
import { tenantPageUrls } from '../src/util/tenant-pages';
import { openAccessLog } from './access-log';
import { describeInit, initialiseKeyStore, initSettings } from '../src/keys/init';
import { writeWorkflowBundle } from './bundle-workflows';
import { SOURCE_ROOT } from '../src/worker/workflow-bundle';
import { requireVersioningServer, startDevServer, type DevServer } from './dev-server';
import { runningBlock, tryExtras } from './running-block';
import { Supervisor } from './supervisor';

const UI_PORT = Number(process.env.TEMPORAL_UI_PORT || 8233);

async function waitUntilApiReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const answer = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (answer.ok) return;
      last = ((await answer.json()) as { problems?: string[] }).problems?.join('; ') ?? `status ${answer.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`the api was not ready within ${timeoutMs / 1000} s (${last})`);
}

/**
 * A consent-only session of the first client, for the Try block: its hosted page is what a user
 * sees; for the development client it also returns to the sandbox's page and sends its webhooks
 * to the sandbox's inbox (`extras`). Null when the create fails (the block still prints; the
 * curl below shows how).
 */
async function demoSession(apiUrl: string, client: TenantClient, extras: object | null): Promise<string | null> {
  try {
    const answer = await fetch(`${apiUrl}/api/v1/public/flowx/handshake`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` },
      body: JSON.stringify({ flow: 'consent-only', tag: 'REF-try', ...extras }),
      signal: AbortSignal.timeout(10_000),
    });
    return answer.ok ? ((await answer.json()) as { url: string }).url : null;
  } catch {
    return null;
  }
}

/**
 * The embedded UI's codec URL: `temporal server start-dev` cannot make the UI send credentials,
 * so the URL itself is one, a fresh secret path each start acting as the development operator
 * (or as the operator of a CODEC_UI_CAPABILITY set by hand). It reaches the dev server through a
 * 0600 file and the codec server through its environment; it is never printed or logged.
 */
function uiCapability(devOperator: string | null): { operator: string; secret: string } | null {
  const configured = process.env.CODEC_UI_CAPABILITY;
  if (configured) {
    const split = configured.indexOf(':');
    return { operator: configured.slice(0, split), secret: configured.slice(split + 1) };
  }
  return devOperator ? { operator: devOperator, secret: randomBytes(32).toString('base64url') } : null;
}

async function main(): Promise<void> {
  // Loading the operators creates the development operator and its token file on a first start.
  const { config, operators } = exitOnConfigError(() => loadCodecSettings(process.env));
  const cli = process.env.TEMPORAL_CLI;
  if (!cli) throw new Error('TEMPORAL_CLI must name the Temporal CLI; run this through `make start`');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const temporalPort = Number(config.temporal.address.split(':')[1]);
  // Worker Versioning (docs/guides/deploying.md): each restart makes its build current
  // and hands it the workflows of the build it replaced. WORKER_DEPLOYMENT_NAME= turns it off.
  const deploymentName = process.env.WORKER_DEPLOYMENT_NAME ?? 'sessionflow';
  const versioning = deploymentName ? { WORKER_DEPLOYMENT_NAME: deploymentName, WORKER_SET_CURRENT: process.env.WORKER_SET_CURRENT ?? 'true' } : {};
  if (deploymentName) requireVersioningServer(cli);
  const codecEndpoint = `http://localhost:${config.codec.port}`;
  const capability = uiCapability(operators.source === 'dev' ? operators.registry.operators[0].name : null);
  if (!capability) process.stdout.write('note: the operators are configured and CODEC_UI_CAPABILITY is not: the embedded UI shows payloads encoded\n');
  const clients = exitOnConfigError(() => loadTenantClients(config));
  // The sandbox's inbox verifies the development client's webhooks with its secret.
  const inboxSecret = devInboxSecret(clients, tenantPageUrls(config.sandbox.port).webhookUrl);

  const accessLog = openAccessLog(config.dataDir, config.accessLog, (line) => process.stdout.write(`${line}\n`));
  const supervisor = new Supervisor((line) => process.stdout.write(`[supervisor] ${line}\n`), accessLog.sink);
  let server: DevServer | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping sessionflow...\n');
    await supervisor.stop();
    await server?.stop();
    await accessLog.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    process.stdout.write(`starting the Temporal dev server (database ${join(config.dataDir, 'temporal.db')})...\n`);
    await supervisor.keep({
      name: 'Temporal server',
      died: 'sessions wait (nothing is lost: they are in the database) and the worker and api retry until it is back',
      start: async () => {
        server = await startDevServer({
          cli,
          port: temporalPort,
          uiPort: UI_PORT,
          dbFile: join(config.dataDir, 'temporal.db'),
          logFile: join(config.dataDir, 'temporal.log'),
          // The embedded UI decodes live sessions' payloads through the codec server below.
          ...(capability
            ? { uiCodecEndpoint: { url: `${codecEndpoint}${UI_CAPABILITY_PREFIX}${capability.secret}`, cliEnvFile: join(config.dataDir, 'temporal-cli.env.yaml') } }
            : {}),
        });
        return server.process;
      },
    });
    if (!server) throw new Error('the Temporal dev server did not start');
    const temporal: DevServer = server;
    // Bundled once here, so the worker starts at once and quietly.
    const bundle = join(config.dataDir, 'workflow-bundle.js');
    // With tracing on (SESSIONFLOW_OTLP_ENDPOINT) the workers need the traced bundle: another build id.
    await writeWorkflowBundle(bundle, undefined, { root: SOURCE_ROOT, traced: config.tracing !== undefined });
    const env = { ...process.env, ...versioning, TEMPORAL_ADDRESS: temporal.address, WORKFLOW_BUNDLE_PATH: bundle };
    // The key store's init step, before any process that reads keys (docs/security/key-store.md).
    process.stdout.write(`${describeInit(await initialiseKeyStore(initSettings(config)))}\n`);
    // The Attestr sandbox posts completions to the api's webhook, as Attestr would.
    const webhook = config.sandbox.attestrWebhookUrl ?? `http://127.0.0.1:${config.api.port}/webhooks/attestr`;
    const sandboxEnv = { ...env, ATTESTR_WEBHOOK_URL: webhook, ...(inboxSecret ? { SANDBOX_INBOX_WEBHOOK_SECRET: inboxSecret } : {}) };
    await supervisor.startService({ name: 'sandbox', entry: 'src/sandbox/main.ts', env: sandboxEnv, ready: /listening on/ });
    await supervisor.startService({ name: 'worker', entry: 'src/worker.ts', env, ready: /polling task queue/ });
    await supervisor.startService({ name: 'api', entry: 'src/api/main.ts', env, ready: /Server listening at/ });
    const uiOrigin = `http://localhost:${UI_PORT}`;
    const codecEnv = { ...env, CODEC_UI_ORIGIN: process.env.CODEC_UI_ORIGIN || uiOrigin, ...(capability ? { CODEC_UI_CAPABILITY: `${capability.operator}:${capability.secret}` } : {}) };
    await supervisor.startService({ name: 'codec', entry: 'src/codec-server.ts', env: codecEnv, ready: /codec server listening/ });
    // "running" only once a create would succeed: the api's own /readyz says so.
    await waitUntilApiReady(`http://127.0.0.1:${config.api.port}/readyz`, 60_000);
  } catch (err) {
    process.stderr.write(`make start failed: ${(err as Error).message}\n`);
    await stopAll(1);
    return;
  }
  const temporal: DevServer = server!;
  const hostedUrl = await demoSession(`http://localhost:${config.api.port}`, clients.clients[0], tryExtras(clients, config.sandbox.port));
  const demoId = hostedUrl ? /\/flow\/([^/?#]+)/.exec(hostedUrl)?.[1] : undefined;

  process.stdout.write(
    runningBlock({
      config,
      apiUrls: [`http://localhost:${config.api.port}`],
      uiUrl: temporal.uiUrl ?? null,
      temporalAddress: temporal.address,
      sandboxUrl: `http://localhost:${config.sandbox.port}`,
      headline: `sessionflow is running. Ctrl-C stops it; sessions are kept in ${config.dataDir}/ for the next start.`,
      extra: [
        `  codec        ${codecEndpoint}   (${operators.source === 'dev' ? `operator ${operators.registry.operators[0].name}, token in ${operators.devTokenFile}` : 'configured operators'})`,
        // One step to sign a browser in as the development admin. The token itself stays in its
        // 0600 file: this block may be copied into a ticket or a shared terminal log.
        ...(operators.source === 'dev' ? [`  sign in      ${codecEndpoint}/auth   (as ${operators.registry.operators[0].name}: paste the token \`cat ${operators.devTokenFile}\` prints)`] : []),
        ...(accessLog.file ? [`  access log   ${accessLog.file}   (SESSIONFLOW_ACCESS_LOG=stdout prints it here)`] : []),
      ],
      clients,
      ...(hostedUrl ? { hostedUrl } : {}),
      operatorCommand: { codecUrl: codecEndpoint, tokenFile: operators.devTokenFile ?? null, ...(demoId ? { workflowId: sessionWorkflowId(demoId) } : {}) },
    }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`make start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
