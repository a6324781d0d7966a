/**
 * The embedded default key store: one file per key under `<dataDir>/keys/`, each holding the
 * wrapped key. Writes go to a temporary file that is then linked or renamed into place, so a
 * reader never sees half a record. Destroying replaces the record with a tombstone by rename:
 * the wrapped key is gone from the store, and the tombstone keeps the id from being reused.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { link, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { unwrapKey, wrapKey, type Kek, type WrappedKey } from './kek';
import { assertKeyId, KeyDestroyedError, KeyStoreUnavailableError } from './errors';
import type { KeyStore } from './key-store';

type KeyRecord = WrappedKey | { destroyed: number };

function isTombstone(record: KeyRecord): record is { destroyed: number } {
  return 'destroyed' in record;
}

export class FileKeyStore implements KeyStore {
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly keks: readonly Kek[],
  ) {
    if (keks.length === 0) throw new Error('at least one KEK is needed');
    this.dir = join(dataDir, 'keys');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private path(keyId: string): string {
    assertKeyId(keyId);
    return join(this.dir, `${keyId}.json`);
  }

  private async read(keyId: string): Promise<KeyRecord | null> {
    let text: string;
    try {
      text = await readFile(this.path(keyId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new KeyStoreUnavailableError(`cannot read the keys folder (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      return JSON.parse(text) as KeyRecord;
    } catch {
      throw new KeyStoreUnavailableError('a key record is damaged');
    }
  }

  /** Writes `record` to a fresh temporary file, flushed to disk, and answers its path. */
  private async writeTemporary(record: KeyRecord): Promise<string> {
    const temporary = join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      const file = await open(temporary, 'wx', 0o600);
      try {
        await file.writeFile(JSON.stringify(record));
        await file.sync();
      } finally {
        await file.close();
      }
    } catch (err) {
      throw new KeyStoreUnavailableError(`cannot write the keys folder (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return temporary;
  }

  async get(keyId: string): Promise<Buffer | null> {
    const record = await this.read(keyId);
    if (!record || isTombstone(record)) return null;
    return unwrapKey(this.keks, keyId, record);
  }

  async createIfAbsent(keyId: string): Promise<Buffer> {
    const existing = await this.read(keyId);
    if (existing) {
      if (isTombstone(existing)) throw new KeyDestroyedError(keyId);
      return unwrapKey(this.keks, keyId, existing);
    }
    const temporary = await this.writeTemporary(wrapKey(this.keks[0], keyId, randomBytes(32)));
    try {
      // link() fails when the name exists: of two racing creators exactly one wins, and both
      // answer the winner's key below.
      await link(temporary, this.path(keyId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyStoreUnavailableError(`cannot write the keys folder (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    const stored = await this.read(keyId);
    if (!stored) throw new KeyStoreUnavailableError('a created key is missing');
    if (isTombstone(stored)) throw new KeyDestroyedError(keyId);
    return unwrapKey(this.keks, keyId, stored);
  }

  async destroy(keyId: string): Promise<void> {
    const temporary = await this.writeTemporary({ destroyed: Date.now() });
    try {
      await rename(temporary, this.path(keyId));
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      throw new KeyStoreUnavailableError(`cannot write the keys folder (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  async rewrapAll(): Promise<number> {
    let count = 0;
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const keyId = name.slice(0, -'.json'.length);
      const record = await this.read(keyId);
      if (!record || isTombstone(record) || record.kek === this.keks[0].id) continue;
      const temporary = await this.writeTemporary(wrapKey(this.keks[0], keyId, unwrapKey(this.keks, keyId, record)));
      await rename(temporary, this.path(keyId));
      count += 1;
    }
    return count;
  }

  async close(): Promise<void> {}
}
