/**
 * Opens the key store the configuration names (files under `<dataDir>/keys/`, or PostgreSQL),
 * apart from the interface it implements (key-store.ts), which the stores import.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyStoreUnavailableError } from './errors';
import { embeddedKek, kekOf, type Kek } from './kek';
import { FileKeyStore } from './file-store';
import type { InitialisableKeyStore, KeyStore, KeyStoreConfig } from './key-store';
import { PostgresKeyStore } from './pg-store';

/** Where the init step records the file store's id, beside (not inside) the keys folder. */
export const RECORDED_STORE_ID_FILE = 'key-store-id';

/** The file store's id as the init step recorded it in the data directory, if it did. */
export function recordedStoreId(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, RECORDED_STORE_ID_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function configuredKeks(config: KeyStoreConfig): Kek[] {
  return config.keks && config.keks.length > 0 ? config.keks.map(kekOf) : [embeddedKek(config.dataDir, config.devKekDir)];
}

/** The store the configuration names, as the init step sees it. */
export function openInitialisableStore(config: KeyStoreConfig, keks: Kek[]): InitialisableKeyStore {
  if (config.keyStoreUrl) return new PostgresKeyStore(config.keyStoreUrl, keks, config.keyStoreId ? { expectedStoreId: config.keyStoreId } : {});
  const expectedStoreId = config.keyStoreId ?? recordedStoreId(config.dataDir);
  return new FileKeyStore(config.dataDir, keks, expectedStoreId ? { expectedStoreId } : {});
}

/** Every call fails with `problem`: the store cannot even be opened (its generated KEK is missing). */
function unavailableStore(problem: KeyStoreUnavailableError): KeyStore {
  const fail = () => Promise.reject(problem);
  return { get: fail, createIfAbsent: fail, destroy: fail, rewrapAll: fail, check: fail, close: async () => undefined };
}

/** The configured store, without a cache (the codec server and key tools read it directly). */
export function openKeyStore(config: KeyStoreConfig): KeyStore {
  let keks: Kek[];
  try {
    keks = configuredKeks(config);
  } catch (err) {
    if (err instanceof KeyStoreUnavailableError) return unavailableStore(err);
    throw err;
  }
  return openInitialisableStore(config, keks);
}
