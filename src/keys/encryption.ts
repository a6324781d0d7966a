/**
 * One process's encryption: the configured key store behind the cache, the codec over it, and
 * the data converter every Temporal client and worker of the project is built with.
 */
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { CachedKeyStore } from './cache';
import { EncryptionCodec, encryptingDataConverter } from './codec';
import type { KeyStoreUnavailableError } from './errors';
import { openKeyStore } from './key-store';

export interface Encryption {
  keys: CachedKeyStore;
  codec: EncryptionCodec;
  dataConverter: DataConverter;
  close(): Promise<void>;
}

export function openEncryption(config: Config, onKeyStoreError?: (err: KeyStoreUnavailableError) => void): Encryption {
  const keys = new CachedKeyStore(openKeyStore({ dataDir: config.dataDir, ...config.keys }), { ttlMs: config.keys.cacheSeconds * 1000 });
  const codec = new EncryptionCodec(keys, { namespace: config.temporal.namespace, ...(onKeyStoreError ? { onKeyStoreError } : {}) });
  return { keys, codec, dataConverter: encryptingDataConverter(codec), close: () => keys.close() };
}
