/**
 * The device-binding model (docs/security/device-binding.md) over real HTTP against the real
 * stack: the hosted page's launch binds a session to a device key minted for it, set as that
 * session's own cookie; a credential the browser brought along (planted) neither adopts nor
 * continues it; two sessions in one browser each keep their own; `__Host-` names over HTTPS as
 * PUBLIC_URL or a trusted proxy says, never the Host header; and a step naming a made-up session
 * is refused before Temporal is asked anything.
 */
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { request } from 'undici';
import { buildApp } from '../src/api/app';
import type { Config } from '../src/config';
import { FlowCatalog } from '../src/flows/catalog';
import { openEncryption } from '../src/keys/encryption';
import { freePort } from '../scripts/dev-server';
import { DEVICE_TOKEN_SECRET, startApi, TENANT_A, TENANT_B, type Answer } from './helpers/api';
import { sessionSecret, type Stack } from './helpers/stack';
import { useStack } from './helpers/use-stack';

const { stack, api } = useStack('device-binding', { api: {} });

/** The cookies an answer sets, name to value. */
function setCookies(answer: Answer): Array<{ name: string; value: string; attributes: string }> {
  const header = answer.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return lines.map((line) => {
    const [pair, ...attributes] = line.split('; ');
    const [name, ...value] = pair.split('=');
    return { name, value: value.join('='), attributes: attributes.join('; ') };
  });
}

/** A browser's cookie jar, as the Cookie header it sends: later cookies of a name replace earlier ones, as in a browser (one domain, one path). */
class Jar {
  private readonly cookies = new Map<string, string>();
  /** Cookies set for another domain or path (planted): sent first, beside the jar's own. */
  planted: string[] = [];
  take(answer: Answer): void {
    for (const { name, value } of setCookies(answer)) this.cookies.set(name, value);
  }
  get names(): string[] {
    return [...this.cookies.keys()].sort();
  }
  header(): Record<string, string> {
    const pairs = [...this.planted, ...[...this.cookies].map(([name, value]) => `${name}=${value}`)];
    return pairs.length === 0 ? {} : { cookie: pairs.join('; ') };
  }
}

async function backendSession(tag: string, clientId = TENANT_A.id): Promise<string> {
  return (await stack.gateway.create({ tenantId: clientId, tag, definition: stack.definition('consent-only') })).sessionId;
}

async function open(id: string, jar: Jar): Promise<Answer> {
  const answer = await api.call('POST', `/v1/sessions/${id}/open`, { as: null, headers: jar.header() });
  jar.take(answer);
  return answer;
}

const consent = (id: string, nonce: string, jar: Jar, headers: Record<string, string> = {}) =>
  api.call('POST', `/v1/sessions/${id}/steps`, {
    as: null,
    headers: { ...jar.header(), ...headers },
    body: { client_id: TENANT_A.id, nonce, skill: 'consent-only', step: 'consent', data: { accepted: true } },
  });

