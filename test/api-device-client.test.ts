/**
 * The device client (Clerk shape) over real HTTP against the real stack: cookie and header
 * credentials, sessions bound to the device that launched them, DELETE ending them all, the
 * handshake redirect and its allow-list, and refused credentials.
 */
import { DeviceTokens } from '../src/api/device-tokens';
import { DEVICE_TOKEN_SECRET, TENANT_B, type Answer } from './helpers/api';
import { useStack } from './helpers/use-stack';

const TENANT = { id: 'tenant-d', secret: 'tenant-d-secret-0123456789', perSecond: 1000, perDay: 1_000_000, redirectUrls: ['https://app.example.com/callback'] };

const { stack, api } = useStack('device-client', { api: { clients: [TENANT, TENANT_B] } });

type Credential = { cookie: string } | { bearer: string };

function headersFor(credential: Credential | null): Record<string, string> {
  if (!credential) return {};
  return 'cookie' in credential ? { cookie: `__client=${credential.cookie}` } : { authorization: `Bearer ${credential.bearer}` };
}

function cookieOf(answer: Answer): string {
  const header = String(answer.headers['set-cookie'] ?? '');
  return /__client=([^;]+)/.exec(header)![1];
}

async function newClient(native = false): Promise<Credential> {
  const answer = await api.call('POST', `/v1/client?client_id=${TENANT.id}${native ? '&_is_native=true' : ''}`, { as: null });
  expect(answer.status).toBe(200);
  if (native) {
    expect(answer.headers['set-cookie']).toBeUndefined();
    return { bearer: String(answer.headers.authorization).replace(/^Bearer /, '') };
  }
  return { cookie: cookieOf(answer) };
}

async function backendSession(tag: string): Promise<string> {
  const created = await stack.gateway.create({ tenantId: TENANT.id, tag, definition: stack.definition('consent-only') });
  return created.sessionId;
}

const launch = (id: string, credential: Credential | null) => api.call('POST', `/v1/handshakes/${id}/launch`, { as: null, headers: headersFor(credential) });
const consent = (id: string, nonce: string, credential: Credential | null, accepted = true) =>
  api.call('POST', `/v1/sessions/${id}/steps`, {
    as: null,
    headers: headersFor(credential),
    body: { client_id: TENANT.id, nonce, skill: 'consent-only', step: 'consent', data: { accepted } },
  });
const current = (credential: Credential | null) => api.call('GET', '/v1/client', { as: null, headers: headersFor(credential) });

/** The same credential as a bearer token: only a bearer credential binds a launch (cookies never do). */
const asBearer = (credential: Credential): Credential => ('cookie' in credential ? { bearer: credential.cookie } : credential);

test.each([
  ['cookie', false],
  ['Authorization header', true],
])('a credential handed over as a %s runs consent-only end to end as a bearer token, and the client lists its session', async (mode, native) => {
  const credential = asBearer(await newClient(native));
  const sessionId = await backendSession(`REF-device-${native ? 'native' : 'cookie'}`);
  const launched = await launch(sessionId, credential);
  expect(launched.status).toBe(200);
  expect((await stack.gateway.status(sessionId)).deviceClientId).toMatch(/^dc_/);
  expect((await current(credential)).body.client.sessions).toEqual([{ id: sessionId, status: 'in_progress', step: 'consent' }]);

  const done = await consent(sessionId, launched.body.nonce, credential);
  expect(done.body).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  const view = await current(credential);
  expect(view.status).toBe(200);
  expect(view.body.response).toEqual(view.body.client);
  expect(view.body.client).toMatchObject({ object: 'client', id: expect.stringMatching(/^dc_/), sessions: [{ id: sessionId, status: 'consumed', step: null }] });
});

