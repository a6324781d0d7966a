/**
 * The operator codec server: Temporal's /encode and /decode protocol over real HTTP on
 * loopback. Every request needs an operator credential, from loopback too and through a local
 * proxy (trusted or not); the Host header must name a configured host; /encode is for admins;
 * the UI's capability path acts as its operator and never shows in the logs; CORS answers the
 * UI's origin only; a shredded session shows the marker without failing the batch; 503 when
 * the store cannot be read.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { EncryptionCodec, SHREDDED_MARKER } from '../../src/keys/codec';
import { buildCodecServer, CODEC_COOKIE, type CodecServerOptions } from '../../src/keys/codec-server';
import { FileKeyStore } from '../../src/keys/file-store';
import { kekOf } from '../../src/keys/kek';
import { namespaceKeyId, sessionKeyId } from '../../src/keys/key-store';
import { OperatorRegistry } from '../../src/operators/registry';
import { newOperatorToken, operatorTokenSha256 } from '../../src/operators/tokens';
import { unreachableKeyStore } from '../helpers/key-stores';
import { scratchAuditTrail } from '../helpers/audit';

const UI = 'http://ui.example:8233';
const ADMIN_TOKEN = newOperatorToken();
const VIEWER_TOKEN = newOperatorToken();
const CAPABILITY = randomBytes(32).toString('base64url');
const operators = new OperatorRegistry([
  { name: 'ada', role: 'admin', tokenSha256: [operatorTokenSha256(ADMIN_TOKEN)] },
  { name: 'vic', role: 'viewer', tokenSha256: [operatorTokenSha256(VIEWER_TOKEN)] },
]);
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const viewer = { authorization: `Bearer ${VIEWER_TOKEN}` };
const store = new FileKeyStore(mkdtempSync(join('.data', 'test-codec-server-')), [kekOf(randomBytes(32))]);
const codec = new EncryptionCodec(store, { namespace: 'default' });
const servers: Array<FastifyInstance | Server> = [];
let logs = '';
let url: string;

/** A codec server on a free loopback port; `allowedHosts` as `make start` has them unless given. */
async function start(options: Partial<CodecServerOptions> = {}): Promise<string> {
  const app = buildCodecServer({ keys: store, audit: scratchAuditTrail('test-codec-audit-').trail, uiOrigin: UI, operators, allowedHosts: ['localhost', '127.0.0.1', '::1'], defaultNamespace: 'default', ...options });
  servers.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/**
 * A plain local proxy on 127.0.0.1 (the kind that puts TLS in front): passes the request on
 * with its Host header, adding X-Forwarded-For as such proxies do.
 */
async function proxyTo(target: string): Promise<string> {
  const { hostname, port } = new URL(target);
  const proxy = createServer((incoming, outgoing) => {
    const forwarded = httpRequest(
      { host: hostname, port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, 'x-forwarded-for': incoming.socket.remoteAddress } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    incoming.pipe(forwarded);
  });
  servers.push(proxy);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

const post = (base: string, path: string, body: string | object, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** A request with a Host header of our choosing (fetch will not set one); a POST of an empty batch unless `get`. */
function withHost(base: string, path: string, host: string, headers: Record<string, string> = {}, get = false): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const method = get ? 'GET' : 'POST';
    const sent = httpRequest({ host: hostname, port, method, path, headers: { host, ...(get ? {} : { 'content-type': 'application/json' }), ...headers } }, (answer) => {
      answer.resume();
      resolve(answer.statusCode ?? 0);
    });
    sent.on('error', reject);
    sent.end(get ? undefined : '{"payloads":[]}');
  });
}

const wf = (n: string) => ({ type: 'workflow' as const, namespace: 'default', workflowId: `session-${n.repeat(32)}` });
const json = (payload: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});
const valueOf = (payload: { data: string }) => JSON.parse(Buffer.from(payload.data, 'base64').toString());
const hello = { payloads: [json(defaultPayloadConverter.toPayload('hello'))] };

beforeAll(async () => {
  await store.initialise('default');
  url = await start({ uiCapability: { operator: 'ada', secret: CAPABILITY }, logger: { level: 'info', stream: { write: (line) => (logs += line) } } });
});

afterAll(async () => {
  for (const server of servers) await ('listening' in server ? new Promise((resolve) => server.close(resolve)) : server.close());
});

