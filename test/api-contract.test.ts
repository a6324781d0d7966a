/**
 * Issue 13, the contract: /openapi.json names every parameter the server reads, undeclared
 * methods get 405 with Allow, non-JSON bodies 415, and strings that are not Unicode text (a lone
 * UTF-16 surrogate) are refused rather than hashed over U+FFFD.
 * Issue 23, item 7: so are bodies that are not UTF-8, and control characters (NUL) in strings.
 */
import { request } from 'undici';
import { basic, rawCall, TENANT_A } from './helpers/api';
import { useStack } from './helpers/use-stack';

const { stack, api } = useStack('contract', { api: {} });

const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => rawCall(api.url, method, path, headers, body);

type Parameter = { name: string; in: string; required: boolean };

test('/openapi.json names the query parameters the device client routes read', async () => {
  const spec = (await raw('GET', '/openapi.json')).body;
  const names = (path: string, method: string) =>
    (spec.paths[path][method].parameters as Parameter[]).filter((p) => p.in === 'query').map((p) => [p.name, p.required]);
  for (const method of ['post', 'put']) expect(names('/v1/client', method)).toEqual([['client_id', true], ['_is_native', false]]);
  expect(names('/v1/client/handshake', 'get')).toEqual([['redirect_url', true], ['_is_native', false]]);
  expect(spec.paths['/v1/client'].get.security).toEqual([{ deviceBearer: [] }, { deviceCookie: [] }]);
});

describe('undeclared methods: 405 with Allow, in the route family shape', () => {
  test.each(['PATCH', 'TRACE', 'OPTIONS', 'QUERY', 'DELETE'])('%s on the backend handshake route', async (method) => {
    const answer = await raw(method, '/api/v1/public/flowx/handshake', method === 'QUERY' ? {} : { authorization: basic(TENANT_A) });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('POST');
    expect(answer.body).toMatchObject({ code: 4001 });
    expect(answer.headers['x-request-id']).toBeDefined();
  });

  test.each(['PATCH', 'TRACE', 'OPTIONS', 'QUERY', 'GET'])('%s on a device step route', async (method) => {
    const answer = await raw(method, '/v1/sessions/DSanything/steps');
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('POST');
    expect(answer.body).toMatchObject({ type: 'invalid_request', code: 'method_not_allowed', http: 405 });
    expect(answer.headers['x-request-id']).toBe(answer.body.id);
  });

  test('a path with several methods lists them all; an unknown path is still 404', async () => {
    const client = await raw('PATCH', '/v1/client');
    expect(client.status).toBe(405);
    expect(String(client.headers.allow).split(', ')).toEqual(expect.arrayContaining(['DELETE', 'GET', 'HEAD', 'POST', 'PUT']));
    expect(await raw('PATCH', '/v1/nothing-here')).toMatchObject({ status: 404, body: { code: 'route_not_found' } });
  });

  test('a percent-encoded path is judged as the path the router decodes it to', async () => {
    const client = await raw('PATCH', '/v1/%63lient');
    expect(client).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
    expect(String(client.headers.allow).split(', ')).toEqual(expect.arrayContaining(['DELETE', 'GET', 'POST', 'PUT']));
    expect(await raw('GET', '/%761/nothing-here')).toMatchObject({ status: 404, body: { type: 'not_found', code: 'route_not_found' } });
  });
});

describe('text/plain bodies: 415, as documented', () => {
  test('backend create', async () => {
    const answer = await raw('POST', '/api/v1/public/flowx/handshake', { authorization: basic(TENANT_A), 'content-type': 'text/plain' }, '{"flow":"consent-only","snapshot":null,"tag":"x"}');
    expect(answer).toMatchObject({ status: 415, body: { code: 4001 } });
  });

  test('device step', async () => {
    const answer = await raw('POST', '/v1/sessions/DSanything/steps', { 'content-type': 'text/plain' }, 'hello');
    expect(answer).toMatchObject({ status: 415, body: { type: 'invalid_request', code: 'invalid_request' } });
  });
});

