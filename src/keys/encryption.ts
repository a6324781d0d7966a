/**
 * One process's encryption: the configured key store behind the cache, the codec over it, and
 * the data converter every Temporal client and worker of the project is built with.
 */
import type { DataConverter } from '@temporalio/common';
import type { KeysConfig } from '../config';
import { CachedKeyStore } from './cache';
import { EncryptionCodec, encryptingDataConverter } from './codec';
import type { KeyStoreUnavailableError } from './errors';
import { openKeyStore } from './open-store';

export interface Encryption {
  keys: CachedKeyStore;
  codec: EncryptionCodec;
  /** For clients: a payload that cannot be decrypted is an error. */
  dataConverter: DataConverter;
  /** For workers: such a payload decodes to a value the workflow refuses (see codec.ts). */
  workerDataConverter: DataConverter;
  close(): Promise<void>;
}

/** The slice of the configuration encryption is handed. */
export interface EncryptionConfig {
  dataDir: string;
  keys: KeysConfig;
  temporal: { namespace: string };
}

export function openEncryption(config: EncryptionConfig, onKeyStoreError?: (err: KeyStoreUnavailableError) => void): Encryption {
  const keys = new CachedKeyStore(openKeyStore({ dataDir: config.dataDir, ...config.keys }), { ttlMs: config.keys.cacheSeconds * 1000 });
  const options = { namespace: config.temporal.namespace, ...(onKeyStoreError ? { onKeyStoreError } : {}) };
  const codec = new EncryptionCodec(keys, options);
  const workerCodec = new EncryptionCodec(keys, { ...options, refuseUndecryptable: true });
  return { keys, codec, dataConverter: encryptingDataConverter(codec), workerDataConverter: encryptingDataConverter(workerCodec), close: () => keys.close() };
}
