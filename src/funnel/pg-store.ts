/**
 * The funnel store in the cluster: one PostgreSQL row per session end in `sessionflow_funnel`,
 * its key the primary key (a second write of a key is ignored: `ON CONFLICT DO NOTHING`), indexed
 * by tenant, flow, version and end time for the console's queries. A trigger refuses UPDATE, and
 * DELETE outside a prune's transaction, so a record is never changed once written. The table is
 * created on a writer's first use; a read-only store (the console) creates nothing and reads an
 * absent table as empty. pg's messages (which may name hosts and users) never leave this module,
 * only their codes.
 */
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { inTransaction } from '../util/pg-transaction';
import { checkRecord, FunnelUnavailableError, type FunnelRecord } from './record';
import type { FunnelQuery } from './report';
import type { FunnelStore } from './store';

const TABLE = 'sessionflow_funnel';
/** Serialises the first creation of the table (pg_advisory_xact_lock). */
const CREATE_LOCK = 0x5e55_f0e1;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${TABLE} (key text PRIMARY KEY, client_id text NOT NULL, flow_id text NOT NULL, flow_version text NOT NULL, ended_at bigint NOT NULL, record jsonb NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_funnel ON ${TABLE} (client_id, flow_id, flow_version, ended_at)`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_ended ON ${TABLE} (ended_at)`,
  `CREATE OR REPLACE FUNCTION ${TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'DELETE' AND current_setting('sessionflow.funnel_prune', true) = 'on' THEN RETURN OLD; END IF;
       RAISE EXCEPTION 'the funnel is append-only';
     END $$`,
  `DROP TRIGGER IF EXISTS ${TABLE}_append_only ON ${TABLE}`,
  `CREATE TRIGGER ${TABLE}_append_only BEFORE UPDATE OR DELETE ON ${TABLE} FOR EACH ROW EXECUTE FUNCTION ${TABLE}_append_only()`,
];

function unavailable(err: unknown): never {
  if (err instanceof FunnelUnavailableError) throw err;
  throw new FunnelUnavailableError(`the funnel database answered ${(err as { code?: string }).code ?? 'error'}`);
}

export class PostgresFunnelStore implements FunnelStore {
  private readonly pool: Pool;
  private ready: Promise<boolean> | null = null;

  /** `readOnly`: a reader (the console) that never creates or writes anything. */
  constructor(
    connectionString: string,
    private readonly readOnly = false,
    options: Partial<PoolConfig> = {},
  ) {
    this.pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: 3_000, query_timeout: 10_000, ...options });
    this.pool.on('error', () => undefined);
  }

  private transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work, unavailable);
  }


  /** Whether the table is there; a writer creates it first. */
  private schema(): Promise<boolean> {
    this.ready ??= (
      this.readOnly
        ? this.pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [TABLE]).then((r) => Boolean(r.rows[0]?.present), unavailable)
        : this.transaction(async (client) => {
            await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK]);
            const exists = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [TABLE]);
            if (!exists.rows[0]?.present) for (const statement of SCHEMA) await client.query(statement);
            return true;
          })
    ).then(
      (present) => {
        if (!present) this.ready = null; // a reader looks again next time: a writer may have made it since
        return present;
      },
      (err: unknown) => {
        this.ready = null;
        throw err;
      },
    );
    return this.ready;
  }

  async write(record: FunnelRecord): Promise<boolean> {
    checkRecord(record);
    if (this.readOnly) throw new FunnelUnavailableError('this funnel store was opened read-only');
    await this.schema();
    const inserted = await this.pool
      .query(`INSERT INTO ${TABLE} (key, client_id, flow_id, flow_version, ended_at, record) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING`, [
        record.key,
        record.clientId,
        record.flowId,
        record.flowVersion,
        record.endedAt,
        JSON.stringify(record),
      ])
      .catch(unavailable);
    return inserted.rowCount === 1;
  }

  async ends(query: FunnelQuery): Promise<FunnelRecord[]> {
    if (!(await this.schema())) return [];
    const result = await this.pool
      .query<{ record: unknown }>(`SELECT record FROM ${TABLE} WHERE client_id = $1 AND flow_id = $2 AND flow_version = $3 AND ended_at >= $4 AND ended_at < $5 ORDER BY ended_at`, [
        query.clientId,
        query.flowId,
        query.flowVersion,
        query.from,
        query.to,
      ])
      .catch(unavailable);
    return result.rows.flatMap((row) => {
      try {
        return [checkRecord(row.record)];
      } catch {
        return [];
      }
    });
  }

  async prune(before: number): Promise<number> {
    if (this.readOnly) throw new FunnelUnavailableError('this funnel store was opened read-only');
    await this.schema();
    return this.transaction(async (client) => {
      await client.query(`SELECT set_config('sessionflow.funnel_prune', 'on', true)`);
      return (await client.query(`DELETE FROM ${TABLE} WHERE ended_at < $1`, [before])).rowCount ?? 0;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
