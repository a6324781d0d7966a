/**
 * Issue 13, D2: per-address limits on the anonymous routes (device-client creation, launch,
 * failed authentication) answer the documented 429 with Retry-After; X-Forwarded-For counts
 * only from a configured trusted proxy; a device client that launches nothing ends.
 * Issue 23, item 1: the device routes that reach a session are limited per address, failures
 * far more strictly than successes, IPv6 by /64; a step spends its client's limits only once its
 * session accepted it, so a flood of made-up steps from one address leaves a real device on
 * another address, and the tenant's quota, untouched.
 * Issue 27, item 1: the hosted page (GET /flow/:id) reads its session, so it is limited the same way.
 */
import type { AddressInfo } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { buildApp } from '../src/api/app';
import type { Config } from '../src/config';
import type { TenantClient } from '../src/tenants/registry';
import { deviceClientWorkflowId } from '../src/contract/workflow-ids';
import { basic, DEVICE_TOKEN_SECRET, TENANT_A } from './helpers/api';
import { eventually, sessionSecret, startStack, type Stack } from './helpers/stack';

let stack: Stack;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  stack = await startStack('address-limits');
  await stack.startWorker();
});

afterAll(async () => {
  for (const close of closers) await close();
  await stack?.stop();
});

/** An api of its own (its own counters) with these limits. */
async function apiWith(api: Partial<Config['api']>, clients: TenantClient[] = [TENANT_A]): Promise<string> {
  const config: Config = { ...stack.config, api: { ...stack.config.api, ...api } };
  const app = buildApp({ config, temporal: stack.client, keys: stack.encryption.keys, clients, catalog: stack.catalog, deviceTokenSecret: DEVICE_TOKEN_SECRET, sessionSecret });
  await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const limits = (deviceClientsPerMinute = 1000, launchesPerMinute = 1000, authFailuresPerMinute = 1000, sessionRequestsPerMinute = 1000, sessionFailuresPerMinute = 1000) => ({
  addressLimits: { deviceClientsPerMinute, launchesPerMinute, authFailuresPerMinute, sessionRequestsPerMinute, sessionFailuresPerMinute },
});

async function call(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown, dispatcher?: Dispatcher) {
  const answer = await request(`${base}${path}`, {
    method: method as 'POST',
    ...(dispatcher ? { dispatcher } : {}),
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await answer.body.text();
  return { status: answer.statusCode, headers: answer.headers, body: text ? JSON.parse(text) : null };
}

function expectRateLimited(answer: Awaited<ReturnType<typeof call>>, device: boolean) {
  expect(answer.status).toBe(429);
  const retryAfter = Number(answer.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(answer.headers['x-request-id']).toBeDefined();
  if (device) expect(answer.body).toMatchObject({ type: 'rate_limit_error', http: 429, code: 'rate_limit_exceeded' });
  else expect(answer.body).toMatchObject({ code: 4291 });
}

test('device-client creation: the limit per address, then 429 with Retry-After', async () => {
  const base = await apiWith(limits(3));
  for (let i = 0; i < 3; i += 1) expect((await call(base, i % 2 ? 'PUT' : 'POST', `/v1/client?client_id=${TENANT_A.id}`)).status).toBe(200);
  expectRateLimited(await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`), true);
  // Other routes are not held back by it.
  expect((await call(base, 'GET', '/healthz')).status).toBe(200);
});

test('launches: the limit per address, unknown ids included', async () => {
  const base = await apiWith(limits(1000, 3));
  for (let i = 0; i < 3; i += 1) expect((await call(base, 'POST', `/v1/handshakes/DSunknown${i}000000000000/launch`)).status).toBe(404);
  const sessionId = (await stack.gateway.create({ tenantId: TENANT_A.id, tag: 'REF-limits', definition: stack.definition('consent-only') })).sessionId;
  expectRateLimited(await call(base, 'POST', `/v1/handshakes/${sessionId}/launch`), true);
  expect((await stack.gateway.status(sessionId)).status).toBe('created');
});

test('failed authentications: wrong Basic credentials, then even the right ones get 429 4291', async () => {
  const base = await apiWith(limits(1000, 1000, 3));
  const wrong = { authorization: basic({ ...TENANT_A, secret: 'not-the-secret-0123456789' }) };
  for (let i = 0; i < 3; i += 1) expect((await call(base, 'GET', '/api/v1/public/flowx/flows', wrong)).status).toBe(401);
  expectRateLimited(await call(base, 'GET', '/api/v1/public/flowx/flows', { authorization: basic(TENANT_A) }), false);
  expectRateLimited(await call(base, 'POST', '/v1/handshakes/DSunknown0000000000000/launch'), true);
});

test('failed authentications: bad device credentials, wrong app keys and unknown client_ids count', async () => {
  const base = await apiWith(limits(1000, 1000, 3));
  expect((await call(base, 'GET', '/v1/client', { authorization: 'Bearer sfc1.forged.credential' })).status).toBe(401);
  const wrongKey = await call(base, 'POST', '/v1/sessions', {}, { tenant_user_id: 'u', client_id: TENANT_A.id, client_app_key: 'wrong', skill: 'consent-only' });
  expect(wrongKey.status).toBe(401);
  // A nonce minted for that id, so the refusal is the unknown client_id's (a made-up nonce is refused first, as invalid_nonce).
  const nonce = sessionSecret.nextNonce('DSunknown0000000000000', 'step-x');
  const unknownClient = await call(base, 'POST', '/v1/sessions/DSunknown0000000000000/steps', {}, { client_id: 'nobody', nonce, skill: 'consent-only', step: 'consent', data: {} });
  expect(unknownClient.status).toBe(404);
  expectRateLimited(await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`), true);
});

describe('a percent-encoded path counts as the route the router decodes it to', () => {
  test('device-client creation and launches: no way around the limits', async () => {
    const base = await apiWith(limits(2, 2));
    expect((await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`)).status).toBe(200);
    expect((await call(base, 'POST', `/v1/%63lient?client_id=${TENANT_A.id}`)).status).toBe(200);
    expectRateLimited(await call(base, 'PUT', `/v1/%63lien%74?client_id=${TENANT_A.id}`), true);

    expect((await call(base, 'POST', '/v1/handshakes/DSunknown0000000000000/%6Caunch')).status).toBe(404);
    expect((await call(base, 'POST', '/v1/%68andshakes/DSunknown0000000000001/launch')).status).toBe(404);
    // The device error shape too, though the raw path does not start with /v1/.
    expectRateLimited(await call(base, 'POST', '/%761/handshakes/DSunknown0000000000002/launch'), true);
  });

  test("the credential handshake's 403 counts as a failed authentication", async () => {
    const base = await apiWith(limits(1000, 1000, 2));
    for (let i = 0; i < 2; i += 1) expect((await call(base, 'GET', '/v1/client/%68andshake?redirect_url=https%3A%2F%2Fa.example%2F')).status).toBe(403);
    expectRateLimited(await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`), true);
  });
});

describe('X-Forwarded-For', () => {
  test('from a trusted proxy: each forwarded address has its own count', async () => {
    const base = await apiWith({ ...limits(2), trustedProxies: ['127.0.0.1'] });
    const from = (address: string) => call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`, { 'x-forwarded-for': address });
    expect((await from('203.0.113.1')).status).toBe(200);
    expect((await from('203.0.113.1')).status).toBe(200);
    expectRateLimited(await from('203.0.113.1'), true);
    expect((await from('203.0.113.2')).status).toBe(200);
  });

  test('without a trusted proxy it is ignored: a client cannot pick a fresh address per request', async () => {
    const base = await apiWith({ ...limits(2), trustedProxies: [] });
    expect((await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`, { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
    expect((await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
    expectRateLimited(await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`, { 'x-forwarded-for': '198.51.100.3' }), true);
  });
});

describe('a device client that launches nothing does not live for 30 days', () => {
  async function timers(deviceClientId: string): Promise<number[]> {
    const history = await stack.client.workflow.getHandle(deviceClientWorkflowId(deviceClientId)).fetchHistory();
    return (history.events ?? [])
      .filter((event) => event.timerStartedEventAttributes)
      .map((event) => Number(event.timerStartedEventAttributes!.startToFireTimeout!.seconds));
  }

  test('its first timer is the unused window; once it launched, the refresh window', async () => {
    const base = await apiWith({ ...limits(), deviceClientUnusedMs: 3_600_000 });
    const created = await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}&_is_native=true`);
    const deviceClientId = created.body.client.id as string;
    const unused = await eventually(async () => ((await timers(deviceClientId)).length === 1 ? timers(deviceClientId) : undefined), 20_000, 'the first timer');
    expect(unused[0]).toBeGreaterThan(3_590);
    expect(unused[0]).toBeLessThanOrEqual(3_600);

    const sessionId = (await stack.gateway.create({ tenantId: TENANT_A.id, tag: 'REF-unused', definition: stack.definition('consent-only') })).sessionId;
    expect((await call(base, 'POST', `/v1/handshakes/${sessionId}/launch`, { authorization: String(created.headers.authorization) })).status).toBe(200);
    const both = await eventually(async () => ((await timers(deviceClientId)).length === 2 ? timers(deviceClientId) : undefined), 20_000, 'the second timer');
    expect(both[1]).toBeGreaterThan(29 * 24 * 3600);
  });

  test('past the unused window its workflow has ended and its credential is refused', async () => {
    const base = await apiWith({ ...limits(), deviceClientUnusedMs: 1_000 });
    const created = await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}&_is_native=true`);
    const handle = stack.client.workflow.getHandle(deviceClientWorkflowId(created.body.client.id));
    await handle.result();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    const answer = await call(base, 'GET', '/v1/client', { authorization: String(created.headers.authorization) });
    expect(answer).toMatchObject({ status: 401, body: { code: 'invalid_client_credential' } });
  });
});

describe('the device routes that reach a session (issue 23, item 1)', () => {
  const consent = (clientId: string, nonce: string, data: unknown = { accepted: true }) => ({ client_id: clientId, nonce, skill: 'consent-only', step: 'consent', data });
  const createSession = async (clientId: string, tag: string) => (await stack.gateway.create({ tenantId: clientId, tag, definition: stack.definition('consent-only') })).sessionId;
  const madeUpId = (i: number) => `DSmadeup${String(i).padStart(14, '0')}`;

  test('one address floods steps to made-up sessions: it gets 429, a device on another address and the tenant quota are untouched', async () => {
    // The tenant's whole day is two steps: one flooded step charged to it would refuse the device's second.
    const tenant: TenantClient = { id: 'tenant-flooded', secret: 'tenant-flooded-secret-0123456789', perSecond: 1000, perDay: 2 };
    const failures = 20;
    const base = await apiWith(limits(1000, 1000, 1000, 1000, failures), [tenant]);
    const sessions = [await createSession(tenant.id, 'REF-flood-1'), await createSession(tenant.id, 'REF-flood-2'), await createSession(tenant.id, 'REF-flood-3')];

    // The flooder: 400 anonymous steps to made-up ids, from 127.0.0.1, eight at a time.
    const statuses: number[] = [];
    const codes = new Set<string>();
    let refused!: () => void;
    const firstRefusal = new Promise<void>((resolve) => (refused = resolve));
    let next = 0;
    const flooder = async () => {
      while (next < 400) {
        const answer = await call(base, 'POST', `/v1/sessions/${madeUpId(next++)}/steps`, {}, consent(tenant.id, 'n'.repeat(43)));
        statuses.push(answer.status);
        codes.add(answer.body.code);
        if (answer.status === 429) refused();
      }
    };
    const flood = Promise.all(Array.from({ length: 8 }, flooder));
    await firstRefusal;

    // While it floods: a real device on 127.0.0.2 launches and steps, within the tenant's day.
    const device = new Agent({ localAddress: '127.0.0.2' });
    closers.push(() => device.close());
    const deviceAnswers = [];
    for (const sessionId of sessions.slice(0, 2)) {
      const launched = await call(base, 'POST', `/v1/handshakes/${sessionId}/launch`, {}, undefined, device);
      expect(launched.status).toBe(200);
      deviceAnswers.push(await call(base, 'POST', `/v1/sessions/${sessionId}/steps`, {}, consent(tenant.id, launched.body.nonce), device));
    }
    await flood;

    for (const answer of deviceAnswers) expect(answer).toMatchObject({ status: 200, body: { status: 'SESSION_COMPLETED' } });
    // The flooder: a few made-up steps refused as invalid_nonce (before any Temporal call: their
    // nonces were minted for no such session), those in flight when the limit filled, then 429.
    expect(statuses).toHaveLength(400);
    expect(statuses.filter((status) => status === 400).length).toBeLessThanOrEqual(failures + 8);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(400 - failures - 8);
    expect(statuses.every((status) => status === 400 || status === 429)).toBe(true);
    expect([...codes].sort()).toEqual(['invalid_nonce', 'rate_limit_exceeded']);

    // The tenant's quota counted exactly the two accepted steps: a third is over its day.
    const launched = await call(base, 'POST', `/v1/handshakes/${sessions[2]}/launch`, {}, undefined, device);
    const third = await call(base, 'POST', `/v1/sessions/${sessions[2]}/steps`, {}, consent(tenant.id, launched.body.nonce), device);
    expect(third).toMatchObject({ status: 429, body: { code: 'daily_limit_exceeded' } });
  });

  test('successes count against the generous limit, failures against the strict one; 409 and invalid_data are no failures', async () => {
    const base = await apiWith(limits(1000, 1000, 1000, 1000, 3));
    const sessionId = await createSession(TENANT_A.id, 'REF-failures');
    const launched = await call(base, 'POST', `/v1/handshakes/${sessionId}/launch`);
    const nonce = { 'x-session-nonce': launched.body.nonce as string };
    for (let i = 0; i < 10; i += 1) expect((await call(base, 'GET', `/v1/sessions/${sessionId}`, nonce)).status).toBe(200);
    // A second tab, a double click, a typo: what people do.
    for (let i = 0; i < 3; i += 1) expect((await call(base, 'POST', `/v1/handshakes/${sessionId}/launch`)).body.code).toBe('session_already_launched');
    for (let i = 0; i < 3; i += 1) expect((await call(base, 'POST', `/v1/sessions/${sessionId}/steps`, {}, consent(TENANT_A.id, launched.body.nonce, { accepted: 'yes' }))).body.code).toBe('invalid_data');
    // Unknown sessions and wrong nonces: what scripts do.
    expect((await call(base, 'GET', `/v1/sessions/${madeUpId(1)}`)).status).toBe(404);
    expect((await call(base, 'POST', `/v1/handshakes/${madeUpId(2)}/launch`)).status).toBe(404);
    expect((await call(base, 'POST', `/v1/sessions/${sessionId}/steps`, {}, consent(TENANT_A.id, 'n'.repeat(43)))).body.code).toBe('invalid_nonce');
    expectRateLimited(await call(base, 'GET', `/v1/sessions/${sessionId}`, nonce), true);
    expectRateLimited(await call(base, 'POST', `/v1/sessions/${sessionId}/steps`, {}, consent(TENANT_A.id, launched.body.nonce)), true);
    // Refused before reaching the session: it still waits for its step.
    expect((await stack.gateway.status(sessionId)).status).toBe('in_progress');
    // Routes that reach no session are not held back.
    expect((await call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`)).status).toBe(200);
  });

  test('every request to those routes counts against the per-address request limit', async () => {
    const base = await apiWith(limits(1000, 1000, 1000, 4, 1000));
    const sessionId = await createSession(TENANT_A.id, 'REF-requests');
    const launched = await call(base, 'POST', `/v1/handshakes/${sessionId}/launch`);
    const nonce = { 'x-session-nonce': launched.body.nonce as string };
    for (let i = 0; i < 3; i += 1) expect((await call(base, 'GET', `/v1/sessions/${sessionId}`, nonce)).status).toBe(200);
    expectRateLimited(await call(base, 'POST', `/v1/sessions/${sessionId}/steps`, {}, consent(TENANT_A.id, launched.body.nonce)), true);
    expect((await stack.gateway.status(sessionId)).status).toBe('in_progress');
  });

  test('the hosted page reads its session, so it counts too: made-up ids are failures (404, the "not valid" page), then 429 before Temporal', async () => {
    const base = await apiWith(limits(1000, 1000, 1000, 1000, 3));
    const sessionId = await createSession(TENANT_A.id, 'REF-hosted-page');
    const page = async (id: string, at = base) => {
      const answer = await request(`${at}/flow/${id}`);
      return { status: answer.statusCode, headers: answer.headers, text: await answer.body.text() };
    };
    expect((await page(sessionId)).status).toBe(200);
    for (let i = 0; i < 3; i += 1) {
      const refused = await page(madeUpId(i));
      expect(refused.status).toBe(404);
      expect(refused.text).toContain('data-page="invalid"');
    }
    // Over the failure limit: the documented device 429, for a real session's page too.
    const limited = await page(sessionId);
    expectRateLimited({ ...limited, body: JSON.parse(limited.text) }, true);
    expect((await stack.gateway.status(sessionId)).status).toBe('created');

    const requests = await apiWith(limits(1000, 1000, 1000, 2, 1000));
    for (let i = 0; i < 2; i += 1) expect((await page(sessionId, requests)).status).toBe(200);
    const over = await call(requests, 'GET', `/flow/${sessionId}`);
    expectRateLimited(over, true);
  });

  test('IPv6 addresses count by their /64; an IPv4-mapped address as its IPv4 address', async () => {
    const base = await apiWith({ ...limits(2), trustedProxies: ['127.0.0.1'] });
    const from = (address: string) => call(base, 'POST', `/v1/client?client_id=${TENANT_A.id}`, { 'x-forwarded-for': address });
    expect((await from('2001:db8:1:2::1')).status).toBe(200);
    expect((await from('2001:db8:1:2:ffff:ffff:ffff:9')).status).toBe(200);
    expectRateLimited(await from('2001:0db8:0001:0002::abcd'), true);
    expect((await from('2001:db8:1:3::1')).status).toBe(200);

    expect((await from('203.0.113.9')).status).toBe(200);
    expect((await from('::ffff:203.0.113.9')).status).toBe(200);
    expectRateLimited(await from('203.0.113.9'), true);
  });
});
