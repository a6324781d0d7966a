/**
 * GET /healthz over real HTTP: 200 when Temporal answers, 503 when it does not.
 */
import { Client, Connection } from '@temporalio/client';
import { request } from 'undici';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/api/app';
import { loadConfig } from '../src/config';
import { FlowCatalog } from '../src/flows/catalog';
import { freePort } from '../scripts/dev-server';

async function healthOf(address: string) {
  const config = loadConfig({ TEMPORAL_ADDRESS: address });
  const connection = await Connection.connect({ address, connectTimeout: 500 }).catch(() => Connection.lazy({ address }));
  const app = buildApp({ config, temporal: new Client({ connection }), clients: [], catalog: FlowCatalog.load('flows'), deviceTokenSecret: 'test-device-token-secret-0123456789abcdef' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { port } = app.server.address() as AddressInfo;
    const answer = await request(`http://127.0.0.1:${port}/healthz`);
    return { status: answer.statusCode, requestId: answer.headers['x-request-id'], body: (await answer.body.json()) as Record<string, unknown> };
  } finally {
    await app.close();
    await connection.close();
  }
}

test('healthz answers 200 with Temporal reachable', async () => {
  const health = await healthOf(process.env.TEMPORAL_ADDRESS!);
  expect(health.status).toBe(200);
  expect(health.body).toEqual({ status: 'ok', temporal: { reachable: true, namespace: 'default' } });
  expect(health.requestId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
});

test('healthz answers 503 when Temporal does not answer', async () => {
  const health = await healthOf(`127.0.0.1:${await freePort()}`);
  expect(health.status).toBe(503);
  expect(health.body).toEqual({ status: 'degraded', temporal: { reachable: false, namespace: 'default' } });
});
