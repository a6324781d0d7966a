import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { FileKeyStore } from '../../src/keys/file-store';
import { kekOf, type Kek } from '../../src/keys/kek';
import { KeyStoreUnavailableError, type KeyStore } from '../../src/keys/key-store';

/** A key store every call of which fails as an unreachable one does: for the fail-closed paths. */
export function unreachableKeyStore(): KeyStore {
  const down = () => Promise.reject(new KeyStoreUnavailableError('down'));
  return { get: down, createIfAbsent: down, destroy: down, rewrapAll: down, check: down, close: async () => undefined };
}

/** A file store in a fresh folder under .data/, made by the init step (its namespace key: `default`'s). */
export async function initialisedFileStore(prefix: string, kek: Kek = kekOf(randomBytes(32))): Promise<FileKeyStore> {
  const store = new FileKeyStore(mkdtempSync(join('.data', prefix)), [kek]);
  await store.initialise('default');
  return store;
}