describe('a planted cookie', () => {
  test("another device's valid credentials of the tenant, planted in the victim's browser, neither adopt nor continue the victim's session", async () => {
    // The attacker's own credentials of the same tenant: a device client (as a browser and as
    // the old hosted page's per-tenant cookie) and a device key of a session they launched.
    const attacker = new Jar();
    const client = await api.call('POST', `/v1/client?client_id=${TENANT_A.id}`, { as: null });
    attacker.take(client);
    const [{ value: clientToken }] = setCookies(client);
    const theirs = await backendSession('REF-planted-attacker');
    const [{ name: attackerKeyName, value: attackerKey }] = setCookies(await open(theirs, attacker));

    const victimSession = await backendSession('REF-planted-victim');
    const victim = new Jar();
    // Planted from a parent domain: sent before the victim's own cookies.
    victim.planted = [`__client=${clientToken}`, `__client_${TENANT_A.id}=${clientToken}`];
    const launched = await open(victimSession, victim);
    expect(launched).toMatchObject({ status: 200, body: { status: 'SESSION_IN_PROGRESS', step: 'consent' } });
    const [victimKey] = setCookies(launched);
    expect(victimKey.name).toMatch(/^session_[0-9a-f]{16}$/);
    // Bound to the key minted for this launch, not to the attacker's device client.
    const bound = (await stack.gateway.status(victimSession)).deviceClientId;
    expect(bound).toMatch(/^key_/);
    // The attacker's key of another session, planted under the victim session's cookie name, comes first too.
    victim.planted.push(`${victimKey.name}=${attackerKey}`);

    // The attacker's device client does not list the session, and no credential of theirs opens it.
    expect((await api.call('GET', '/v1/client', { as: null, headers: { cookie: `__client=${clientToken}` } })).body.client.sessions).toEqual([]);
    for (const cookie of [`__client=${clientToken}`, `__client_${TENANT_A.id}=${clientToken}`, `${victimKey.name}=${attackerKey}`, `${attackerKeyName}=${attackerKey}`]) {
      const refused = await api.call('POST', `/v1/sessions/${victimSession}/open`, { as: null, headers: { cookie } });
      expect({ cookie, status: refused.status, code: refused.body.code }).toEqual({ cookie, status: 409, code: 'session_open_elsewhere' });
    }
    // Even with the victim's nonce, the attacker's credentials do not continue it.
    expect(await consent(victimSession, launched.body.nonce, new Jar(), { cookie: `__client_${TENANT_A.id}=${clientToken}; ${victimKey.name}=${attackerKey}` })).toMatchObject({
      status: 404,
      body: { code: 'session_not_found' },
    });
    expect(await stack.gateway.status(victimSession)).toMatchObject({ status: 'in_progress', stepCount: 0, deviceClientId: bound });

    // The victim, with every planted cookie still sent first, picks the session up again and finishes it.
    const again = await open(victimSession, victim);
    expect(again).toMatchObject({ status: 200, body: { status: 'SESSION_IN_PROGRESS', step: 'consent', nonce: launched.body.nonce } });
    expect((await consent(victimSession, again.body.nonce, victim)).body).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  });

  test('a device client cookie never binds a launch: only a bearer credential does', async () => {
    const client = await api.call('POST', `/v1/client?client_id=${TENANT_A.id}`, { as: null });
    const [{ value: token }] = setCookies(client);
    const byCookie = await backendSession('REF-cookie-launch');
    expect((await api.call('POST', `/v1/handshakes/${byCookie}/launch`, { as: null, headers: { cookie: `__client=${token}` } })).status).toBe(200);
    expect((await stack.gateway.status(byCookie)).deviceClientId).toBeNull();
    const byBearer = await backendSession('REF-bearer-launch');
    expect((await api.call('POST', `/v1/handshakes/${byBearer}/launch`, { as: null, headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await stack.gateway.status(byBearer)).deviceClientId).toMatch(/^dc_/);
    const listed = await api.call('GET', '/v1/client', { as: null, headers: { cookie: `__client=${token}` } });
    expect(listed.body.client.sessions.map((s: { id: string }) => s.id)).toEqual([byBearer]);
  });
});

test('two sessions in one browser each get their own cookie, and both go on', async () => {
  const browser = new Jar();
  const first = await backendSession('REF-two-first');
  const second = await backendSession('REF-two-second');
  const openedFirst = await open(first, browser);
  const openedSecond = await open(second, browser);
  expect([openedFirst.status, openedSecond.status]).toEqual([200, 200]);
  expect(browser.names).toHaveLength(2);
  expect(browser.names.every((name) => /^session_[0-9a-f]{16}$/.test(name))).toBe(true);
  for (const cookie of [...setCookies(openedFirst), ...setCookies(openedSecond)]) {
    // Plain HTTP here: not Secure; it lives as long as the session (24 h by default).
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie.attributes)![1]);
    expect(cookie.attributes).toBe(`Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`);
    expect(maxAge).toBeGreaterThan(23 * 3600);
  }
  // The first picks up where it was after the second launched, and both finish.
  const again = await open(first, browser);
  expect(again.body).toMatchObject({ status: 'SESSION_IN_PROGRESS', nonce: openedFirst.body.nonce });
  expect((await consent(first, again.body.nonce, browser)).body).toMatchObject({ status: 'SESSION_COMPLETED' });
  expect((await consent(second, openedSecond.body.nonce, browser)).body).toMatchObject({ status: 'SESSION_COMPLETED' });
});

/** Another api on the same stack, with some settings of its own. */
function apiWith(settings: Partial<Config['api']>) {
  return startApi({ ...stack, config: { ...stack.config, api: { ...stack.config.api, ...settings } } } as Stack, [TENANT_A, TENANT_B]);
}

