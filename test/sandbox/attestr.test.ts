import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server';

const CLIENT_ID = 'test-client';
const SECRET = 'test-secret';
const AUTH = `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`;
const CREATE = '/api/v1/public/flowx/handshake';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await request(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const sign = (result: unknown, secret = SECRET) => createHmac('sha256', secret).update(JSON.stringify(result)).digest('hex');

let sandbox: RunningSandbox;
let attestr: string;
let tagCounter = 0;
const freshTag = () => `REF-${Date.now()}-${(tagCounter += 1)}`;
const create = (body: Record<string, unknown>, auth = AUTH) => call(attestr, 'POST', CREATE, body, { authorization: auth });
const getHandshake = (id: string) => call(attestr, 'GET', `${CREATE}/${id}`, undefined, { authorization: AUTH });
const complete = (id: string, output?: unknown) => call(attestr, 'POST', `/_device/handshakes/${id}/complete`, output);
const queueFault = (fault: Record<string, unknown>) => call(attestr, 'POST', '/_faults', fault);
const calls = async () => (await call(attestr, 'GET', '/_calls')).body as { method: string; path: string; status: number; at: number; fault?: true }[];

beforeAll(async () => {
  sandbox = await startSandbox({ attestr: { clientId: CLIENT_ID, secret: SECRET }, finqware: { clientId: 'f', appKey: 'k' } });
  attestr = `${sandbox.url}/attestr`;
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  await call(attestr, 'DELETE', '/_faults');
  await call(attestr, 'DELETE', '/_calls');
});

describe('create handshake', () => {
  it('returns an id, a human readable number and a digest over them', async () => {
    const tag = freshTag();
    const { status, body } = await create({ flow: 'FXsample', snapshot: null, tag });
    expect(status).toBe(200);
    expect(body._id).toMatch(/^DS[0-9a-z]{19}$/);
    expect(body.number).toMatch(/^\d{4}-\d{6}-\d{4}$/);
    expect(body.digest).toBe(createHash('sha256').update(`${body._id}:${body.number}:${tag}`).digest('hex'));
  });

  it.each([
    ['no header', undefined],
    ['a wrong secret', `Basic ${Buffer.from(`${CLIENT_ID}:nope`).toString('base64')}`],
    ['a bearer token', 'Bearer abc'],
  ])('refuses %s with 401 code 4016', async (_name, authorization) => {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const { status, body } = await call(attestr, 'POST', CREATE, { flow: 'F', snapshot: null, tag: freshTag() }, headers);
    expect(status).toBe(401);
    expect(body).toEqual({ code: 4016, message: 'Invalid client authorization' });
  });

  it('checks authorization before the body', async () => {
    const { status } = await call(attestr, 'POST', CREATE, '{not json', {});
    expect(status).toBe(401);
  });

  const now = Date.now();
  it.each([
    ['malformed JSON', '{"flow":'],
    ['a JSON array', [1]],
    ['missing flow', { snapshot: null, tag: 'T' }],
    ['missing snapshot key', { flow: 'F', tag: 'T' }],
    ['a numeric snapshot', { flow: 'F', snapshot: 3, tag: 'T' }],
    ['missing tag', { flow: 'F', snapshot: null }],
    ['a string webhook flag', { flow: 'F', snapshot: null, tag: 'T', webhook: 'yes' }],
    ['an unknown field', { flow: 'F', snapshot: null, tag: 'T', colour: 'red' }],
    ['an expiry in the past', { flow: 'F', snapshot: null, tag: 'T', expiry: now - 1000 }],
    ['an expiry beyond one year', { flow: 'F', snapshot: null, tag: 'T', expiry: now + 400 * 24 * 3600 * 1000 }],
    ['an expiry that is a string', { flow: 'F', snapshot: null, tag: 'T', expiry: String(now + 60_000) }],
  ])('answers 400 code 4001 for %s', async (_name, body) => {
    const answer = await call(attestr, 'POST', CREATE, body, { authorization: AUTH });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 4001, message: 'Malformed data or missing required parameter values' });
  });

  it('returns the same handshake for a repeated tag of the same flow, creating nothing new', async () => {
    const tag = freshTag();
    const first = await create({ flow: 'FXa', snapshot: 'snap-1', tag });
    const again = await create({ flow: 'FXa', snapshot: 'snap-1', tag, webhook: true });
    const otherFlow = await create({ flow: 'FXb', snapshot: 'snap-1', tag });
    expect(again.body).toEqual(first.body);
    expect(otherFlow.body._id).not.toBe(first.body._id);
    expect((await getHandshake(first.body._id)).body.tag).toBe(tag);
  });
});