test('decodes a batch for an operator; a shredded session shows the marker and the rest decodes', async () => {
  const [live] = await codec.encode([defaultPayloadConverter.toPayload({ name: 'Live Person' })], wf('a'));
  const [gone] = await codec.encode([defaultPayloadConverter.toPayload({ name: 'Gone Person' })], wf('b'));
  const plain = defaultPayloadConverter.toPayload({ old: true });
  await store.destroy(sessionKeyId(wf('b').workflowId)!);
  const answer = await post(url, '/decode', { payloads: [json(live), json(gone), json(plain)] }, { 'x-namespace': 'default', origin: UI, ...viewer });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('access-control-allow-origin')).toBe(UI);
  const { payloads } = (await answer.json()) as { payloads: Array<{ data: string }> };
  expect(payloads.map(valueOf)).toEqual([{ name: 'Live Person' }, SHREDDED_MARKER, { old: true }]);
});

test('from loopback, without a credential or with a wrong one: 401 on /decode and /encode', async () => {
  for (const path of ['/decode', '/encode']) {
    expect((await post(url, path, { payloads: [] })).status).toBe(401);
    expect((await post(url, path, { payloads: [] }, { authorization: `Bearer ${newOperatorToken()}` })).status).toBe(401);
    expect((await post(url, path, { payloads: [] }, { cookie: `${CODEC_COOKIE}=forged` })).status).toBe(401);
    expect((await post(url, path, { payloads: [] }, { cookie: `${CODEC_COOKIE}=%E0%A4%A` })).status).toBe(401);
  }
});

test('through a plain local proxy, trusted or not, a request without a credential is refused', async () => {
  for (const trustedProxies of [[], ['127.0.0.1']]) {
    const proxied = await proxyTo(await start({ trustedProxies }));
    expect((await post(proxied, '/decode', { payloads: [] })).status).toBe(401);
    expect((await post(proxied, '/decode', { payloads: [] }, { 'x-forwarded-for': '127.0.0.1' })).status).toBe(401);
    expect((await post(proxied, '/decode', { payloads: [] }, viewer)).status).toBe(200);
  }
});

test('a Host header naming another host is refused, even with a credential (DNS rebinding)', async () => {
  const port = new URL(url).port;
  expect(await withHost(url, '/decode', `rebound.example:${port}`, admin)).toBe(421);
  expect(await withHost(url, '/decode', `127.0.0.1.nip.io:${port}`, admin)).toBe(421);
  expect(await withHost(url, `/ui/${CAPABILITY}/decode`, `rebound.example:${port}`)).toBe(421);
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) expect(await withHost(url, '/decode', host, admin)).toBe(200);
  // Behind a trusted proxy the name the client used is its X-Forwarded-Host.
  const behind = await start({ trustedProxies: ['127.0.0.1'], allowedHosts: ['codec.example'] });
  expect(await withHost(behind, '/decode', 'codec.example', { ...admin, 'x-forwarded-host': 'rebound.example' })).toBe(421);
  expect(await withHost(behind, '/decode', 'internal:1', { ...admin, 'x-forwarded-host': 'codec.example' })).toBe(200);
  // Health checks name whatever host the orchestrator uses; the answer holds nothing.
  expect(await withHost(url, '/healthz', 'anything.example', {}, true)).toBe(200);
});