describe('__Host- cookies over HTTPS, decided by configuration', () => {

  test('PUBLIC_URL https: the key cookie is __Host- and Secure, and only that name is read', async () => {
    const https = await apiWith({ publicUrl: 'https://flows.example.com' });
    try {
      const id = await backendSession('REF-https-public');
      const launched = await https.call('POST', `/v1/sessions/${id}/open`, { as: null });
      const [cookie] = setCookies(launched);
      expect(cookie.name).toMatch(/^__Host-session_[0-9a-f]{16}$/);
      expect(cookie.attributes).toMatch(/^Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
      expect((await https.call('POST', `/v1/sessions/${id}/open`, { as: null, headers: { cookie: `${cookie.name}=${cookie.value}` } })).status).toBe(200);
      // The same key under the name a sibling subdomain could set is not read.
      const plain = cookie.name.replace('__Host-', '');
      expect((await https.call('POST', `/v1/sessions/${id}/open`, { as: null, headers: { cookie: `${plain}=${cookie.value}` } })).body.code).toBe('session_open_elsewhere');
      const client = await https.call('POST', `/v1/client?client_id=${TENANT_A.id}`, { as: null });
      expect(setCookies(client)[0]).toMatchObject({ name: '__Host-client', attributes: expect.stringMatching(/; Secure$/) });
    } finally {
      await https.close();
    }
  });

  test('X-Forwarded-Proto counts only from a configured trusted proxy; the Host header never', async () => {
    const id = await backendSession('REF-https-host');
    const untrusted = await api.call('POST', `/v1/sessions/${id}/open`, { as: null, headers: { host: 'flows.example.com', 'x-forwarded-proto': 'https' } });
    expect(setCookies(untrusted)[0].name).toMatch(/^session_/);
    expect(setCookies(untrusted)[0].attributes).not.toMatch(/Secure/);
    const proxied = await apiWith({ trustedProxies: ['127.0.0.1'] });
    try {
      const other = await backendSession('REF-https-proxy');
      const answer = await proxied.call('POST', `/v1/sessions/${other}/open`, { as: null, headers: { 'x-forwarded-proto': 'https' } });
      expect(setCookies(answer)[0]).toMatchObject({ name: expect.stringMatching(/^__Host-session_/), attributes: expect.stringMatching(/; Secure$/) });
    } finally {
      await proxied.close();
    }
  });
});

test('a nonce from before tags reaches the session only while UNTAGGED_NONCES_UNTIL lets it', async () => {
  const id = await backendSession('REF-untagged');
  const step = (running: { call: typeof api.call }) =>
    running.call('POST', `/v1/sessions/${id}/steps`, { as: null, body: { client_id: TENANT_A.id, nonce: 'n'.repeat(43), skill: 'consent-only', step: 'consent', data: { accepted: true } } });
  // Refused at once by default; let through until the configured time, where the session (not launched) refuses it.
  expect((await step(api)).body.code).toBe('invalid_nonce');
  const upgrading = await apiWith({ untaggedNoncesUntil: Date.now() + 3_600_000 });
  const past = await apiWith({ untaggedNoncesUntil: Date.now() - 1 });
  try {
    expect((await step(upgrading)).body.code).toBe('session_not_launched');
    expect((await step(past)).body.code).toBe('invalid_nonce');
  } finally {
    await upgrading.close();
    await past.close();
  }
});

test('a step naming a made-up session, with a well-formed nonce, is refused without Temporal being asked', async () => {
  // An api whose Temporal does not answer: any call to it would fail (503 or 500), never 400.
  const address = `127.0.0.1:${await freePort()}`;
  const connection = Connection.lazy({ address });
  const app = buildApp({
    config: stack.config,
    temporal: new Client({ connection, namespace: stack.config.temporal.namespace, dataConverter: openEncryption(stack.config).dataConverter }),
    clients: [TENANT_A],
    catalog: FlowCatalog.load('flows'),
    deviceTokenSecret: DEVICE_TOKEN_SECRET,
    sessionSecret,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    // A nonce this api really minted, for another session: well-formed, and not this one's.
    const nonce = sessionSecret.nextNonce('DSrealsession00000000a', 'step-x');
    for (const id of ['DSmadeup0000000000000a', 'DSmadeup0000000000000b']) {
      const answer = await request(`${url}/v1/sessions/${id}/steps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: TENANT_A.id, nonce, skill: 'consent-only', step: 'consent', data: { accepted: true } }),
      });
      expect({ status: answer.statusCode, body: await answer.body.json() }).toMatchObject({ status: 400, body: { code: 'invalid_nonce' } });
    }
  } finally {
    await app.close();
    await connection.close();
  }
});
