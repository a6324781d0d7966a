/**
 * `npm run keys:rewrap`: rewraps every data key under the newest KEK (the first of
 * SESSIONFLOW_KEK / SESSIONFLOW_KEK_FILE), in the configured key store. Run it after putting a
 * new KEK first; once it reports, the old KEKs can be removed from the configuration.
 */
import { loadConfigOrExit } from '../src/config';
import { openKeyStore } from '../src/keys/open-store';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const store = openKeyStore({ dataDir: config.dataDir, ...config.keys });
  try {
    const count = await store.rewrapAll();
    process.stdout.write(`keys:rewrap: ${count} data key(s) rewrapped under the newest KEK\n`);
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`keys:rewrap failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
