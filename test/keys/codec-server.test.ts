/**
 * The operator codec server: Temporal's /encode and /decode protocol over real HTTP on
 * loopback, CORS for the UI's origin only, the operator credential for everyone off loopback
 * (reached through the machine's own non-loopback address), the shredded marker
 * without failing the batch, and 503 when the store cannot be read.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { EncryptionCodec, SHREDDED_MARKER } from '../../src/keys/codec';
import { buildCodecServer, CODEC_COOKIE } from '../../src/keys/codec-server';
import { FileKeyStore } from '../../src/keys/file-store';
import { kekOf } from '../../src/keys/kek';
import { sessionKeyId } from '../../src/keys/key-store';
import { unreachableKeyStore } from '../helpers/key-stores';

const UI = 'http://ui.example:8233';
const TOKEN = 'operator-token-0123456789-abcdefghijkl';
const store = new FileKeyStore(mkdtempSync(join('.data', 'test-codec-server-')), [kekOf(randomBytes(32))]);
const codec = new EncryptionCodec(store, { namespace: 'default' });
let app: FastifyInstance;
let url: string;
/** The same server reached through a non-loopback interface: requests arrive from that address. */
let remoteUrl: string;

function nonLoopbackAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((info) => info && !info.internal && info.family === 'IPv4')?.address;
  if (!address) throw new Error('this test needs a non-loopback IPv4 interface to reach the codec server from off loopback');
  return address;
}

const post = (base: string, path: string, body: string | object, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const wf = (n: string) => ({ type: 'workflow' as const, namespace: 'default', workflowId: `session-${n.repeat(32)}` });
const json = (payload: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});
const valueOf = (payload: { data: string }) => JSON.parse(Buffer.from(payload.data, 'base64').toString());

beforeAll(async () => {
  await store.initialise('default');
  app = buildCodecServer({ keys: store, uiOrigin: UI, operatorToken: TOKEN, defaultNamespace: 'default' });
  await app.listen({ host: '0.0.0.0', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  remoteUrl = `http://${nonLoopbackAddress()}:${port}`;
});

afterAll(async () => {
  await app.close();
});

test('decodes a batch over HTTP from loopback; a shredded session shows the marker and the rest decodes', async () => {
  const [live] = await codec.encode([defaultPayloadConverter.toPayload({ name: 'Live Person' })], wf('a'));
  const [gone] = await codec.encode([defaultPayloadConverter.toPayload({ name: 'Gone Person' })], wf('b'));
  const plain = defaultPayloadConverter.toPayload({ old: true });
  await store.destroy(sessionKeyId(wf('b').workflowId)!);
  const answer = await fetch(`${url}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: UI },
    body: JSON.stringify({ payloads: [json(live), json(gone), json(plain)] }),
  });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('access-control-allow-origin')).toBe(UI);
  const { payloads } = (await answer.json()) as { payloads: Array<{ data: string }> };
  expect(payloads.map(valueOf)).toEqual([{ name: 'Live Person' }, SHREDDED_MARKER, { old: true }]);
});

test('encode answers payloads the codec decodes, under the namespace key', async () => {
  const answer = await fetch(`${url}/encode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default' },
    body: JSON.stringify({ payloads: [json(defaultPayloadConverter.toPayload('hello'))] }),
  });
  const { payloads } = (await answer.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
  expect(Buffer.from(payloads[0].metadata['encryption-key-id'], 'base64').toString()).toBe('namespace-default');
  const decoded = await codec.decode([{ metadata: Object.fromEntries(Object.entries(payloads[0].metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(payloads[0].data, 'base64') }]);
  expect(defaultPayloadConverter.fromPayload(decoded[0])).toBe('hello');
});

test('encode never creates a namespace key: a namespace the init step did not make answers 503, and no key appears', async () => {
  const answer = await fetch(`${url}/encode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'not-initialised' },
    body: JSON.stringify({ payloads: [json(defaultPayloadConverter.toPayload('hello'))] }),
  });
  expect(answer.status).toBe(503);
  expect(await store.get('namespace-not-initialised')).toBeNull();
});

test('an empty batch in protobuf JSON (`{}`: an update without arguments) answers an empty batch', async () => {
  for (const path of ['/decode', '/encode']) {
    const answer = await post(url, path, {});
    expect({ path, status: answer.status, body: await answer.json() }).toEqual({ path, status: 200, body: { payloads: [] } });
  }
  expect((await post(url, '/decode', { payloads: 'nope' })).status).toBe(400);
});

test('CORS answers the UI origin only', async () => {
  const preflight = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
  expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');
  const other = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});

test('off loopback: 401 without the operator credential; the bearer token (CLI) or the cookie (UI) lets it through', async () => {
  const body = { payloads: [] };
  expect((await post(remoteUrl, '/decode', body)).status).toBe(401);
  expect((await post(remoteUrl, '/decode', body, { authorization: 'Bearer wrong-token' })).status).toBe(401);
  expect((await post(remoteUrl, '/decode', body, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  const signIn = await post(remoteUrl, '/auth', `token=${TOKEN}`);
  expect(signIn.status).toBe(200);
  const setCookie = signIn.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(new RegExp(`^${CODEC_COOKIE}=.*HttpOnly; Secure; SameSite=None`));
  expect((await post(remoteUrl, '/decode', body, { cookie: setCookie.split(';')[0] })).status).toBe(200);
  expect((await post(remoteUrl, '/decode', body, { cookie: `${CODEC_COOKIE}=forged` })).status).toBe(401);
  expect((await post(remoteUrl, '/auth', 'token=nope')).status).toBe(401);
});

test('without a configured operator token only loopback is served', async () => {
  const loopbackOnly = buildCodecServer({ keys: store, uiOrigin: UI, defaultNamespace: 'default' });
  await loopbackOnly.listen({ host: '0.0.0.0', port: 0 });
  const { port } = loopbackOnly.server.address() as AddressInfo;
  try {
    expect((await post(`http://${nonLoopbackAddress()}:${port}`, '/decode', { payloads: [] }, { authorization: 'Bearer anything' })).status).toBe(401);
    expect((await post(`http://127.0.0.1:${port}`, '/decode', { payloads: [] })).status).toBe(200);
  } finally {
    await loopbackOnly.close();
  }
});

test('a key store that cannot be read answers 503 for the batch: nothing is guessed', async () => {
  const down = unreachableKeyStore();
  const [live] = await codec.encode([defaultPayloadConverter.toPayload({ a: 1 })], wf('c'));
  const broken = buildCodecServer({ keys: down, uiOrigin: UI, defaultNamespace: 'default' });
  await broken.listen({ host: '127.0.0.1', port: 0 });
  try {
    const answer = await post(`http://127.0.0.1:${(broken.server.address() as AddressInfo).port}`, '/decode', { payloads: [json(live)] });
    expect(answer.status).toBe(503);
  } finally {
    await broken.close();
  }
});