test('/encode is for admins: a viewer gets 403 and nothing is written; an admin gets payloads the codec decodes', async () => {
  const refused = await post(url, '/encode', hello, { 'x-namespace': 'viewer-ns', ...viewer });
  expect(refused.status).toBe(403);
  expect(await store.get(namespaceKeyId('viewer-ns'))).toBeNull();
  const answer = await post(url, '/encode', hello, { 'x-namespace': 'default', ...admin });
  expect(answer.status).toBe(200);
  const { payloads } = (await answer.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
  expect(Buffer.from(payloads[0].metadata['encryption-key-id'], 'base64').toString()).toBe('namespace-default');
  const decoded = await codec.decode([{ metadata: Object.fromEntries(Object.entries(payloads[0].metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(payloads[0].data, 'base64') }]);
  expect(defaultPayloadConverter.fromPayload(decoded[0])).toBe('hello');
});

test("the UI's capability path decodes and encodes as its operator; a wrong one is 401; the secret is never logged", async () => {
  const [live] = await codec.encode([defaultPayloadConverter.toPayload({ name: 'Capable Person' })], wf('d'));
  const answer = await post(url, `/ui/${CAPABILITY}/decode`, { payloads: [json(live)] }, { origin: UI });
  expect(answer.status).toBe(200);
  expect(((await answer.json()) as { payloads: Array<{ data: string }> }).payloads.map(valueOf)).toEqual([{ name: 'Capable Person' }]);
  expect((await post(url, `/ui/${CAPABILITY}/encode`, hello)).status).toBe(200);
  const preflight = await fetch(`${url}/ui/${CAPABILITY}/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST' } });
  expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
  for (const wrong of [randomBytes(32).toString('base64url'), '', CAPABILITY.slice(1)]) expect((await post(url, `/ui/${wrong}/decode`, { payloads: [] })).status).toBe(401);
  // A capability bound to a viewer may decode but not encode.
  const viewerUrl = await start({ uiCapability: { operator: 'vic', secret: CAPABILITY } });
  expect((await post(viewerUrl, `/ui/${CAPABILITY}/decode`, { payloads: [] })).status).toBe(200);
  expect((await post(viewerUrl, `/ui/${CAPABILITY}/encode`, hello)).status).toBe(403);
  expect(logs).toContain('/decode');
  expect(logs).not.toContain(CAPABILITY);
});

test('encode never creates a namespace key: a namespace the init step did not make answers 503, and no key appears', async () => {
  const answer = await post(url, '/encode', { payloads: [json(defaultPayloadConverter.toPayload('hello'))] }, { ...admin, 'x-namespace': 'not-initialised' });
  expect(answer.status).toBe(503);
  expect(await store.get('namespace-not-initialised')).toBeNull();
});

test('an empty batch in protobuf JSON (`{}`: an update without arguments) answers an empty batch', async () => {
  for (const path of ['/decode', '/encode']) {
    const answer = await post(url, path, {}, admin);
    expect({ path, status: answer.status, body: await answer.json() }).toEqual({ path, status: 200, body: { payloads: [] } });
  }
  expect((await post(url, '/decode', { payloads: 'nope' }, admin)).status).toBe(400);
});

test('CORS answers the UI origin only', async () => {
  const preflight = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
  expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
  const other = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});

test("the UI's cookie: signing in with an operator's token sets it, and it carries that operator", async () => {
  const signIn = await post(url, '/auth', `token=${VIEWER_TOKEN}`);
  expect(signIn.status).toBe(200);
  const setCookie = signIn.headers.get('set-cookie') ?? '';
  // A signed session, not the token; over plain HTTP not Secure (a Secure cookie would not come back).
  expect(setCookie).toMatch(new RegExp(`^${CODEC_COOKIE}=s1\\.[^;]+; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800$`));
  expect(setCookie).not.toContain(VIEWER_TOKEN);
  const cookie = { cookie: setCookie.split(';')[0] };
  expect((await post(url, '/decode', { payloads: [] }, cookie)).status).toBe(200);
  expect((await post(url, '/encode', hello, cookie)).status).toBe(403);
  expect((await post(url, '/auth', 'token=nope')).status).toBe(401);
});

test('the sign-in form as a browser posts it, its empty fields included, signs in; with nothing filled in it is malformed', async () => {
  const form = await (await fetch(`${url}/auth`)).text();
  const fields = [...form.matchAll(/<input name="(\w+)"/g)].map((match) => match[1]).sort();
  expect(fields).toEqual(['name', 'password', 'token']);
  const filled = await post(url, '/auth', `name=&password=&token=${VIEWER_TOKEN}`);
  expect(filled.status).toBe(200);
  expect(filled.headers.get('set-cookie')).toMatch(new RegExp(`^${CODEC_COOKIE}=s1\\.`));
  const empty = await post(url, '/auth', 'name=&password=&token=');
  expect(empty.status).toBe(400);
  expect(await empty.json()).toMatchObject({ code: 'sign_in_malformed' });
});

test('a key store that cannot be read answers 503 for the batch: nothing is guessed', async () => {
  const [live] = await codec.encode([defaultPayloadConverter.toPayload({ a: 1 })], wf('c'));
  const broken = await start({ keys: unreachableKeyStore() });
  expect((await post(broken, '/decode', { payloads: [json(live)] }, viewer)).status).toBe(503);
});
