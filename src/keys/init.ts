/**
 * The init step: the one place a key store is made. It creates the place (the keys folder, or
 * the PostgreSQL tables), marks it with a new store id and a check record under the KEK, adopts
 * an existing store's keys once (only when every one of them unwraps under the configured KEKs),
 * and creates the namespace key. Idempotent: on a marked store it verifies and changes nothing.
 *
 * `npm run keys:init` (src/key-store-init.ts), `make start`, `make cluster`, the tests' stacks
 * and docker-compose's key-store-init job all run this function before any api or worker.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EncryptionConfig } from './encryption';
import { KeyStoreUnavailableError } from './errors';
import { createEmbeddedKek, hasEmbeddedKek, kekOf } from './kek';
import type { KeyStoreConfig, KeyStoreInit } from './key-store';
import { openInitialisableStore, RECORDED_STORE_ID_FILE, recordedStoreId } from './open-store';

export interface KeyStoreInitConfig extends KeyStoreConfig {
  /** The Temporal namespace whose key is created. */
  namespace: string;
}

/** The init step's settings in a loaded configuration. */
export function initSettings(config: EncryptionConfig): KeyStoreInitConfig {
  return { dataDir: config.dataDir, ...config.keys, namespace: config.temporal.namespace };
}

export async function initialiseKeyStore(config: KeyStoreInitConfig): Promise<KeyStoreInit> {
  const fileStore = !config.keyStoreUrl;
  const recorded = fileStore ? recordedStoreId(config.dataDir) : undefined;
  const configured = config.keks && config.keks.length > 0 ? config.keks.map(kekOf) : null;
  // A KEK is generated only with a new store: an existing one's (an id is expected) would not be opened by it.
  const expected = config.keyStoreId ?? recorded;
  if (!configured && expected && !hasEmbeddedKek(config.dataDir)) {
    throw new KeyStoreUnavailableError(`the data directory has no generated KEK, and key store ${expected} is expected`);
  }
  const keks = configured ?? [createEmbeddedKek(config.dataDir, config.devKekDir)];
  const store = openInitialisableStore(config, keks);
  try {
    const result = await store.initialise(config.namespace);
    // The file store's id, recorded beside the keys folder: a folder swapped for another (an
    // unmounted volume, another store) is then noticed by every process and by the next init.
    // (A recorded id was the expected one: initialise verified the store against it.)
    if (fileStore && !config.keyStoreId && !recorded) {
      const temporary = join(config.dataDir, `.${RECORDED_STORE_ID_FILE}-${randomBytes(6).toString('hex')}`);
      writeFileSync(temporary, `${result.storeId}\n`, { mode: 0o600 });
      renameSync(temporary, join(config.dataDir, RECORDED_STORE_ID_FILE));
    }
    return result;
  } finally {
    await store.close();
  }
}

/** One line saying what the init step did, for its callers to print. */
export function describeInit(result: KeyStoreInit): string {
  const namespaceKey = result.namespaceKeyCreated ? '; namespace key created' : '';
  if (result.outcome === 'created') return `key store ${result.storeId} created${namespaceKey}`;
  if (result.outcome === 'adopted') return `key store ${result.storeId}: ${result.adoptedKeys} existing key(s) adopted${namespaceKey}`;
  return `key store ${result.storeId} ready${namespaceKey}`;
}
