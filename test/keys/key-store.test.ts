/**
 * One suite, two stores: the file store (embedded default) and the PostgreSQL store, against
 * the real PostgreSQL that `make test` starts (scripts/with-temporal.ts sets TEST_POSTGRES_URL).
 * Each test gets a place of its own (a folder; a database), made a store by the init step, or
 * left as it is to see what a store that is not one answers (docs/security/key-store.md).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileKeyStore } from '../../src/keys/file-store';
import { kekOf, wrapKey, type Kek } from '../../src/keys/kek';
import { KeyDestroyedError, KeyStoreUnavailableError, namespaceKeyId, type InitialisableKeyStore } from '../../src/keys/key-store';
import { PostgresKeyStore } from '../../src/keys/pg-store';
import { postgresUrl, sql } from '../helpers/postgres';

const oldKek = kekOf(randomBytes(32));
const newKek = kekOf(randomBytes(32));
const NAMESPACE = 'default';

const databaseUrl = (name: string) => postgresUrl().replace(/\/[^/]+$/, `/${name}`);

interface StoreKind {
  name: string;
  /** A fresh place (a folder; a database), not yet a store. */
  place(): Promise<string>;
  /** A place that does not exist (a folder; a database). */
  missingPlace(): string;
  open(place: string, keks: Kek[], expectedStoreId?: string): InitialisableKeyStore;
  /** Every byte the store keeps for `keyId`, as it sits in the backing place. */
  raw(place: string, keyId: string): Promise<string>;
  /** Everything in the place, to see that nothing was written. */
  contents(place: string): Promise<string>;
  /** Moves the store's keys away (the folder; the keys table), and answers how to bring them back. */
  moveAway(place: string): Promise<() => Promise<void>>;
  /** Puts `from`'s marker into `place`: the place now claims to be that other store. */
  copyMarker(from: string, place: string): Promise<void>;
  /** An existing store from before markers: `keys` wrapped under `kek`, no marker, no namespace key. */
  writeUnmarked(place: string, kek: Kek, keys: Map<string, Buffer>): Promise<void>;
}

const fileKind: StoreKind = {
  name: 'file store',
  place: async () => mkdtempSync(join('.data', 'test-keys-')),
  missingPlace: () => join('.data', `test-keys-missing-${randomUUID()}`),
  open: (dir, keks, expectedStoreId) => new FileKeyStore(dir, keks, expectedStoreId ? { expectedStoreId } : {}),
  raw: async (dir, keyId) =>
    readdirSync(join(dir, 'keys'))
      .filter((name) => name.startsWith(keyId))
      .map((name) => readFileSync(join(dir, 'keys', name), 'utf8'))
      .join('\n'),
  contents: async (dir) => {
    if (!existsSync(dir)) return 'no folder';
    const keys = join(dir, 'keys');
    if (!existsSync(keys)) return `no keys folder; ${readdirSync(dir).sort().join(',')}`;
    return readdirSync(keys)
      .sort()
      .map((name) => `${name}: ${readFileSync(join(keys, name), 'utf8')}`)
      .join('\n');
  },
  moveAway: async (dir) => {
    renameSync(join(dir, 'keys'), join(dir, 'keys-away'));
    return async () => {
      rmSync(join(dir, 'keys'), { recursive: true, force: true });
      renameSync(join(dir, 'keys-away'), join(dir, 'keys'));
    };
  },
  copyMarker: async (from, dir) => writeFileSync(join(dir, 'keys', 'key-store.marker'), readFileSync(join(from, 'keys', 'key-store.marker'))),
  writeUnmarked: async (dir, kek, keys) => {
    mkdirSync(join(dir, 'keys'), { recursive: true });
    for (const [keyId, key] of keys) writeFileSync(join(dir, 'keys', `${keyId}.json`), JSON.stringify(wrapKey(kek, keyId, key)));
  },
};

const createdDatabases: string[] = [];

