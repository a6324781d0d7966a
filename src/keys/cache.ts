/**
 * Key lookups of the api and the worker, cached in memory so steady-state steps do not reach
 * the store: at most KEY_CACHE_MAX_ENTRIES keys, each for at most KEY_CACHE_TTL_MS after it was
 * read. A key destroyed elsewhere is therefore still usable by a process that read it for at
 * most KEY_CACHE_TTL_MS (30 seconds): the longest any process can decode a shredded session.
 * Expired keys leave the cache as soon as another key is remembered, not only when read again:
 * a session's key is read during its steps and rarely after, so waiting for a read would keep
 * up to KEY_CACHE_MAX_ENTRIES keys of ended sessions in memory (the soak saw the api grow by them).
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
    // Map keeps insertion order and every entry lives as long: the first is the first to expire.
    const now = this.now();
    for (const [oldest, entry] of this.entries) {
      if (entry.until > now && this.entries.size < this.maxEntries) break;
      this.entries.delete(oldest);
    }
    // A copy of its own: a small Buffer is often a slice of a shared 8 KiB pool, which a cached
    // slice would keep alive whole.
    const own = Buffer.alloc(key.length);
    key.copy(own);
    this.entries.set(keyId, { key: own, until: now + this.ttlMs });
    return own;
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
