/**
 * Session data keys (crypto-shredding): one random 256-bit key per session and one per
 * namespace, stored only wrapped under a key-encryption key (KEK), outside Temporal, behind
 * this one interface. Destroying a session's key makes its history undecodable everywhere.
 */
import { createHash } from 'node:crypto';
import { CachedKeyStore } from './cache';
import { embeddedKek, kekOf, type Kek } from './kek';
import { FileKeyStore } from './file-store';
import { PostgresKeyStore } from './pg-store';

export { assertKeyId, KEY_ID_PATTERN, KeyDestroyedError, KeyStoreUnavailableError } from './errors';

export interface KeyStore {
  /** The key, or null when it never existed or was destroyed. */
  get(keyId: string): Promise<Buffer | null>;
  /** Creates a random key unless one exists; returns the stored one. */
  createIfAbsent(keyId: string): Promise<Buffer>;
  /** Destroys the key; idempotent. */
  destroy(keyId: string): Promise<void>;
  /** Rewraps every stored key under the first (newest) KEK; answers how many were rewrapped. */
  rewrapAll(): Promise<number>;
  /** Releases connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Session workflows started before handshake ids were hashed out of Temporal: `DS` + base62. */
const LEGACY_SESSION_WORKFLOW_ID = /^DS[0-9A-Za-z]{10,40}$/;
/** Session workflows: `session-<first 32 hex of sha256(sessionId)>`. */
const SESSION_WORKFLOW_ID = /^session-([0-9a-f]{32})$/;

/**
 * The data key id of a session workflow, or null for any other workflow (device clients,
 * webhook outboxes, shredders ...), whose payloads use the namespace key. The id never holds
 * the raw session id: it sits in plain payload metadata.
 */
export function sessionKeyId(workflowId: string): string | null {
  const modern = SESSION_WORKFLOW_ID.exec(workflowId);
  if (modern) return `session-${modern[1]}`;
  if (LEGACY_SESSION_WORKFLOW_ID.test(workflowId)) return `session-${createHash('sha256').update(workflowId).digest('hex').slice(0, 32)}`;
  return null;
}

/** The key of payloads that hold no personal data, readable after any session is shredded. */
export function namespaceKeyId(namespace: string): string {
  const safe = namespace.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  return `namespace-${safe}`;
}

export interface KeyStoreConfig {
  dataDir: string;
  /** `postgres://...`: the PostgreSQL store; absent: the file store under `<dataDir>/keys/`. */
  keyStoreUrl?: string;
  /** KEKs from SESSIONFLOW_KEK / SESSIONFLOW_KEK_FILE, newest first; absent: one generated in devKekDir. */
  keks?: Buffer[];
  /** Where the generated development KEK lives, outside dataDir (src/keys/kek.ts embeddedKek). */
  devKekDir: string;
}

export function configuredKeks(config: KeyStoreConfig): Kek[] {
  return config.keks && config.keks.length > 0 ? config.keks.map(kekOf) : [embeddedKek(config.dataDir, config.devKekDir)];
}

/** The configured store, without a cache (the codec server and key tools read it directly). */
export function openKeyStore(config: KeyStoreConfig): KeyStore {
  const keks = configuredKeks(config);
  return config.keyStoreUrl ? new PostgresKeyStore(config.keyStoreUrl, keks) : new FileKeyStore(config.dataDir, keks);
}

/** The configured store behind the in-memory cache, for the api and the worker. */
export function openCachedKeyStore(config: KeyStoreConfig): CachedKeyStore {
  return new CachedKeyStore(openKeyStore(config));
}