const postgresKind: StoreKind = {
  name: 'PostgreSQL store',
  place: async () => {
    const name = `test_keys_${randomBytes(6).toString('hex')}`;
    await sql(postgresUrl(), `CREATE DATABASE ${name}`);
    createdDatabases.push(name);
    return databaseUrl(name);
  },
  missingPlace: () => databaseUrl(`test_keys_missing_${randomBytes(6).toString('hex')}`),
  open: (url, keks, expectedStoreId) => new PostgresKeyStore(url, keks, expectedStoreId ? { expectedStoreId } : {}),
  raw: async (url, keyId) => {
    const rows = await sql<{ wrapped: string | null }>(url, 'SELECT wrapped::text AS wrapped FROM sessionflow_data_keys WHERE key_id = $1', [keyId]);
    return rows.map((row) => row.wrapped ?? '').join('\n');
  },
  contents: async (url) => {
    const name = url.slice(url.lastIndexOf('/') + 1);
    if ((await sql(postgresUrl(), 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 0) return 'no database';
    const tables = (await sql<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).map((t) => t.table_name);
    const rows = await Promise.all(tables.map(async (table) => `${table}: ${JSON.stringify(await sql(url, `SELECT * FROM ${table} ORDER BY 1`))}`));
    return rows.join('\n');
  },
  moveAway: async (url) => {
    await sql(url, 'ALTER TABLE sessionflow_data_keys RENAME TO sessionflow_data_keys_away');
    return async () => {
      await sql(url, 'ALTER TABLE sessionflow_data_keys_away RENAME TO sessionflow_data_keys');
    };
  },
  copyMarker: async (from, url) => {
    const [{ marker }] = await sql<{ marker: string }>(from, 'SELECT marker::text AS marker FROM sessionflow_key_store');
    await sql(url, 'UPDATE sessionflow_key_store SET marker = $1', [marker]);
  },
  writeUnmarked: async (url, kek, keys) => {
    // The table as stores before markers created it on first use.
    await sql(url, 'CREATE TABLE sessionflow_data_keys (key_id text PRIMARY KEY, wrapped jsonb, created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz)');
    for (const [keyId, key] of keys) await sql(url, 'INSERT INTO sessionflow_data_keys (key_id, wrapped) VALUES ($1, $2)', [keyId, JSON.stringify(wrapKey(kek, keyId, key))]);
  },
};

afterAll(async () => {
  for (const name of createdDatabases) await sql(postgresUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe.each([fileKind, postgresKind])('$name', (kind) => {
  const opened: InitialisableKeyStore[] = [];
  const open = (place: string, keks: Kek[] = [newKek], expectedStoreId?: string) => {
    const store = kind.open(place, keks, expectedStoreId);
    opened.push(store);
    return store;
  };
  /** A place the init step made a store of, under `kek`. */
  const initialised = async (kek: Kek = newKek) => {
    const place = await kind.place();
    await open(place, [kek]).initialise(NAMESPACE);
    return place;
  };
  const keyId = () => `session-${randomBytes(16).toString('hex')}`;
  const unavailable = expect.any(KeyStoreUnavailableError);

  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  test('creates a random 256-bit key once and answers the same key afterwards', async () => {
    const store = open(await initialised());
    const id = keyId();
    expect(await store.get(id)).toBeNull();
    const key = await store.createIfAbsent(id);
    expect(key).toHaveLength(32);
    expect((await store.createIfAbsent(id)).equals(key)).toBe(true);
    expect((await store.get(id))?.equals(key)).toBe(true);
    const other = await store.createIfAbsent(keyId());
    expect(other.equals(key)).toBe(false);
  });

  test('racing creators on one place end with one key', async () => {
    const place = await initialised();
    const stores = [open(place), open(place), open(place), open(place)];
    const id = keyId();
    const keys = await Promise.all(stores.flatMap((store) => [store.createIfAbsent(id), store.createIfAbsent(id)]));
    expect(new Set(keys.map((key) => key.toString('hex'))).size).toBe(1);
  });

  test('keeps keys only wrapped: the key bytes never sit in the store', async () => {
    const place = await initialised();
    const store = open(place);
    const id = keyId();
    const key = await store.createIfAbsent(id);
    const raw = await kind.raw(place, id);
    expect(raw.length).toBeGreaterThan(0);
    expect(raw).not.toContain(key.toString('hex'));
    expect(raw).not.toContain(key.toString('base64'));
  });

  test('destroy leaves nothing recoverable through the store, is idempotent, and the key never comes back', async () => {
    const place = await initialised();
    const store = open(place);
    const id = keyId();
    const key = await store.createIfAbsent(id);
    const wrappedBefore = await kind.raw(place, id);
    await store.destroy(id);
    await store.destroy(id);
    expect(await store.get(id)).toBeNull();
    expect(await open(place).get(id)).toBeNull();
    await expect(store.createIfAbsent(id)).rejects.toBeInstanceOf(KeyDestroyedError);
    const rawAfter = await kind.raw(place, id);
    const wrappedData = (JSON.parse(wrappedBefore) as { data: string }).data;
    expect(rawAfter).not.toContain(wrappedData);
    expect(rawAfter).not.toContain(key.toString('hex'));
    // A key that never existed can be destroyed too (archive before any payload was written).
    const never = keyId();
    await store.destroy(never);
    expect(await store.get(never)).toBeNull();
  });

  test('opens keys under an older KEK, and rewrapAll moves them (and the check record) to the newest', async () => {
    const place = await initialised(oldKek);
    const before = open(place, [oldKek]);
    const id = keyId();
    const key = await before.createIfAbsent(id);
    const rotated = open(place, [newKek, oldKek]);
    expect((await rotated.get(id))?.equals(key)).toBe(true);
    expect(await rotated.rewrapAll()).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(await kind.raw(place, id)).kek).toBe(newKek.id);
    // Once rewrapped, the old KEK can be dropped.
    expect((await open(place, [newKek]).get(id))?.equals(key)).toBe(true);
    await open(place, [newKek]).check(NAMESPACE);
    await expect(open(place, [oldKek]).get(id)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  });

  test('the init step makes the place a store with its namespace key; run again, it changes nothing', async () => {
    const place = await kind.place();
    const first = await open(place).initialise(NAMESPACE);
    expect(first).toEqual({ storeId: expect.stringMatching(/^[0-9a-f-]{36}$/), outcome: 'created', adoptedKeys: 0, namespaceKeyCreated: true });
    const contents = await kind.contents(place);
    const again = await open(place).initialise(NAMESPACE);
    expect(again).toEqual({ storeId: first.storeId, outcome: 'ready', adoptedKeys: 0, namespaceKeyCreated: false });
    expect(await kind.contents(place)).toBe(contents);
    await open(place).check(NAMESPACE);
    expect(await open(place).get(namespaceKeyId(NAMESPACE))).toHaveLength(32);
  });

  test('namespace keys come from the init step only; a store without its namespace key is not ready', async () => {
    const store = open(await initialised());
    await expect(store.createIfAbsent(namespaceKeyId('other'))).rejects.toThrow('init step');
    await expect(store.check('other')).rejects.toThrow('namespace key is missing');
    await store.destroy(namespaceKeyId(NAMESPACE));
    await expect(store.check(NAMESPACE)).rejects.toThrow('namespace key is missing');
  });

  test('a place the init step never made a store of (an empty folder, an empty database) is unavailable, and nothing is written there', async () => {
    const place = await kind.place();
    const store = open(place);
    const before = await kind.contents(place);
    const id = keyId();
    for (const call of [() => store.get(id), () => store.createIfAbsent(id), () => store.destroy(id), () => store.rewrapAll(), () => store.check(NAMESPACE)]) {
      await expect(call()).rejects.toEqual(unavailable);
    }
    await expect(store.get(id)).rejects.toThrow('not initialised');
    expect(await kind.contents(place)).toBe(before);
  });

  test('a missing place (no folder, no database) is unavailable, and nothing is created', async () => {
    const place = kind.missingPlace();
    const store = open(place);
    const id = keyId();
    for (const call of [() => store.get(id), () => store.createIfAbsent(id), () => store.destroy(id), () => store.check(NAMESPACE)]) {
      await expect(call()).rejects.toEqual(unavailable);
    }
    expect(await kind.contents(place)).toMatch(/^no (folder|database)$/);
  });

  test('a store moved away is unavailable, never empty, and nothing is written; moved back, its keys answer again', async () => {
    const place = await initialised();
    const store = open(place);
    const id = keyId();
    const key = await store.createIfAbsent(id);
    const bringBack = await kind.moveAway(place);
    const before = await kind.contents(place);
    // Neither "no such key" (it would read as shredded) nor a new key (it would be lost when the store comes back).
    await expect(store.get(id)).rejects.toEqual(unavailable);
    await expect(store.createIfAbsent(id)).rejects.toEqual(unavailable);
    await expect(store.createIfAbsent(keyId())).rejects.toEqual(unavailable);
    await expect(store.check(NAMESPACE)).rejects.toEqual(unavailable);
    expect(await kind.contents(place)).toBe(before);
    await bringBack();
    expect((await store.get(id))?.equals(key)).toBe(true);
    await store.check(NAMESPACE);
  });

  test('another store is unavailable: not the expected id, nor the one a process opened first', async () => {
    const place = await initialised();
    const other = await initialised();
    const { storeId: otherId } = await open(other).initialise(NAMESPACE);
    await expect(open(place, [newKek], otherId).check(NAMESPACE)).rejects.toThrow('another key store');
    await expect(open(place, [newKek], randomUUID()).initialise(NAMESPACE)).rejects.toThrow('another key store');
    // A process that opened this store, and then finds another one in its place (same KEK).
    const running = open(place);
    const id = keyId();
    await running.createIfAbsent(id);
    await kind.copyMarker(other, place);
    const before = await kind.contents(place);
    await expect(running.get(keyId())).rejects.toThrow('another key store');
    await expect(running.createIfAbsent(keyId())).rejects.toThrow('another key store');
    await expect(running.destroy(id)).rejects.toThrow('another key store');
    expect(await kind.contents(place)).toBe(before);
  });

  test('a wrong KEK is unavailable and writes nothing; with the right KEK back, the same key id is created', async () => {
    const place = await initialised();
    const existing = await open(place).createIfAbsent(keyId());
    expect(existing).toHaveLength(32);
    const wrong = open(place, [kekOf(randomBytes(32))]);
    const id = keyId();
    const before = await kind.contents(place);
    await expect(wrong.createIfAbsent(id)).rejects.toThrow('wrong KEK');
    await expect(wrong.get(keyId())).rejects.toThrow('wrong KEK');
    await expect(wrong.destroy(keyId())).rejects.toThrow('wrong KEK');
    await expect(wrong.check(NAMESPACE)).rejects.toThrow('wrong KEK');
    await expect(wrong.initialise(NAMESPACE)).rejects.toThrow('wrong KEK');
    expect(await kind.contents(place)).toBe(before);
    expect(await kind.raw(place, id)).toBe('');
    const key = await open(place).createIfAbsent(id);
    expect((await open(place).get(id))?.equals(key)).toBe(true);
  });

  test('a store from before markers is unavailable until the init step adopts it, once', async () => {
    const place = await kind.place();
    const keys = new Map([keyId(), keyId(), keyId()].map((id) => [id, randomBytes(32)]));
    await kind.writeUnmarked(place, newKek, keys);
    const [id, key] = [...keys][0];
    await expect(open(place).get(id)).rejects.toThrow('not initialised');
    // Under a wrong KEK the init step adopts nothing: marking the store under it would hide that.
    const before = await kind.contents(place);
    await expect(open(place, [kekOf(randomBytes(32))]).initialise(NAMESPACE)).rejects.toThrow('3 of its 3 keys do not unwrap');
    expect(await kind.contents(place)).toBe(before);
    const adopted = await open(place).initialise(NAMESPACE);
    expect(adopted).toMatchObject({ outcome: 'adopted', adoptedKeys: 3, namespaceKeyCreated: true });
    expect((await open(place).get(id))?.equals(key)).toBe(true);
    expect(await open(place).initialise(NAMESPACE)).toMatchObject({ storeId: adopted.storeId, outcome: 'ready', adoptedKeys: 0 });
  });

  test('the init step insisting on a store id refuses a place without a marker, and makes nothing', async () => {
    const place = await kind.place();
    const before = await kind.contents(place);
    await expect(open(place, [newKek], randomUUID()).initialise(NAMESPACE)).rejects.toThrow('holds no store marker');
    expect(await kind.contents(place)).toBe(before);
  });
});

test('the PostgreSQL store fails closed when the server is unreachable, without naming it', async () => {
  const store = new PostgresKeyStore('postgres://postgres@127.0.0.1:1/sessionflow', [newKek], { connectionTimeoutMillis: 500 });
  try {
    const failure = store.get('session-00000000000000000000000000000000');
    await expect(failure).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    await expect(failure).rejects.not.toThrow('127.0.0.1');
  } finally {
    await store.close();
  }
});