describe('execution result and completion', () => {
  it('shows an unfinished handshake with null result and a fresh requestId per call', async () => {
    const tag = freshTag();
    const { body: created } = await create({ flow: 'F', snapshot: null, tag });
    const first = await getHandshake(created._id);
    const second = await getHandshake(created._id);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      _id: created._id,
      number: created.number,
      tag,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      consumed: false,
      archived: null,
      result: null,
      resultSignature: null,
    });
    expect(second.body.requestId).not.toBe(first.body.requestId);
  });

  it('answers 404 for an unknown id and 401 without authorization', async () => {
    expect(await getHandshake('DSdoesnotexist')).toMatchObject({ status: 404, body: { code: 4001, message: 'Handshake not found' } });
    const { body } = await create({ flow: 'F', snapshot: null, tag: freshTag() });
    expect((await call(attestr, 'GET', `${CREATE}/${body._id}`)).status).toBe(401);
  });

  it('completes once with a result signed by the client secret', async () => {
    const { body: created } = await create({ flow: 'F', snapshot: null, tag: freshTag() });
    const done = await complete(created._id);
    expect(done.status).toBe(200);
    expect(done.body.consumed).toBe(true);
    const stageIds = Object.keys(done.body.result);
    expect(stageIds).toHaveLength(1);
    expect(stageIds[0]).toMatch(/^FS[0-9a-z]+$/);
    expect(done.body.result[stageIds[0]].output).toMatchObject({ name: expect.any(String), birthDate: expect.any(String), zip: expect.any(String) });
    expect(done.body.resultSignature).toBe(sign(done.body.result));
    expect(done.body.resultSignature).not.toBe(sign(done.body.result, 'another-secret'));

    const fetched = await getHandshake(created._id);
    expect(fetched.body).toMatchObject({ consumed: true, result: done.body.result, resultSignature: done.body.resultSignature });
    expect(fetched.body.resultSignature).toBe(sign(fetched.body.result));

    const twice = await complete(created._id);
    expect(twice).toMatchObject({ status: 409, body: { code: 4001, message: 'Handshake already completed' } });
    expect((await getHandshake(created._id)).body.result).toEqual(done.body.result);
  });

  it('uses the posted stage output', async () => {
    const { body: created } = await create({ flow: 'F', snapshot: null, tag: freshTag() });
    const output = { name: 'Given Output', zip: '000000' };
    const { body } = await complete(created._id, output);
    expect(Object.values(body.result)).toEqual([{ input: expect.any(Object), output }]);
    expect(body.resultSignature).toBe(sign(body.result));
  });

  it('refuses to complete an expired handshake or an unknown one', async () => {
    const { body: created } = await create({ flow: 'F', snapshot: null, tag: freshTag(), expiry: Date.now() + 150 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await complete(created._id)).toMatchObject({ status: 409, body: { code: 4001, message: 'Handshake expired' } });
    expect((await complete('DSunknown')).status).toBe(404);
  });

  it('logs vendor calls only, in order', async () => {
    const { body: created } = await create({ flow: 'F', snapshot: null, tag: freshTag() });
    await complete(created._id);
    await getHandshake(created._id);
    const log = await calls();
    expect(log.map(({ method, path, status }) => [method, path, status])).toEqual([
      ['POST', CREATE, 200],
      ['GET', `${CREATE}/${created._id}`, 200],
    ]);
    expect(log[0].at).toBeLessThanOrEqual(log[1].at);
    expect(log.some((entry) => entry.fault)).toBe(false);
    await call(attestr, 'DELETE', '/_calls');
    expect(await calls()).toEqual([]);
  });
});

