/**
 * `npm run keys:init` and docker-compose's key-store-init job: the init step for the configured
 * key store (src/keys/init.ts). Run it before the api, the worker and the codec server; they
 * never create a store or a namespace key themselves. Exit 0 once the store is ready; 1 with one
 * line saying why not (nothing is created then).
 */
import { loadConfigOrExit } from './config';
import { describeInit, initialiseKeyStore, initSettings } from './keys/init';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const result = await initialiseKeyStore(initSettings(config));
  process.stdout.write(`keys:init: ${describeInit(result)}\n`);
  if (!config.keys.keyStoreId) process.stdout.write(`keys:init: set SESSIONFLOW_KEY_STORE_ID=${result.storeId} on every process to have them insist on this store\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`keys:init failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
