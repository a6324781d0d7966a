/**
 * The funnel as the cluster keeps it: a worker process with SESSIONFLOW_FUNNEL_URL writes each
 * session's end to PostgreSQL (the server `make test` starts, a database of this file's own), and
 * the console's read-only source reads the funnel from there.
 */
import { randomBytes } from 'node:crypto';
import { openFunnelSource } from '../src/funnel/open';
import { postgresUrl, sql } from './helpers/postgres';
import { eventually, startStack, type Stack } from './helpers/stack';

const database = `test_funnel_stack_${randomBytes(6).toString('hex')}`;
const tenantId = `tenant-funnel-pg-${randomBytes(4).toString('hex')}`;
let stack: Stack;

beforeAll(async () => {
  await sql(postgresUrl(), `CREATE DATABASE ${database}`);
  stack = await startStack('funnel-pg', {}, { SESSIONFLOW_FUNNEL_URL: postgresUrl().replace(/\/[^/]+$/, `/${database}`) });
  await stack.spawnWorker();
});

afterAll(async () => {
  await stack?.stop();
  await sql(postgresUrl(), `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

async function consent(accepted: boolean): Promise<void> {
  const { sessionId } = await stack.gateway.create({ tenantId, tag: 'REF-funnel-pg', definition: stack.definition('consent-only') });
  const launch = await stack.gateway.launch(sessionId);
  await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted } });
}

test('the worker writes session ends to PostgreSQL, where the read-only source finds them', async () => {
  await consent(true);
  await consent(false);
  await consent(false);
  const source = openFunnelSource(stack.config);
  try {
    const query = { clientId: tenantId, flowId: 'consent-only', flowVersion: 'draft', from: Date.now() - 3600_000, to: Date.now() + 3600_000 };
    // The final step's answer comes once the workflow task that wrote the end completed.
    const report = await eventually(async () => {
      const funnel = await source.funnel(query);
      return funnel.sessions === 3 ? funnel : undefined;
    }, 10_000, 'three session ends');
    expect(report.stages.map(({ timeInStage: _, ...counts }) => counts)).toEqual([
      { stage: 'consent', entered: 3, wentOn: 0, endedHere: { completed: 1, declined: 2, expired: 0, provider_error: 0, review_rejected: 0, abandoned: 0 } },
    ]);
    const [row] = await sql<{ rows: string }>(postgresUrl().replace(/\/[^/]+$/, `/${database}`), 'SELECT count(*)::text AS rows FROM sessionflow_funnel WHERE client_id = $1', [tenantId]);
    expect(row.rows).toBe('3');
  } finally {
    await source.close();
  }
});
