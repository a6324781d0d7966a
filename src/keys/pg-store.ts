/**
 * The key store for more than one machine: wrapped keys in a PostgreSQL table (through `pg`),
 * and the store marker (store-marker.ts) as the one row of a second table. A destroyed key keeps
 * its row with the wrapped key set to NULL, so it cannot be created again. PostgreSQL keeps dead
 * row versions until VACUUM; docs/guides/personal-data.md says to let autovacuum run and to treat
 * backups of this database as holding the keys they contain.
 *
 * Only the init step creates the tables and the marker. Every read comes with the marker, and
 * every write is conditional on it, so a missing database or table, an empty database or another
 * store's is unavailable, never empty.
 */
import { randomBytes } from 'node:crypto';
import { Pool, type PoolConfig } from 'pg';
import { unwrapKey, wrapKey, type Kek, type WrappedKey } from './kek';
import { assertKeyId, KeyDestroyedError, KeyStoreUnavailableError } from './errors';
import { isNamespaceKeyId, namespaceKeyId } from './key-ids';
import type { InitialisableKeyStore, KeyStoreInit } from './key-store';
import { adoptable, newMarker, rewrapMarker, StoreIdentity, type StoreMarker } from './store-marker';

const TABLE = 'sessionflow_data_keys';
const MARKER_TABLE = 'sessionflow_key_store';
/** Serialises init steps (pg_advisory_xact_lock): racing inits mark the store once. */
const INIT_LOCK = 0x5e55_1f10;
/** A write's condition: the marker still names the store this process verified (its id in `param`). */
const marked = (param: string) => `EXISTS (SELECT 1 FROM ${MARKER_TABLE} WHERE marker->>'storeId' = ${param})`;

const MISSING: Record<string, string> = {
  '42P01': 'a key store table is missing (not initialised: run `npm run keys:init`)',
  '3D000': 'its database does not exist',
};

function unavailable(err: unknown): never {
  if (err instanceof KeyStoreUnavailableError || err instanceof KeyDestroyedError) throw err;
  // pg's messages may name hosts and users: only the error code leaves this module.
  const code = (err as { code?: string }).code ?? 'error';
  throw new KeyStoreUnavailableError(MISSING[code] ?? `PostgreSQL answered ${code}`);
}

interface Lookup {
  marker: unknown;
  /** A row exists for the key (a destroyed key's too). */
  found: boolean;
  wrapped: WrappedKey | null;
}

export class PostgresKeyStore implements InitialisableKeyStore {
  private readonly pool: Pool;
  private readonly identity: StoreIdentity;

