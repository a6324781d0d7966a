/**
 * The key store for more than one machine: wrapped keys in a PostgreSQL table (through `pg`).
 * A destroyed key keeps its row with the wrapped key set to NULL, so it cannot be created
 * again. PostgreSQL keeps dead row versions until VACUUM; docs/guides/personal-data.md says to let autovacuum
 * run and to treat backups of this database as holding the keys they contain.
 */
import { randomBytes } from 'node:crypto';
import { Pool, type PoolConfig } from 'pg';
import { unwrapKey, wrapKey, type Kek, type WrappedKey } from './kek';
import { assertKeyId, KeyDestroyedError, KeyStoreUnavailableError } from './errors';
import type { KeyStore } from './key-store';

const TABLE = 'sessionflow_data_keys';

function unavailable(err: unknown): never {
  if (err instanceof KeyStoreUnavailableError || err instanceof KeyDestroyedError) throw err;
  // pg's messages may name hosts and users: only the error code leaves this module.
  const code = (err as { code?: string }).code ?? 'error';
  throw new KeyStoreUnavailableError(`PostgreSQL answered ${code}`);
}

export class PostgresKeyStore implements KeyStore {
  private readonly pool: Pool;
  private ready: Promise<void> | null = null;

  constructor(
    connectionString: string,
    private readonly keks: readonly Kek[],
    options: Partial<PoolConfig> = {},
  ) {
    if (keks.length === 0) throw new Error('at least one KEK is needed');
    // Short timeouts: a store that is down must fail a task quickly, not hold it.
    this.pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: 3_000, query_timeout: 5_000, ...options });
    // An idle client's connection dropping (a restart of PostgreSQL) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.pool
      .query(`CREATE TABLE IF NOT EXISTS ${TABLE} (key_id text PRIMARY KEY, wrapped jsonb, created_at timestamptz NOT NULL DEFAULT now(), destroyed_at timestamptz)`)
      .then(() => undefined)
      .catch((err: unknown) => {
        // Two processes creating the table at once (a worker's probe and an api, on a fresh
        // database): PostgreSQL's IF NOT EXISTS can still lose that race with a unique violation
        // on its catalog (23505) or a duplicate table (42P07). Either way the table exists now.
        const code = (err as { code?: string }).code;
        if (code === '23505' || code === '42P07') return;
        this.ready = null;
        unavailable(err);
      });
    return this.ready;
  }

  private async row(keyId: string): Promise<{ wrapped: WrappedKey | null } | null> {
    await this.ensureTable();
    const result = await this.pool.query<{ wrapped: WrappedKey | null }>(`SELECT wrapped FROM ${TABLE} WHERE key_id = $1`, [keyId]).catch(unavailable);
    return result.rows[0] ?? null;
  }

  async get(keyId: string): Promise<Buffer | null> {
    assertKeyId(keyId);
    const row = await this.row(keyId);
    return row?.wrapped ? unwrapKey(this.keks, keyId, row.wrapped) : null;
  }

  async createIfAbsent(keyId: string): Promise<Buffer> {
    assertKeyId(keyId);
    await this.ensureTable();
    // ON CONFLICT DO NOTHING: of racing creators one row wins; everyone reads it back.
    await this.pool
      .query(`INSERT INTO ${TABLE} (key_id, wrapped) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING`, [keyId, JSON.stringify(wrapKey(this.keks[0], keyId, randomBytes(32)))])
      .catch(unavailable);
    const row = await this.row(keyId);
    if (!row) throw new KeyStoreUnavailableError('a created key is missing');
    if (!row.wrapped) throw new KeyDestroyedError(keyId);
    return unwrapKey(this.keks, keyId, row.wrapped);
  }

  async destroy(keyId: string): Promise<void> {
    assertKeyId(keyId);
    await this.ensureTable();
    await this.pool
      .query(
        `INSERT INTO ${TABLE} (key_id, wrapped, destroyed_at) VALUES ($1, NULL, now())
         ON CONFLICT (key_id) DO UPDATE SET wrapped = NULL, destroyed_at = COALESCE(${TABLE}.destroyed_at, now())`,
        [keyId],
      )
      .catch(unavailable);
  }

  async rewrapAll(): Promise<number> {
    await this.ensureTable();
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
    return count;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
