/**
 * One suite, two stores: the file store (embedded default) and the PostgreSQL store, against
 * the real PostgreSQL that `make test` starts (scripts/with-temporal.ts sets TEST_POSTGRES_URL).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { FileKeyStore } from '../../src/keys/file-store';
import { kekOf, type Kek } from '../../src/keys/kek';
import { KeyDestroyedError, KeyStoreUnavailableError, type KeyStore } from '../../src/keys/key-store';
import { PostgresKeyStore } from '../../src/keys/pg-store';

const oldKek = kekOf(randomBytes(32));
const newKek = kekOf(randomBytes(32));

function postgresUrl(): string {
  const url = process.env.TEST_POSTGRES_URL;
  if (!url) throw new Error('TEST_POSTGRES_URL is not set: run the tests with `make test`, which starts PostgreSQL');
  return url;
}

interface StoreKind {
  name: string;
  /** A store over one shared place (a folder, a database), so several stores can race on it. */
  place(): unknown;
  open(place: unknown, keks: Kek[]): KeyStore;
  /** Every byte the store keeps for `keyId`, as it sits in the backing place. */
  raw(place: unknown, keyId: string): Promise<string>;
}

const fileKind: StoreKind = {
  name: 'file store',
  place: () => mkdtempSync(join('.data', 'test-keys-')),
  open: (dir, keks) => new FileKeyStore(dir as string, keks),
  raw: async (dir, keyId) =>
    readdirSync(join(dir as string, 'keys'))
      .filter((name) => name.startsWith(keyId))
      .map((name) => readFileSync(join(dir as string, 'keys', name), 'utf8'))
      .join('\n'),
};

const postgresKind: StoreKind = {
  name: 'PostgreSQL store',
  place: () => null,
  open: (_place, keks) => new PostgresKeyStore(postgresUrl(), keks),
  raw: async (_place, keyId) => {
    const client = new Client({ connectionString: postgresUrl() });
    await client.connect();
    try {
      const result = await client.query('SELECT wrapped::text AS wrapped FROM sessionflow_data_keys WHERE key_id = $1', [keyId]);
      return result.rows.map((row: { wrapped: string | null }) => row.wrapped ?? '').join('\n');
    } finally {
      await client.end();
    }
  },
};

describe.each([fileKind, postgresKind])('$name', (kind) => {
  const opened: KeyStore[] = [];
  const open = (place: unknown, keks: Kek[] = [newKek]) => {
    const store = kind.open(place, keks);
    opened.push(store);
    return store;
  };
  const keyId = () => `session-${randomBytes(16).toString('hex')}`;

  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  test('creates a random 256-bit key once and answers the same key afterwards', async () => {
    const store = open(kind.place());
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
    const place = kind.place();
    const stores = [open(place), open(place), open(place), open(place)];
    const id = keyId();
    const keys = await Promise.all(stores.flatMap((store) => [store.createIfAbsent(id), store.createIfAbsent(id)]));
    expect(new Set(keys.map((key) => key.toString('hex'))).size).toBe(1);
  });

  test('keeps keys only wrapped: the key bytes never sit in the store', async () => {
    const place = kind.place();
    const store = open(place);
    const id = keyId();
    const key = await store.createIfAbsent(id);
    const raw = await kind.raw(place, id);
    expect(raw.length).toBeGreaterThan(0);
    expect(raw).not.toContain(key.toString('hex'));
    expect(raw).not.toContain(key.toString('base64'));
  });

  test('destroy leaves nothing recoverable through the store, is idempotent, and the key never comes back', async () => {
    const place = kind.place();
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

  test('opens keys under an older KEK, and rewrapAll moves them to the newest', async () => {
    const place = kind.place();
    const before = open(place, [oldKek]);
    const id = keyId();
    const key = await before.createIfAbsent(id);
    const rotated = open(place, [newKek, oldKek]);
    expect((await rotated.get(id))?.equals(key)).toBe(true);
    expect(await rotated.rewrapAll()).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(await kind.raw(place, id)).kek).toBe(newKek.id);
    // Once rewrapped, the old KEK can be dropped.
    expect((await open(place, [newKek]).get(id))?.equals(key)).toBe(true);
    await expect(open(place, [oldKek]).get(id)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  });

  test('a wrong KEK fails closed: an error, never a key', async () => {
    const place = kind.place();
    const id = keyId();
    await open(place, [newKek]).createIfAbsent(id);
    const wrong = open(place, [kekOf(randomBytes(32))]);
    await expect(wrong.get(id)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    await expect(wrong.createIfAbsent(id)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
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