describe('a lone surrogate in a tag is refused, so digest is never computed over U+FFFD', () => {
  // JSON escapes keep the lone surrogate intact on the wire; a raw one could not be sent as UTF-8.
  const lone = '"REF-\\ud800"';

  test('backend create: 400 4001, nothing created', async () => {
    const answer = await raw('POST', '/api/v1/public/flowx/handshake', { authorization: basic(TENANT_A), 'content-type': 'application/json' }, `{"flow":"consent-only","snapshot":null,"tag":${lone}}`);
    expect(answer).toMatchObject({ status: 400, body: { code: 4001 } });
    expect(answer.body.details).toMatch(/surrogate/);
  });

  test('device create-and-launch: 400 invalid_data', async () => {
    const answer = await raw(
      'POST',
      '/v1/sessions',
      { 'content-type': 'application/json' },
      `{"tenant_user_id":${lone},"client_id":"${TENANT_A.id}","client_app_key":"${TENANT_A.secret}","skill":"consent-only"}`,
    );
    expect(answer).toMatchObject({ status: 400, body: { code: 'invalid_data' } });
  });

  test('a well-formed pair (an emoji) is accepted, and digest covers its UTF-8 bytes', async () => {
    const answer = await api.call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'consent-only', snapshot: null, tag: 'REF-\u{1F600}' } });
    expect(answer.status).toBe(200);
    const { createHash } = await import('node:crypto');
    const bytes = Buffer.concat([Buffer.from(`${answer.body._id}:${answer.body.number}:REF-`), Buffer.from([0xf0, 0x9f, 0x98, 0x80])]);
    expect(answer.body.digest).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('bytes that are not UTF-8 text, and control characters, are refused (issue 23, item 7)', () => {
  async function postBytes(path: string, headers: Record<string, string>, body: Buffer) {
    const answer = await request(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: answer.statusCode, body: (await answer.body.json()) as Record<string, unknown> };
  }
  /** A create whose tag is `REF-` then these bytes, under an Idempotency-Key. */
  const createWithTag = (tagBytes: Buffer, key: string) =>
    postBytes(
      '/api/v1/public/flowx/handshake',
      { authorization: basic(TENANT_A), 'idempotency-key': key },
      Buffer.concat([Buffer.from('{"flow":"consent-only","snapshot":null,"tag":"REF-'), tagBytes, Buffer.from('"}')]),
    );
  /** The same key with a clean body: 200 only if the refused request created nothing under it. */
  const nothingCreatedUnder = async (key: string) =>
    expect((await api.call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'consent-only', snapshot: null, tag: 'REF-clean' }, headers: { 'idempotency-key': key } })).status).toBe(200);

  test.each([
    ['a lone continuation byte', [0x80]],
    ['0xFF', [0xff]],
    ['a truncated sequence', [0xc3, 0x28]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
  ])('invalid UTF-8 in a tag (%s): 400 4001, nothing created', async (what, bytes) => {
    const key = `bytes-${what}`.replace(/[^a-z0-9-]/gi, '-');
    const answer = await createWithTag(Buffer.from(bytes), key);
    expect(answer).toMatchObject({ status: 400, body: { code: 4001, details: 'the request body is not valid UTF-8' } });
    await nothingCreatedUnder(key);
  });

  test.each([
    ['NUL', '\\u0000'],
    ['ESC', '\\u001b'],
    ['DEL', '\\u007f'],
    ['a C1 control (NEL)', '\\u0085'],
  ])('%s in a tag: 400 4001, nothing created', async (what, escaped) => {
    const key = `control-${what}`.replace(/[^a-z0-9-]/gi, '-');
    const answer = await createWithTag(Buffer.from(`a${escaped}b`), key);
    expect(answer).toMatchObject({ status: 400, body: { code: 4001 } });
    expect(answer.body.details).toMatch(/control character/);
    await nothingCreatedUnder(key);
  });

  test('tab, line feed and carriage return are text', async () => {
    expect((await api.call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'consent-only', snapshot: null, tag: 'REF-a\tb\r\nc' } })).status).toBe(200);
  });

  test('a device step with invalid UTF-8 or NUL in its data: 400, and the session still takes the step', async () => {
    const sessionId = (await stack.gateway.create({ tenantId: TENANT_A.id, tag: 'REF-bytes', definition: stack.definition('consent-only') })).sessionId;
    const { nonce } = (await api.call('POST', `/v1/handshakes/${sessionId}/launch`, { as: null })).body;
    const step = (data: Buffer) =>
      postBytes(`/v1/sessions/${sessionId}/steps`, {}, Buffer.concat([Buffer.from(`{"client_id":"${TENANT_A.id}","nonce":"${nonce}","skill":"consent-only","step":"consent","data":`), data, Buffer.from('}')]));
    expect(await step(Buffer.concat([Buffer.from('{"accepted":true,"note":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]))).toMatchObject({ status: 400, body: { code: 'invalid_request', message: 'the request body is not valid UTF-8' } });
    expect(await step(Buffer.from('{"accepted":true,"note":"a\\u0000b"}'))).toMatchObject({ status: 400, body: { code: 'invalid_data' } });
    expect(await step(Buffer.from('{"accepted":true,"a\\u0000b":1}'))).toMatchObject({ status: 400, body: { code: 'invalid_data' } });
    expect(await step(Buffer.from('{"accepted":true}'))).toMatchObject({ status: 200, body: { status: 'SESSION_COMPLETED' } });
  });
});
