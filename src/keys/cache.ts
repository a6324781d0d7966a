/**
 * Key lookups of the api and the worker, cached in memory so steady-state steps do not reach
 * the store: at most KEY_CACHE_MAX_ENTRIES keys, each for at most KEY_CACHE_TTL_MS after it was
 * read. A key destroyed elsewhere is therefore still usable by a process that read it for at
 * most KEY_CACHE_TTL_MS (30 seconds): the longest any process can decode a shredded session.
 * Absent and destroyed keys are never cached. The codec server does not use this cache.
 */
import type { KeyStore } from './key-store';

export const KEY_CACHE_TTL_MS = 30_000;
export const KEY_CACHE_MAX_ENTRIES = 10_000;

export interface KeyCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  /** Injectable for tests; Date.now by default. */
  now?: () => number;
}

export class CachedKeyStore implements KeyStore {
  private readonly entries = new Map<string, { key: Buffer; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Store reads made, for the bench and tests. */
  storeReads = 0;

  constructor(
    readonly inner: KeyStore,
    options: KeyCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? KEY_CACHE_TTL_MS;
    this.maxEntries = options.maxEntries ?? KEY_CACHE_MAX_ENTRIES;
    this.now = options.now ?? Date.now;
  }

  private cached(keyId: string): Buffer | null {
    const entry = this.entries.get(keyId);
    if (!entry) return null;
    if (entry.until <= this.now()) {
      this.entries.delete(keyId);
      return null;
    }
    return entry.key;
  }

  private remember(keyId: string, key: Buffer): Buffer {
    this.entries.delete(keyId);
    // Map keeps insertion order: the first entry is the one read longest ago.
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(keyId, { key, until: this.now() + this.ttlMs });
    return key;
  }

  async get(keyId: string): Promise<Buffer | null> {
    const hit = this.cached(keyId);
    if (hit) return hit;
    this.storeReads += 1;
    const key = await this.inner.get(keyId);
    return key ? this.remember(keyId, key) : null;
  }

  async createIfAbsent(keyId: string): Promise<Buffer> {
    const hit = this.cached(keyId);
    if (hit) return hit;
    this.storeReads += 1;
    return this.remember(keyId, await this.inner.createIfAbsent(keyId));
  }

  async destroy(keyId: string): Promise<void> {
    this.entries.delete(keyId);
    await this.inner.destroy(keyId);
  }

  get size(): number {
    return this.entries.size;
  }

  rewrapAll(): Promise<number> {
    return this.inner.rewrapAll();
  }

  /** Never from the cache: readiness is about the store as it is now. */
  check(namespace: string): Promise<void> {
    return this.inner.check(namespace);
  }

  close(): Promise<void> {
    this.entries.clear();
    return this.inner.close();
  }
}