  constructor(
    connectionString: string,
    private readonly keks: readonly Kek[],
    options: Partial<PoolConfig> & { expectedStoreId?: string } = {},
  ) {
    const { expectedStoreId, ...poolOptions } = options;
    this.identity = new StoreIdentity(keks, expectedStoreId);
    // Short timeouts: a store that is down must fail a task quickly, not hold it.
    this.pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: 3_000, query_timeout: 5_000, ...poolOptions });
    // An idle client's connection dropping (a restart of PostgreSQL) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  /** The marker and the key's row in one round trip; no marker row: no row at all. */
  private async lookup(keyId: string): Promise<Lookup> {
    const result = await this.pool
      .query<{ marker: unknown; found: boolean; wrapped: WrappedKey | null }>(
        `SELECT s.marker, k.key_id IS NOT NULL AS found, k.wrapped FROM ${MARKER_TABLE} s LEFT JOIN ${TABLE} k ON k.key_id = $1`,
        [keyId],
      )
      .catch(unavailable);
    return result.rows[0] ?? { marker: null, found: false, wrapped: null };
  }

  async get(keyId: string): Promise<Buffer | null> {
    assertKeyId(keyId);
    const row = await this.lookup(keyId);
    this.identity.verify(row.marker);
    return row.wrapped ? unwrapKey(this.keks, keyId, row.wrapped) : null;
  }

  async createIfAbsent(keyId: string): Promise<Buffer> {
    if (isNamespaceKeyId(keyId)) throw new Error('namespace keys are made by the init step only');
    return this.create(keyId);
  }

  private async marker(): Promise<unknown> {
    const result = await this.pool.query<{ marker: unknown }>(`SELECT marker FROM ${MARKER_TABLE}`).catch(unavailable);
    return result.rows[0]?.marker ?? null;
  }

  private async create(keyId: string): Promise<Buffer> {
    assertKeyId(keyId);
    const before = await this.lookup(keyId);
    // Nothing is written into a database that is not this store, nor under a KEK that does not open it.
    const { storeId } = this.identity.verify(before.marker);
    if (!before.found) {
      // ON CONFLICT DO NOTHING: of racing creators one row wins; everyone reads it back.
      await this.pool
        .query(`INSERT INTO ${TABLE} (key_id, wrapped) SELECT $1, $2 WHERE ${marked('$3')} ON CONFLICT (key_id) DO NOTHING`, [
          keyId,
          JSON.stringify(wrapKey(this.keks[0], keyId, randomBytes(32))),
          storeId,
        ])
        .catch(unavailable);
    }
    const row = before.found ? before : await this.lookup(keyId);
    this.identity.verify(row.marker);
    if (!row.found) throw new KeyStoreUnavailableError('a created key is missing');
    if (!row.wrapped) throw new KeyDestroyedError(keyId);
    return unwrapKey(this.keks, keyId, row.wrapped);
  }

  async destroy(keyId: string): Promise<void> {
    assertKeyId(keyId);
    const { storeId } = this.identity.verify((await this.lookup(keyId)).marker);
    const result = await this.pool
      .query(
        `INSERT INTO ${TABLE} (key_id, wrapped, destroyed_at) SELECT $1, NULL, now() WHERE ${marked('$2')}
         ON CONFLICT (key_id) DO UPDATE SET wrapped = NULL, destroyed_at = COALESCE(${TABLE}.destroyed_at, now())`,
        [keyId, storeId],
      )
      .catch(unavailable);
    if (result.rowCount === 0) throw new KeyStoreUnavailableError('its store marker changed');
  }

  async rewrapAll(): Promise<number> {
    const marker = this.identity.verify(await this.marker());
    const newest = this.keks[0];
    const rows = await this.pool
      .query<{ key_id: string; wrapped: WrappedKey }>(`SELECT key_id, wrapped FROM ${TABLE} WHERE wrapped IS NOT NULL AND wrapped->>'kek' <> $1`, [newest.id])
      .catch(unavailable);
    let count = 0;
    for (const { key_id: keyId, wrapped } of rows.rows) {
      const rewrapped = wrapKey(newest, keyId, unwrapKey(this.keks, keyId, wrapped));
      // Compare-and-set: a key destroyed meanwhile stays destroyed.
      const result = await this.pool
        .query(`UPDATE ${TABLE} SET wrapped = $2 WHERE key_id = $1 AND wrapped = $3`, [keyId, JSON.stringify(rewrapped), JSON.stringify(wrapped)])
        .catch(unavailable);
      count += result.rowCount ?? 0;
    }
    // Last, so the old KEKs can go once this answered.
    if (marker.check.kek !== newest.id) {
      await this.pool.query(`UPDATE ${MARKER_TABLE} SET marker = $1`, [JSON.stringify(rewrapMarker(marker, this.keks))]).catch(unavailable);
    }
    return count;
  }

  async check(namespace: string): Promise<void> {
    if (!(await this.get(namespaceKeyId(namespace)))) throw new KeyStoreUnavailableError('its namespace key is missing');
  }

  async initialise(namespace: string): Promise<KeyStoreInit> {
    const client = await this.pool.connect().catch(unavailable);
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [INIT_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (key_id text PRIMARY KEY, wrapped jsonb, created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), marker jsonb NOT NULL)`);
      let marker = (await client.query<{ marker: StoreMarker }>(`SELECT marker FROM ${MARKER_TABLE}`)).rows[0]?.marker ?? null;
      let outcome: KeyStoreInit['outcome'] = 'ready';
      let adoptedKeys = 0;
      if (marker === null) {
        if (this.identity.expectedStoreId) throw new KeyStoreUnavailableError(`it holds no store marker, and key store ${this.identity.expectedStoreId} is expected: is the database the right one?`);
        const rows = await client.query<{ key_id: string; wrapped: WrappedKey }>(`SELECT key_id, wrapped FROM ${TABLE} WHERE wrapped IS NOT NULL`);
        adoptedKeys = adoptable(this.keks, new Map(rows.rows.map((row) => [row.key_id, row.wrapped])));
        marker = newMarker(this.keks[0], adoptedKeys);
        await client.query(`INSERT INTO ${MARKER_TABLE} (marker) VALUES ($1)`, [JSON.stringify(marker)]);
        outcome = adoptedKeys > 0 ? 'adopted' : 'created';
      }
      const { storeId } = this.identity.verify(marker);
      await client.query('COMMIT');
      const keyId = namespaceKeyId(namespace);
      const existed = (await this.lookup(keyId)).found;
      await this.create(keyId);
      return { storeId, outcome, adoptedKeys, namespaceKeyCreated: !existed };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      return unavailable(err);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
