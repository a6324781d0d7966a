/**
 * Issue 13, D4-D8: hostile requests against the real api on loopback get the documented error
 * (never a 500, always with x-request-id and the documented shape) and change nothing.
 */
import { basic, rawCall, TENANT_A, TENANT_B } from './helpers/api';
import { sessionSecret } from './helpers/stack';
import { useStack } from './helpers/use-stack';

const WEB_APP = { id: 'web-app', secret: 'web-app-secret-0123456789', perSecond: 1000, perDay: 1_000_000, redirectUrls: ['https://app.example.com/done'] };

const { stack, api } = useStack('hostile', { api: { clients: [TENANT_A, TENANT_B, WEB_APP] } });

const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => rawCall(api.url, method, path, headers, body);

function nested(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
}

describe('D4: JSON nested too deep', () => {
  test.each([40, 3_000])('step data %i levels deep is refused with invalid_data, and the session is unchanged', async (depth) => {
    const sessionId = (await stack.gateway.create({ tenantId: TENANT_A.id, tag: `REF-deep-${depth}`, definition: stack.definition('consent-only') })).sessionId;
    const launched = await api.call('POST', `/v1/handshakes/${sessionId}/launch`, { as: null });
    const before = await stack.gateway.view(sessionId);
    const answer = await api.call('POST', `/v1/sessions/${sessionId}/steps`, {
      as: null,
      body: { client_id: TENANT_A.id, nonce: launched.body.nonce, skill: 'consent-only', step: 'consent', data: nested(depth) },
    });
    expect(answer).toMatchObject({ status: 400, body: { type: 'invalid_request', code: 'invalid_data' } });
    expect(answer.headers['x-request-id']).toBe(answer.body.id);
    expect(await stack.gateway.view(sessionId)).toEqual(before);
  });

  test('a backend event whose data nests 3,000 levels is refused with 4001', async () => {
    const answer = await api.call('POST', '/v1/events', { body: { id: 'evt-deep', type: 'user.signed_up', tag: 'REF-deep', data: nested(3_000) } });
    // 4001 is also the answer to an event type without a rule: the details say which refusal it is.
    expect(answer).toMatchObject({ status: 400, body: { code: 4001, details: 'JSON may nest at most 32 levels' } });
  });

  test('data nested 20 levels is accepted as far as depth goes', async () => {
    const sessionId = (await stack.gateway.create({ tenantId: TENANT_A.id, tag: 'REF-deep-ok', definition: stack.definition('consent-only') })).sessionId;
    const launched = await api.call('POST', `/v1/handshakes/${sessionId}/launch`, { as: null });
    const answer = await api.call('POST', `/v1/sessions/${sessionId}/steps`, {
      as: null,
      body: { client_id: TENANT_A.id, nonce: launched.body.nonce, skill: 'consent-only', step: 'consent', data: { accepted: true, extra: nested(20) } },
    });
    // The stage's own schema decides about the extra field; depth is not the reason.
    expect(answer.body.code).not.toBe('internal_error');
    expect(answer.status).toBeLessThan(500);
  });
});

describe("D5: another workflow's id used as a session id looks exactly like a missing session", () => {
  let ids: string[];
  beforeAll(async () => {
    const device = await api.call('POST', `/v1/client?client_id=${TENANT_A.id}`, { as: null });
    const webhookSession = (await stack.gateway.create({ tenantId: TENANT_A.id, tag: 'REF-d5', definition: stack.definition('consent-only') })).sessionId;
    const outbox = `webhooks-${webhookSession}`;
    await stack.client.workflow.start('webhookOutboxWorkflow', { workflowId: outbox, taskQueue: stack.taskQueue, args: [{ sessionId: webhookSession, clientId: TENANT_A.id, closed: true }] });
    ids = [`device-client-${device.body.client.id}`, outbox];
  });

  test('backend get and archive: 403 4031', async () => {
    for (const id of ids) {
      expect(await api.call('GET', `/api/v1/public/flowx/handshake/${id}`)).toMatchObject({ status: 403, body: { code: 4031 } });
      expect(await api.call('POST', `/api/v1/public/flowx/handshake/${id}/archive`)).toMatchObject({ status: 403, body: { code: 4031 } });
    }
  });

  test('device launch: 404 session_not_found; a step: 400 invalid_nonce, as for any id its nonce was not minted for', async () => {
    const step = (id: string) =>
      api.call('POST', `/v1/sessions/${id}/steps`, {
        as: null,
        body: { client_id: TENANT_A.id, nonce: sessionSecret.nextNonce('DSmadeup0000000000000a', 'step-x'), skill: 'consent-only', step: 'consent', data: { accepted: true } },
      });
    for (const id of [...ids, 'DSmadeup0000000000000b']) {
      expect(await api.call('POST', `/v1/handshakes/${id}/launch`, { as: null })).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
      expect(await step(id)).toMatchObject({ status: 400, body: { code: 'invalid_nonce' } });
    }
  });
});

