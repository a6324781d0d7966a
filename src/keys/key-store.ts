/**
 * Session data keys (crypto-shredding): one random 256-bit key per session and one per
 * namespace, stored only wrapped under a key-encryption key (KEK), outside Temporal, behind
 * this one interface. Destroying a session's key makes its history undecodable everywhere.
 *
 * A store is made by the init step (src/keys/init.ts, `npm run keys:init`): its marker and the
 * namespace key. Until then, and whenever the place it is in is missing, empty, another store's,
 * or opened under a wrong KEK, every call fails with KeyStoreUnavailableError (docs/security/key-store.md).
 * The stores implement this interface; src/keys/open-store.ts opens the configured one.
 */
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
