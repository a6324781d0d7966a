/**
 * GET /healthz (liveness: 200 whenever the process serves, Temporal or not) and GET /readyz
 * (200 only when a create would succeed: Temporal answers and knows the session search
 * attributes), over real HTTP.
 */
import { Client, Connection } from '@temporalio/client';
import { request } from 'undici';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/api/app';
import { loadConfig } from '../src/config';
import { openEncryption } from '../src/keys/encryption';
import { initialiseKeyStore, initSettings } from '../src/keys/init';
import { FlowCatalog } from '../src/flows/catalog';
import { freePort } from '../scripts/dev-server';
import { sessionSecret } from './helpers/stack';

async function probe(address: string, path: '/healthz' | '/readyz', namespace = 'default') {
  // The run's own development KEK folder: `.data`'s KEK is kept there (scripts/with-temporal.ts).
  const config = loadConfig({ TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, SESSIONFLOW_DEV_KEK_DIR: process.env.SESSIONFLOW_DEV_KEK_DIR });
  const connection = await Connection.connect({ address, connectTimeout: 500 }).catch(() => Connection.lazy({ address }));
  const app = buildApp({
    config,
    temporal: new Client({ connection, namespace, dataConverter: openEncryption(config).dataConverter }),
    clients: [],
    catalog: FlowCatalog.load('flows'),
    deviceTokenSecret: 'test-device-token-secret-0123456789abcdef',
    sessionSecret,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { port } = app.server.address() as AddressInfo;
    const answer = await request(`http://127.0.0.1:${port}${path}`);
    return { status: answer.statusCode, requestId: answer.headers['x-request-id'], body: (await answer.body.json()) as Record<string, unknown> };
  } finally {
    await app.close();
    await connection.close();
  }
}

test('healthz and readyz answer 200 with Temporal ready', async () => {
  const health = await probe(process.env.TEMPORAL_ADDRESS!, '/healthz');
  expect(health.status).toBe(200);
  expect(health.body).toEqual({ status: 'ok' });
  expect(health.requestId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  const readiness = await probe(process.env.TEMPORAL_ADDRESS!, '/readyz');
  expect(readiness.status).toBe(200);
  expect(readiness.body).toEqual({ status: 'ready', ready: true, temporal: { reachable: true, namespace: 'default' }, problems: [] });
});

test('when Temporal does not answer, healthz stays 200 (no restart loop) and readyz answers 503', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const health = await probe(address, '/healthz');
  expect(health.status).toBe(200);
  expect(health.body).toEqual({ status: 'ok' });
  const readiness = await probe(address, '/readyz');
  expect(readiness.status).toBe(503);
  expect(readiness.body).toEqual({ status: 'not_ready', ready: false, temporal: { reachable: false, namespace: 'default' }, problems: ['Temporal does not answer'] });
});

test('readyz answers 503 naming a namespace Temporal does not have', async () => {
  const readiness = await probe(process.env.TEMPORAL_ADDRESS!, '/readyz', 'sessionflow-no-such-namespace');
  expect(readiness.status).toBe(503);
  expect(readiness.body).toEqual({
    status: 'not_ready',
    ready: false,
    temporal: { reachable: true, namespace: 'sessionflow-no-such-namespace' },
    problems: ['namespace sessionflow-no-such-namespace does not exist'],
  });
});

test('when Temporal refuses the work, the api answers 5001 / internal_error and hides the cause', async () => {
  // A namespace that does not exist: every call fails at once, for a reason the caller must not see.
  const address = process.env.TEMPORAL_ADDRESS!;
  const config = loadConfig({ TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'sessionflow-no-such-namespace', SESSIONFLOW_DEV_KEK_DIR: process.env.SESSIONFLOW_DEV_KEK_DIR });
  // Its namespace key exists (the init step for that namespace), so the request gets as far as Temporal.
  await initialiseKeyStore(initSettings(config));
  const connection = await Connection.connect({ address });
  const tenant = { id: 'tenant-a', secret: 'tenant-a-secret-0123456789' };
  const app = buildApp({ config, temporal: new Client({ connection, namespace: config.temporal.namespace, dataConverter: openEncryption(config).dataConverter }), clients: [tenant], catalog: FlowCatalog.load('flows'), deviceTokenSecret: 'test-device-token-secret-0123456789abcdef', sessionSecret });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { port } = app.server.address() as AddressInfo;
    const backend = await request(`http://127.0.0.1:${port}/api/v1/public/flowx/handshake`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${tenant.id}:${tenant.secret}`).toString('base64')}` },
      body: JSON.stringify({ flow: 'consent-only', snapshot: null, tag: 'REF-down' }),
    });
    expect(backend.statusCode).toBe(500);
    expect(await backend.body.json()).toEqual({ code: 5001, message: 'Request could not be processed' });
    const device = await request(`http://127.0.0.1:${port}/v1/handshakes/DSanything000000000000/launch`, { method: 'POST' });
    expect(device.statusCode).toBe(500);
    expect(await device.body.json()).toMatchObject({ type: 'api_error', code: 'internal_error', message: 'Request could not be processed' });
  } finally {
    await app.close();
    await connection.close();
  }
});