describe('completion webhook', () => {
  let receiver: Server;
  let hooked: RunningSandbox;
  let hookedBase: string;
  const received: { body: any; headers: IncomingMessage['headers'] }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  let failNext = false;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (chunk: Buffer) => (data += chunk.toString()));
      req.on('end', () => {
        received.push({ body: JSON.parse(data), headers: req.headers });
        res.statusCode = failNext ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    hooked = await startSandbox({
      attestr: { clientId: CLIENT_ID, secret: SECRET, webhookUrl: `http://127.0.0.1:${port}/hooks` },
      finqware: { clientId: 'f', appKey: 'k' },
    });
    hookedBase = `${hooked.url}/attestr`;
  });
  afterAll(async () => {
    await hooked.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const webhookLog = async () =>
    ((await call(hookedBase, 'GET', '/_calls')).body as { path: string; status: number }[]).filter((entry) => entry.path === 'webhook');
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await check()); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  };

  it('keeps sandboxes independent', async () => {
    const { body } = await create({ flow: 'F', snapshot: null, tag: freshTag() });
    expect((await call(hookedBase, 'GET', `${CREATE}/${body._id}`, undefined, { authorization: AUTH })).status).toBe(404);
  });

  it('posts the signed result to the webhook URL for handshakes created with webhook: true', async () => {
    received.length = 0;
    failNext = false;
    const tag = freshTag();
    const quiet = await call(hookedBase, 'POST', CREATE, { flow: 'F', snapshot: null, tag: `${tag}-quiet` }, { authorization: AUTH });
    await call(hookedBase, 'POST', `/_device/handshakes/${quiet.body._id}/complete`);
    const created = await call(hookedBase, 'POST', CREATE, { flow: 'F', snapshot: null, tag, webhook: true }, { authorization: AUTH });
    const done = await call(hookedBase, 'POST', `/_device/handshakes/${created.body._id}/complete`);
    await waitFor(async () => (await webhookLog()).length > 0);

    expect(received).toHaveLength(1);
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(received[0].body).toEqual({
      event: 'handshake.completed',
      _id: created.body._id,
      tag,
      consumed: true,
      result: done.body.result,
      resultSignature: sign(done.body.result),
    });
    expect(await webhookLog()).toEqual([expect.objectContaining({ method: 'POST', path: 'webhook', status: 204 })]);
  });

  it('completes even when the webhook fails, and logs the failure', async () => {
    await call(hookedBase, 'DELETE', '/_calls');
    failNext = true;
    const created = await call(hookedBase, 'POST', CREATE, { flow: 'F', snapshot: null, tag: freshTag(), webhook: true }, { authorization: AUTH });
    const done = await call(hookedBase, 'POST', `/_device/handshakes/${created.body._id}/complete`);
    expect(done.status).toBe(200);
    await waitFor(async () => (await webhookLog()).length > 0);
    expect(await webhookLog()).toEqual([expect.objectContaining({ path: 'webhook', status: 500 })]);
  });
});