test('the cookie is HttpOnly and SameSite=Lax; over plain HTTP not Secure, whatever the Host header says', async () => {
  for (const headers of [{}, { host: 'app.example.com' }] as Array<Record<string, string>>) {
    const answer = await api.call('POST', `/v1/client?client_id=${TENANT.id}`, { as: null, headers });
    const cookie = String(answer.headers['set-cookie']);
    expect(cookie).toMatch(/^__client=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
  }
  // Over HTTPS (PUBLIC_URL, or a trusted proxy) it is __Host-client and Secure: test/device-binding.test.ts.
});

test('a session launched by one device client cannot be stepped by another, even with the right nonce', async () => {
  const owner = asBearer(await newClient());
  const other = await newClient(true);
  const sessionId = await backendSession('REF-device-bound');
  const launched = await launch(sessionId, owner);
  const before = await stack.gateway.view(sessionId);
  for (const intruder of [other, null]) {
    const answer = await consent(sessionId, launched.body.nonce, intruder);
    expect(answer).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  }
  expect(await stack.gateway.view(sessionId)).toEqual(before);
  expect((await consent(sessionId, launched.body.nonce, owner)).status).toBe(200);
});

test('a device client of another app cannot launch this app\'s session', async () => {
  const foreign = await api.call('POST', `/v1/client?client_id=${TENANT_B.id}`, { as: null });
  const sessionId = await backendSession('REF-device-foreign');
  const answer = await launch(sessionId, { bearer: cookieOf(foreign) });
  expect(answer).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  expect((await stack.gateway.status(sessionId)).status).toBe('created');
});

test('DELETE /v1/client expires its live sessions and revokes the credential', async () => {
  const credential = await newClient();
  const live = await backendSession('REF-device-delete-live');
  const finished = await backendSession('REF-device-delete-done');
  await launch(live, asBearer(credential));
  const done = await launch(finished, asBearer(credential));
  await consent(finished, done.body.nonce, asBearer(credential));

  const deleted = await api.call('DELETE', '/v1/client', { as: null, headers: headersFor(credential) });
  expect(deleted.status).toBe(200);
  // The cookie it set is cleared: same name and path, expired at once.
  expect(deleted.headers['set-cookie']).toBe('__client=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
  const byId = Object.fromEntries(deleted.body.client.sessions.map((s: { id: string; status: string }) => [s.id, s.status]));
  expect(byId).toEqual({ [live]: 'expired', [finished]: 'consumed' });
  // The backend sees the ended session as expired, with the reason recorded.
  expect(await stack.gateway.status(live)).toMatchObject({ status: 'expired', endReason: 'ended by the device (DELETE /v1/client)' });

  for (const answer of [await current(credential), await launch(await backendSession('REF-device-after'), asBearer(credential))]) {
    expect(answer).toMatchObject({ status: 401, body: { code: 'invalid_client_credential' } });
  }
  const handshake = await api.call('GET', `/v1/client/handshake?redirect_url=${encodeURIComponent('https://app.example.com/callback')}`, { as: null, headers: headersFor(credential) });
  expect(handshake.status).toBe(403);
});

test('tampered and expired credentials get 401 and change nothing; the handshake refreshes an expired one', async () => {
  const credential = (await newClient()) as { cookie: string };
  const [prefix, payload, signature] = credential.cookie.split('.');
  const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const forgedPayload = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 10 ** 9 })).toString('base64url');
  for (const bad of [`${prefix}.${payload}.${flipped}`, `${prefix}.${forgedPayload}.${signature}`, 'not-a-token']) {
    expect((await current({ cookie: bad })).status).toBe(401);
  }

  // Same key, already expired: refused for normal use, accepted by the handshake for a refresh.
  const expired = new DeviceTokens(DEVICE_TOKEN_SECRET, 1).issue({ sub: claims.sub, ten: claims.ten, ref: claims.ref }, Date.now() - 1000);
  expect((await current({ cookie: expired })).status).toBe(401);
  const refreshed = await api.call('GET', `/v1/client/handshake?redirect_url=${encodeURIComponent('https://app.example.com/callback?next=1')}`, {
    as: null,
    headers: { cookie: `__client=${expired}` },
  });
  expect(refreshed.status).toBe(307);
  expect(refreshed.headers.location).toBe('https://app.example.com/callback?next=1');
  const fresh = cookieOf(refreshed);
  expect(fresh).not.toBe(expired);
  expect((await current({ cookie: fresh })).body.client.id).toBe(claims.sub);
});

describe('handshake redirects', () => {
  let credential: Credential;
  beforeAll(async () => {
    credential = await newClient();
  });
  const handshake = (redirect: string | null, extra = '') =>
    api.call('GET', `/v1/client/handshake${redirect === null ? '' : `?redirect_url=${encodeURIComponent(redirect)}`}${extra}`, { as: null, headers: headersFor(credential) });

  test('an allow-listed URL: 307 with a new credential', async () => {
    const answer = await handshake('https://app.example.com/callback/done');
    expect(answer.status).toBe(307);
    expect(answer.headers.location).toBe('https://app.example.com/callback/done');
    expect(cookieOf(answer)).not.toBe((credential as { cookie: string }).cookie);
  });

  test('native apps get the new credential in the Authorization header', async () => {
    const answer = await handshake('https://app.example.com/callback', '&_is_native=true');
    expect(answer.status).toBe(307);
    expect(String(answer.headers.authorization)).toMatch(/^Bearer sfc1\./);
  });

  test.each([
    'https://evil.example/callback',
    'https://app.example.com.evil.example/callback',
    'https://app.example.com/other',
    'http://app.example.com/callback',
    'https://user@app.example.com/callback',
    'javascript:alert(1)',
    '//evil.example/callback',
    '/callback',
  ])('%s is refused with 422, no redirect and no credential', async (target) => {
    const answer = await handshake(target);
    expect(answer).toMatchObject({ status: 422, body: { code: 'redirect_url_not_allowed' } });
    expect(answer.headers.location).toBeUndefined();
    expect(answer.headers['set-cookie']).toBeUndefined();
  });

  test('a missing redirect_url is 400; no credential is 403', async () => {
    expect((await handshake(null)).status).toBe(400);
    const anonymous = await api.call('GET', `/v1/client/handshake?redirect_url=${encodeURIComponent('https://app.example.com/callback')}`, { as: null });
    expect(anonymous.status).toBe(403);
  });
});
