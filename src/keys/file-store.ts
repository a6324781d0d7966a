/**
 * The embedded default key store: one file per key under `<dataDir>/keys/`, each holding the
 * wrapped key, and the store marker (store-marker.ts) in `key-store.marker`. Writes go to a
 * temporary file that is then linked or renamed into place, so a reader never sees half a
 * record. Destroying replaces the record with a tombstone by rename: the wrapped key is gone
 * from the store, and the tombstone keeps the id from being reused.
 *
 * Only the init step creates the folder and the marker. Every call reads and verifies the marker
 * first, so a missing, empty or other folder is unavailable, never empty, and nothing is written
 * into it.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { unwrapKey, wrapKey, type Kek, type WrappedKey } from './kek';
import { assertKeyId, KeyDestroyedError, KeyStoreUnavailableError } from './errors';
import { isNamespaceKeyId, namespaceKeyId } from './key-ids';
import type { InitialisableKeyStore, KeyStoreInit } from './key-store';
import { adoptable, newMarker, rewrapMarker, StoreIdentity, type StoreMarker } from './store-marker';

type KeyRecord = WrappedKey | { destroyed: number };

/** Not `<id>.json`, so no key id can name it. */
const MARKER_FILE = 'key-store.marker';

function isTombstone(record: KeyRecord): record is { destroyed: number } {
  return 'destroyed' in record;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? 'error';

export class FileKeyStore implements InitialisableKeyStore {
  private readonly dir: string;
  private readonly identity: StoreIdentity;

  constructor(
    dataDir: string,
    private readonly keks: readonly Kek[],
    options: { expectedStoreId?: string } = {},
  ) {
    this.identity = new StoreIdentity(keks, options.expectedStoreId);
    this.dir = join(dataDir, 'keys');
  }

  private path(keyId: string): string {
    assertKeyId(keyId);
    return join(this.dir, `${keyId}.json`);
  }

  /** The parsed file, or null when it (or the folder) does not exist. */
  private async readJson(path: string, what: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw new KeyStoreUnavailableError(`cannot read the keys folder (${code(err)})`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new KeyStoreUnavailableError(`${what} is damaged`);
    }
  }

  private read(keyId: string): Promise<KeyRecord | null> {
    return this.readJson(this.path(keyId), 'a key record') as Promise<KeyRecord | null>;
  }

  /** Throws unless the folder is this store, opened by the configured KEKs. */
  private async verified(): Promise<StoreMarker> {
    return this.identity.verify(await this.readJson(join(this.dir, MARKER_FILE), 'the store marker'));
  }

  /** Writes `record` to a fresh temporary file, flushed to disk, and answers its path. */
  private async writeTemporary(record: KeyRecord | StoreMarker): Promise<string> {
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
      throw new KeyStoreUnavailableError(`cannot write the keys folder (${code(err)})`);
    }
    return temporary;
  }

  /** Puts `record` at `path` unless something is there already; false when it was. */
  private async place(path: string, record: KeyRecord | StoreMarker): Promise<boolean> {
    const temporary = await this.writeTemporary(record);
    try {
      // link() fails when the name exists: of two racing creators exactly one wins.
      await link(temporary, path);
      return true;
    } catch (err) {
      if (code(err) !== 'EEXIST') throw new KeyStoreUnavailableError(`cannot write the keys folder (${code(err)})`);
      return false;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
  }

  async get(keyId: string): Promise<Buffer | null> {
    // "No key" only from a folder that is this store: a missing or swapped folder is not empty.
    await this.verified();
    const record = await this.read(keyId);
    return record && !isTombstone(record) ? unwrapKey(this.keks, keyId, record) : null;
  }

  async createIfAbsent(keyId: string): Promise<Buffer> {
    if (isNamespaceKeyId(keyId)) throw new Error('namespace keys are made by the init step only');
    return this.create(keyId);
  }

  private async create(keyId: string): Promise<Buffer> {
    // Nothing is written into a place that is not this store, nor under a KEK that does not open it.
    await this.verified();
    const existing = await this.read(keyId);
    if (existing) {
      if (isTombstone(existing)) throw new KeyDestroyedError(keyId);
      return unwrapKey(this.keks, keyId, existing);
    }
    await this.place(this.path(keyId), wrapKey(this.keks[0], keyId, randomBytes(32)));
    const stored = await this.read(keyId);
    if (!stored) throw new KeyStoreUnavailableError('a created key is missing');
    if (isTombstone(stored)) throw new KeyDestroyedError(keyId);
    return unwrapKey(this.keks, keyId, stored);
  }

  async destroy(keyId: string): Promise<void> {
    const path = this.path(keyId);
    await this.verified();
    const temporary = await this.writeTemporary({ destroyed: Date.now() });
    try {
      await rename(temporary, path);
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      throw new KeyStoreUnavailableError(`cannot write the keys folder (${code(err)})`);
    }
  }

  private async replace(path: string, record: KeyRecord | StoreMarker): Promise<void> {
    const temporary = await this.writeTemporary(record);
    await rename(temporary, path);
  }

  /** The wrapped keys in the folder, by id (tombstones left out). */
  private async wrappedKeys(): Promise<Map<string, WrappedKey>> {
    const keys = new Map<string, WrappedKey>();
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const keyId = name.slice(0, -'.json'.length);
      const record = await this.read(keyId);
      if (record && !isTombstone(record)) keys.set(keyId, record);
    }
    return keys;
  }

  async rewrapAll(): Promise<number> {
    const marker = await this.verified();
    let count = 0;
    for (const [keyId, record] of await this.wrappedKeys()) {
      if (record.kek === this.keks[0].id) continue;
      await this.replace(this.path(keyId), wrapKey(this.keks[0], keyId, unwrapKey(this.keks, keyId, record)));
      count += 1;
    }
    // Last, so the old KEKs can go once this answered.
    if (marker.check.kek !== this.keks[0].id) await this.replace(join(this.dir, MARKER_FILE), rewrapMarker(marker, this.keks));
    return count;
  }

  async check(namespace: string): Promise<void> {
    if (!(await this.get(namespaceKeyId(namespace)))) throw new KeyStoreUnavailableError('its namespace key is missing');
  }

  async initialise(namespace: string): Promise<KeyStoreInit> {
    let marker = await this.readJson(join(this.dir, MARKER_FILE), 'the store marker');
    let outcome: KeyStoreInit['outcome'] = 'ready';
    let adoptedKeys = 0;
    if (marker === null) {
      if (this.identity.expectedStoreId) throw new KeyStoreUnavailableError(`it holds no store marker, and key store ${this.identity.expectedStoreId} is expected: is the folder the right one (a volume not mounted)?`);
      try {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new KeyStoreUnavailableError(`cannot create the keys folder (${code(err)})`);
      }
      adoptedKeys = adoptable(this.keks, await this.wrappedKeys());
      const fresh = newMarker(this.keks[0], adoptedKeys);
      // Of two racing inits one marks the store; the other verifies its marker below.
      if (await this.place(join(this.dir, MARKER_FILE), fresh)) {
        marker = fresh;
        outcome = adoptedKeys > 0 ? 'adopted' : 'created';
      } else {
        marker = await this.readJson(join(this.dir, MARKER_FILE), 'the store marker');
        adoptedKeys = 0;
      }
    }
    const { storeId } = this.identity.verify(marker);
    const keyId = namespaceKeyId(namespace);
    const existed = (await this.read(keyId)) !== null;
    await this.create(keyId);
    return { storeId, outcome, adoptedKeys, namespaceKeyCreated: !existed };
  }

  async close(): Promise<void> {}
}

