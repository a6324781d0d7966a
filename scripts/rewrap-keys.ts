/**
 * `npm run keys:rewrap`: rewraps every data key under the newest KEK (the first of
 * SESSIONFLOW_KEK / SESSIONFLOW_KEK_FILE), in the configured key store. Run it after putting a
 * new KEK first; once it reports, the old KEKs can be removed from the configuration. The run is
 * audited (intent, rewrap, outcome, naming the newest KEK's id); no intent, no rewrap.
 */
import { loadConfigOrExit } from '../src/config';
import { configuredKeks, openKeyStore } from '../src/keys/open-store';
import { configuredAuditTrail } from '../src/audit/trail';
import { cliActor } from './audit-actor';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const store = openKeyStore({ dataDir: config.dataDir, ...config.keys });
  const audit = configuredAuditTrail(config);
  try {
    const kek = configuredKeks({ dataDir: config.dataDir, ...config.keys })[0].id;
    const count = await audit.audited({ actor: cliActor(), action: 'keys.rewrap', detail: { kek } }, () => store.rewrapAll(), { detail: (rewrapped) => ({ kek, rewrapped }) });
    process.stdout.write(`keys:rewrap: ${count} data key(s) rewrapped under the newest KEK\n`);
  } finally {
    await store.close();
    await audit.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`keys:rewrap failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