describe('D6 and D7: redirect_url that is not a clean allow-listed URL is refused with 422', () => {
  let cookie: string;
  beforeAll(async () => {
    const answer = await api.call('POST', `/v1/client?client_id=${WEB_APP.id}`, { as: null });
    cookie = /__client=([^;]+)/.exec(String(answer.headers['set-cookie']))![1];
  });

  const handshake = (query: string) => raw('GET', `/v1/client/handshake?redirect_url=${query}`, { cookie: `__client=${cookie}` });

  test.each([
    ['CR/LF', encodeURIComponent('https://app.example.com/done/x\r\nSet-Cookie: x=1')],
    ['LF alone', encodeURIComponent('https://app.example.com/done/\nx')],
    ['a tab', encodeURIComponent('https://app.example.com/done/\tx')],
    ['a space', encodeURIComponent('https://app.example.com/done/a b')],
    ['a character outside Latin-1', encodeURIComponent('https://app.example.com/done/\u2603')],
    ['a Latin-1 character', encodeURIComponent('https://app.example.com/done/\u00e9')],
    ['an encoded ../', encodeURIComponent('https://app.example.com/done/..%2fx')],
    ['encoded dots and slashes', encodeURIComponent('https://app.example.com/done/%2e%2e%2f%2e%2e%2fx')],
    ['an encoded backslash', encodeURIComponent('https://app.example.com/done/..%5cx')],
    ['double encoding', encodeURIComponent('https://app.example.com/done/%252e%252e%252fx')],
    ['encoded dots as a segment', encodeURIComponent('https://app.example.com/done/%2e%2e/x')],
    // Issue 23, item 6: servlet containers read `..;` as `..`.
    ['a ..; segment', encodeURIComponent('https://app.example.com/done/..;/evil')],
    ['a path parameter', encodeURIComponent('https://app.example.com/done;jsessionid=1/x')],
    ['an encoded semicolon', encodeURIComponent('https://app.example.com/done/..%3b/evil')],
    ['a backslash', encodeURIComponent('https://app.example.com/done/a\\b')],
  ])('%s', async (_what, query) => {
    const answer = await handshake(query);
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ type: 'invalid_request', code: 'redirect_url_not_allowed' });
    expect(answer.headers['x-request-id']).toBe(answer.body.id);
    expect(answer.headers.location).toBeUndefined();
    expect(answer.headers['set-cookie']).toBeUndefined();
  });

  test("a session's returnUrl with a ..; segment: 400 4001, nothing created", async () => {
    const answer = await api.call('POST', '/api/v1/public/flowx/handshake', {
      as: WEB_APP,
      body: { flow: 'consent-only', snapshot: null, tag: 'REF-return', returnUrl: 'https://app.example.com/done/..;/evil' },
    });
    expect(answer).toMatchObject({ status: 400, body: { code: 4001, details: "returnUrl is not on the client's redirectUrls" } });
  });

  test('a clean URL below the allowed path still redirects', async () => {
    const answer = await handshake(encodeURIComponent('https://app.example.com/done/step-2?x=%C3%A9'));
    expect(answer.status).toBe(307);
    expect(answer.headers.location).toBe('https://app.example.com/done/step-2?x=%C3%A9');
  });
});

describe('malformed percent-encoding in the path: 400 in the documented shape', () => {
  test.each([
    ['device', '/v1/sessions/%zz/steps', { type: 'invalid_request', http: 400, code: 'invalid_request' }],
    ['backend', '/api/v1/public/flowx/handshake/%E0%A4%A', { code: 4001 }],
  ])('%s', async (_family, path, body) => {
    const answer = await raw('GET', path);
    expect(answer).toMatchObject({ status: 400, body });
    expect(answer.headers['x-request-id']).toBeDefined();
    expect(answer.text).not.toContain('%');
  });
});

describe('D8: ids over 100 characters get the documented error shape', () => {
  const long = 'x'.repeat(150);

  test('backend: authentication first, then 403 4031 like any unknown session', async () => {
    const anonymous = await raw('GET', `/api/v1/public/flowx/handshake/${long}`);
    expect(anonymous).toMatchObject({ status: 401, body: { code: 4016 } });
    expect(anonymous.headers['x-request-id']).toBeDefined();
    expect(anonymous.text).not.toContain(long);
    const authenticated = await raw('GET', `/api/v1/public/flowx/handshake/${long}`, { authorization: basic(TENANT_A) });
    expect(authenticated).toMatchObject({ status: 403, body: { code: 4031 } });
    expect(authenticated.text).not.toContain(long);
  });

  test('device: 404 session_not_found (a step: 400 invalid_nonce), with x-request-id, not echoing the path', async () => {
    for (const [path, expected] of [
      [`/v1/handshakes/${long}/launch`, { status: 404, body: { type: 'not_found', code: 'session_not_found' } }],
      [`/v1/sessions/${long}/steps`, { status: 400, body: { type: 'invalid_request', code: 'invalid_nonce' } }],
    ] as const) {
      const answer = await raw('POST', path, { 'content-type': 'application/json' }, JSON.stringify({ client_id: TENANT_A.id, nonce: 'n'.repeat(43), skill: 'consent-only', step: 'consent', data: {} }));
      expect(answer).toMatchObject(expected);
      expect(answer.headers['x-request-id']).toBe(answer.body.id);
      expect(answer.text).not.toContain(long);
    }
  });
});
