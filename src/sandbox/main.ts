/** Process entry for the provider sandboxes: `npx tsx src/sandbox/main.ts`. */
import { loadConfigOrExit } from '../config';
import { startSandbox } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { attestr, finqware } = config.providers;
  const sandbox = await startSandbox({
    host: config.sandbox.host,
    port: config.sandbox.port,
    attestr: { clientId: attestr.clientId, secret: attestr.secret, webhookUrl: config.sandbox.attestrWebhookUrl },
    finqware: { clientId: finqware.clientId, appKey: finqware.secret },
    ...(config.sandbox.inboxWebhookSecret ? { inboxWebhookSecret: config.sandbox.inboxWebhookSecret } : {}),
    logger: config.logLevel === 'debug' || config.logLevel === 'trace',
  });
  process.stdout.write(`sandbox listening on ${sandbox.url}\n`);

  const stop = (): void => {
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`sandbox: close failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
