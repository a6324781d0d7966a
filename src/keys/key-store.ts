/**
 * Session data keys (crypto-shredding): one random 256-bit key per session and one per
 * namespace, stored only wrapped under a key-encryption key (KEK), outside Temporal, behind
 * this one interface. Destroying a session's key makes its history undecodable everywhere.
 *
 * A store is made by the init step (src/keys/init.ts, `npm run keys:init`): its marker and the
 * namespace key. Until then, and whenever the place it is in is missing, empty, another store's,
 * or opened under a wrong KEK, every call fails with KeyStoreUnavailableError (docs/security/key-store.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CachedKeyStore } from './cache';
import { KeyStoreUnavailableError } from './errors';
import { embeddedKek, kekOf, type Kek } from './kek';
import { FileKeyStore } from './file-store';
import { PostgresKeyStore } from './pg-store';

export { assertKeyId, KEY_ID_PATTERN, KeyDestroyedError, KeyStoreUnavailableError } from './errors';
export { isNamespaceKeyId, namespaceKeyId, sessionKeyId } from './key-ids';

export interface KeyStore {
  /** The key, or null when it never existed or was destroyed (in a store verified to be this one). */
  get(keyId: string): Promise<Buffer | null>;
  /** A session's key: creates a random key unless one exists; returns the stored one. Never a namespace key. */
  createIfAbsent(keyId: string): Promise<Buffer>;
  /** Destroys the key; idempotent. */
  destroy(keyId: string): Promise<void>;
  /** Rewraps every stored key (and the check record) under the first (newest) KEK; answers how many keys were rewrapped. */
  rewrapAll(): Promise<number>;
  /** Readiness: throws KeyStoreUnavailableError unless the store is this one, its KEK opens it and `namespace`'s key is there. */
  check(namespace: string): Promise<void>;
  /** Releases connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

export interface KeyStoreInit {
  storeId: string;
  /** `created`: a new store; `adopted`: an existing store's keys, marked now; `ready`: marked before. */
  outcome: 'created' | 'adopted' | 'ready';
  adoptedKeys: number;
  namespaceKeyCreated: boolean;
}

/** A store the init step can make: its place, its marker, the namespace's key. */
export interface InitialisableKeyStore extends KeyStore {
  initialise(namespace: string): Promise<KeyStoreInit>;
}

export interface KeyStoreConfig {
  dataDir: string;
  /** `postgres://...`: the PostgreSQL store; absent: the file store under `<dataDir>/keys/`. */
  keyStoreUrl?: string;
  /** KEKs from SESSIONFLOW_KEK / SESSIONFLOW_KEK_FILE, newest first; absent: the one the init step generated in devKekDir. */
  keks?: Buffer[];
  /** Where the generated development KEK lives, outside dataDir (src/keys/kek.ts embeddedKek). */
  devKekDir: string;
  /** SESSIONFLOW_KEY_STORE_ID: the store every process expects. */
  keyStoreId?: string;
}

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

/** The configured store behind the in-memory cache, for the api and the worker. */
export function openCachedKeyStore(config: KeyStoreConfig): CachedKeyStore {
  return new CachedKeyStore(openKeyStore(config));
}
