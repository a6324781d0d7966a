/**
 * The api process: validated config, one Temporal client, graceful close on SIGINT/SIGTERM
 * (stop accepting, let in-flight requests finish, then exit).
 */
import { loadConfigOrExit } from '../config';
import { connectClient } from '../temporal';
import { buildApp } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const temporal = await connectClient(config.temporal);
  const app = buildApp({ config, temporal, logger: { level: config.logLevel } });
  await app.listen({ host: config.api.host, port: config.api.port });
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
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
