/** The PostgreSQL that `make test` starts, for the store suites that run against it. */
import { Client } from 'pg';

/** The test server's URL, which `make test` exports. */
export function postgresUrl(): string {
  const url = process.env.TEST_POSTGRES_URL;
  if (!url) throw new Error('TEST_POSTGRES_URL is not set: run the tests with `make test`, which starts PostgreSQL');
  return url;
}

/** One statement on its own connection. */
export async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}