describe('fault injection', () => {
  it('answers an injected status with the seed error body and Retry-After, for count calls only', async () => {
    expect((await queueFault({ status: 429, code: 4291, retryAfter: 7, count: 2 })).body).toEqual({ queued: 2 });
    for (let i = 0; i < 2; i += 1) {
      const answer = await create({ flow: 'F', snapshot: null, tag: freshTag() });
      expect(answer.status).toBe(429);
      expect(answer.headers['retry-after']).toBe('7');
      expect(answer.body).toEqual({ code: 4291, message: 'Maximum account rate limit exceeded' });
    }
    const third = await create({ flow: 'F', snapshot: null, tag: freshTag() });
    expect(third.status).toBe(200);
    expect((await calls()).map((entry) => [entry.status, entry.fault])).toEqual([
      [429, true],
      [429, true],
      [200, undefined],
    ]);
  });

  it('queues faults in order and does not spend them on underscore endpoints', async () => {
    await queueFault({ status: 500, count: 1 });
    expect((await queueFault({ status: 429, code: 4293, retryAfter: 'Wed, 21 Oct 2099 07:28:00 GMT', count: 1 })).body).toEqual({ queued: 2 });
    const { body: missing } = await complete('DSnothing');
    expect(missing.code).toBe(4001);
    const first = await getHandshake('DSany');
    const second = await getHandshake('DSany');
    expect(first).toMatchObject({ status: 500, body: { code: 5001, message: 'Request could not be processed' } });
    expect(second).toMatchObject({ status: 429, body: { code: 4293, message: 'Maximum account daily limit exceeded' } });
    expect(second.headers['retry-after']).toBe('Wed, 21 Oct 2099 07:28:00 GMT');
    expect((await getHandshake('DSany')).status).toBe(404);
  });

  it('applies an injected status before authorization', async () => {
    await queueFault({ status: 503, count: 1 });
    const answer = await create({ flow: 'F', snapshot: null, tag: freshTag() }, 'Basic bad');
    expect(answer.status).toBe(503);
  });

  it('delays then answers normally', async () => {
    await queueFault({ delayMs: 300, count: 1 });
    const started = Date.now();
    const answer = await create({ flow: 'F', snapshot: null, tag: freshTag() });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.status).toBe(200);
    const quick = Date.now();
    await create({ flow: 'F', snapshot: null, tag: freshTag() });
    expect(Date.now() - quick).toBeLessThan(250);
  });

  it('drops the connection and logs status 0', async () => {
    await queueFault({ drop: true, count: 1 });
    await expect(create({ flow: 'F', snapshot: null, tag: freshTag() })).rejects.toThrow();
    expect((await create({ flow: 'F', snapshot: null, tag: freshTag() })).status).toBe(200);
    expect((await calls()).map((entry) => [entry.status, entry.fault])).toEqual([
      [0, true],
      [200, undefined],
    ]);
  });

  it('answers a wrong result signature once', async () => {
    const { body: created } = await create({ flow: 'F', snapshot: null, tag: freshTag() });
    await complete(created._id);
    await queueFault({ badSignature: true, count: 1 });
    const bad = await getHandshake(created._id);
    expect(bad.body.resultSignature).toMatch(/^[0-9a-f]{64}$/);
    expect(bad.body.resultSignature).not.toBe(sign(bad.body.result));
    const good = await getHandshake(created._id);
    expect(good.body.resultSignature).toBe(sign(good.body.result));
  });

  it('clears the queue on DELETE', async () => {
    await queueFault({ status: 500, count: 5 });
    expect((await call(attestr, 'DELETE', '/_faults')).body).toEqual({ queued: 0 });
    expect((await create({ flow: 'F', snapshot: null, tag: freshTag() })).status).toBe(200);
  });

  it.each([
    ['count 0', { status: 500, count: 0 }],
    ['no count', { status: 500 }],
    ['a status below 400', { status: 200, count: 1 }],
    ['an unknown field', { status: 500, count: 1, colour: 'red' }],
    ['no effect', { count: 1 }],
    ['drop with a status', { drop: true, status: 500, count: 1 }],
    ['a code without a status', { code: 4291, count: 1 }],
    ['a bad Retry-After', { status: 429, retryAfter: 'soon', count: 1 }],
    ['a negative delay', { delayMs: -1, count: 1 }],
  ])('refuses a fault with %s', async (_name, fault) => {
    expect((await queueFault(fault)).status).toBe(400);
    expect((await create({ flow: 'F', snapshot: null, tag: freshTag() })).status).toBe(200);
  });
});
