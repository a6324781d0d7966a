/**
 * The audit store in the cluster: one PostgreSQL row per record in `sessionflow_audit`, and the
 * chain's head (seq and MAC of the newest record) in the one row of `sessionflow_audit_head`.
 * Every writer (each api replica, each worker, the codec server, the CLI) appends in one
 * transaction that first takes `SELECT ... FOR UPDATE` on the head row: writers queue there, so
 * each reads the head the one before it left, and the chain never forks. A trigger refuses
 * UPDATE and DELETE on the records (DELETE only inside a prune's transaction), so the trail is
 * append-only for the application; a database owner can still bypass it, which is what the
 * keyed MAC is for.
 *
 * The tables are created on first use; pg's messages (which may name hosts and users) never
 * leave this module, only their codes.
 */
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { inTransaction } from '../util/pg-transaction';
import { AuditUnavailableError, type AuditQuery, type AuditRecord } from './record';
import type { AuditStore } from './store';

const TABLE = 'sessionflow_audit';
const HEAD = 'sessionflow_audit_head';
/** Serialises the first creation of the tables (pg_advisory_xact_lock). */
const CREATE_LOCK = 0x5e55_a0d1;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${TABLE} (seq bigint PRIMARY KEY, at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL, refs text[] NOT NULL, record jsonb NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_at ON ${TABLE} (at)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_refs ON ${TABLE} USING gin (refs)`,
  `CREATE TABLE IF NOT EXISTS ${HEAD} (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), seq bigint NOT NULL, mac text NOT NULL)`,
  `CREATE OR REPLACE FUNCTION ${TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'DELETE' AND current_setting('sessionflow.audit_prune', true) = 'on' THEN RETURN OLD; END IF;
       RAISE EXCEPTION 'the audit trail is append-only';
     END $$`,
  `DROP TRIGGER IF EXISTS ${TABLE}_append_only ON ${TABLE}`,
  `CREATE TRIGGER ${TABLE}_append_only BEFORE UPDATE OR DELETE ON ${TABLE} FOR EACH ROW EXECUTE FUNCTION ${TABLE}_append_only()`,
];

function unavailable(err: unknown): never {
  if (err instanceof AuditUnavailableError) throw err;
  const code = (err as { code?: string }).code ?? 'error';
  throw new AuditUnavailableError(`the audit database answered ${code}`);
}

export class PostgresAuditStore implements AuditStore {
  private readonly pool: Pool;
  private ready: Promise<void> | null = null;

  constructor(connectionString: string, options: Partial<PoolConfig> = {}) {
    // Short timeouts: an audit that cannot be written must refuse the action quickly, not hold it.
    this.pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: 3_000, query_timeout: 5_000, ...options });
    this.pool.on('error', () => undefined);
  }

  private transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work, unavailable);
  }


  private schema(): Promise<void> {
    this.ready ??= this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
      const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [HEAD]);
      if (exists.rows[0]?.present) return;
      for (const statement of SCHEMA) await client.query(statement);
    }).catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  async append(next: (head: { seq: number; mac: string } | null) => AuditRecord[]): Promise<AuditRecord[]> {
    await this.schema();
    return this.transaction(async (client) => {
      // The head row is every writer's queue; the first writer, finding none, makes it under the creation lock.
      let head = (await client.query<{ seq: string; mac: string }>(`SELECT seq, mac FROM ${HEAD} FOR UPDATE`)).rows[0];
      if (!head) {
        await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
        head = (await client.query<{ seq: string; mac: string }>(`SELECT seq, mac FROM ${HEAD} FOR UPDATE`)).rows[0];
      }
      const records = next(head ? { seq: Number(head.seq), mac: head.mac } : null);
      for (const record of records) {
        await client.query(`INSERT INTO ${TABLE} (seq, at, actor, action, refs, record) VALUES ($1, $2, $3, $4, $5, $6)`, [
          record.seq,
          record.at,
          record.actor,
          record.action,
          record.refs,
          JSON.stringify(record),
        ]);
      }
      const last = records[records.length - 1];
      await client.query(
        `INSERT INTO ${HEAD} (singleton, seq, mac) VALUES (true, $1, $2) ON CONFLICT (singleton) DO UPDATE SET seq = EXCLUDED.seq, mac = EXCLUDED.mac`,
        [last.seq, last.mac],
      );
      return records;
    });
  }

  private async select(where: string, values: unknown[], limit: number): Promise<AuditRecord[]> {
    await this.schema();
    const result = await this.pool
      .query<{ record: AuditRecord }>(`SELECT record FROM ${TABLE} ${where} ORDER BY seq LIMIT ${Math.trunc(limit)}`, values)
      .catch(unavailable);
    return result.rows.map((row) => row.record);
  }

  query(query: AuditQuery & { limit: number }): Promise<AuditRecord[]> {
    const conditions: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      values.push(value);
      conditions.push(sql.replace('?', `$${values.length}`));
    };
    if (query.ref !== undefined) add('refs @> ARRAY[?]::text[]', query.ref);
    if (query.actor !== undefined) add('actor = ?', query.actor);
    if (query.action !== undefined) add('action = ?', query.action);
    if (query.since !== undefined) add('at >= ?', query.since);
    if (query.until !== undefined) add('at < ?', query.until);
    return this.select(conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', values, query.limit);
  }

  async all(): Promise<unknown[]> {
    await this.schema();
    // As stored: the row's own seq, so a record whose JSON was edited cannot hide where it sits.
    const result = await this.pool.query<{ record: unknown }>(`SELECT record FROM ${TABLE} ORDER BY seq`).catch(unavailable);
    return result.rows.map((row) => row.record);
  }

  async firstAtOrAfter(at: string): Promise<AuditRecord | null> {
    return (await this.select('WHERE at >= $1', [at], 1))[0] ?? null;
  }

  async bySeq(seq: number): Promise<AuditRecord | null> {
    return (await this.select('WHERE seq = $1', [seq], 1))[0] ?? null;
  }

  async removeBefore(firstKept: number): Promise<number> {
    await this.schema();
    return this.transaction(async (client) => {
      await client.query(`SELECT 1 FROM ${HEAD} FOR UPDATE`);
      await client.query(`SELECT set_config('sessionflow.audit_prune', 'on', true)`);
      return (await client.query(`DELETE FROM ${TABLE} WHERE seq < $1`, [firstKept])).rowCount ?? 0;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
