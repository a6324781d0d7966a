/**
 * One PostgreSQL transaction on a pooled connection: BEGIN, the work, COMMIT; ROLLBACK on any
 * error, which `unavailable` turns into the store's own error (pg's messages may name hosts and
 * users, so they never leave the store).
 */
import type { Pool, PoolClient } from 'pg';

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, unavailable: (err: unknown) => never): Promise<T> {
  const client = await pool.connect().catch(unavailable);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    return unavailable(err);
  } finally {
    client.release();
  }
}
