/**
 * What makes a place (a folder, a database) a key store: a marker written only by the init step
 * (src/keys/init.ts), holding the store's id and a check record, a random value wrapped under
 * the KEK. A place without it (a missing or empty folder, an unmounted volume, an empty or
 * other database) is never read as "no keys yet": every call fails as unavailable and nothing
 * is written there. A check record the configured KEKs cannot open means a wrong KEK; an id
 * other than the expected one, another store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { KeyStoreUnavailableError } from './errors';
import { unwrapKey, wrapKey, type Kek, type WrappedKey } from './kek';

export interface StoreMarker {
  v: 1;
  /** Made at initialisation; processes compare it with the id they expect. */
  storeId: string;
  /** A random value wrapped under the KEK: it unwraps only under a KEK that opens this store. */
  check: WrappedKey;
  /** How many keys the store already held when it was first marked (an existing store adopted). */
  adoptedKeys: number;
  createdAt: string;
}

export const NOT_INITIALISED = 'it is not initialised (no store marker: a missing or empty folder, an empty database); run `npm run keys:init`';

/** The check record is bound to its store id (the wrap's additional data): it cannot be copied to another store. */
const checkKeyId = (storeId: string) => `key-store-check-${storeId}`;

export function newMarker(kek: Kek, adoptedKeys: number): StoreMarker {
  const storeId = randomUUID();
  return { v: 1, storeId, check: wrapKey(kek, checkKeyId(storeId), randomBytes(32)), adoptedKeys, createdAt: new Date().toISOString() };
}

/** The marker with its check record wrapped under the newest KEK (a KEK rotation: keys:rewrap). */
export function rewrapMarker(marker: StoreMarker, keks: readonly Kek[]): StoreMarker {
  const value = unwrapKey(keks, checkKeyId(marker.storeId), marker.check);
  return { ...marker, check: wrapKey(keks[0], checkKeyId(marker.storeId), value) };
}

export function isMarker(value: unknown): value is StoreMarker {
  const marker = value as StoreMarker | null;
  return typeof marker === 'object' && marker !== null && marker.v === 1 && typeof marker.storeId === 'string' && typeof marker.check === 'object' && marker.check !== null;
}

/**
 * One process's view of its store: the id it expects (configured, recorded, or else the first
 * one it verified, so a store swapped under a running process is noticed) and its KEKs.
 */
export class StoreIdentity {
  private expected: string | undefined;

  constructor(
    readonly keks: readonly Kek[],
    expectedStoreId?: string,
  ) {
    if (keks.length === 0) throw new Error('at least one KEK is needed');
    this.expected = expectedStoreId;
  }

  /** The id this process insists on, if any yet. */
  get expectedStoreId(): string | undefined {
    return this.expected;
  }

  /** Answers the marker when it is this store's and the KEKs open it; throws KeyStoreUnavailableError otherwise. */
  verify(marker: unknown): StoreMarker {
    if (marker === null || marker === undefined) throw new KeyStoreUnavailableError(NOT_INITIALISED);
    if (!isMarker(marker)) throw new KeyStoreUnavailableError('its store marker is damaged');
    if (this.expected !== undefined && marker.storeId !== this.expected) {
      throw new KeyStoreUnavailableError('it is another key store than the expected one (SESSIONFLOW_KEY_STORE_ID, the id recorded at initialisation, or the one this process opened first)');
    }
    try {
      unwrapKey(this.keks, checkKeyId(marker.storeId), marker.check);
    } catch {
      throw new KeyStoreUnavailableError('the configured KEKs do not open its check record (a wrong KEK)');
    }
    this.expected = marker.storeId;
    return marker;
  }
}

/**
 * An existing store's keys, before it is marked: every one must unwrap under the configured
 * KEKs, or the KEK is wrong and marking the store under it would hide that. Answers the count.
 */
export function adoptable(keks: readonly Kek[], keys: ReadonlyMap<string, WrappedKey>): number {
  let failed = 0;
  for (const [keyId, wrapped] of keys) {
    try {
      unwrapKey(keks, keyId, wrapped);
    } catch {
      failed += 1;
    }
  }
  if (failed > 0) throw new KeyStoreUnavailableError(`${failed} of its ${keys.size} keys do not unwrap under the configured KEKs (a wrong KEK?); nothing was adopted`);
  return keys.size;
}
