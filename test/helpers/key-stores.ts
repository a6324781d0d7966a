import { KeyStoreUnavailableError, type KeyStore } from '../../src/keys/key-store';

/** A key store every call of which fails as an unreachable one does: for the fail-closed paths. */
export function unreachableKeyStore(): KeyStore {
  const down = () => Promise.reject(new KeyStoreUnavailableError('down'));
  return { get: down, createIfAbsent: down, destroy: down, rewrapAll: down, close: async () => undefined };
}
