/**
 * The backend API over real HTTP, with a real worker on the real dev server: every endpoint,
 * every error code, Idempotency-Key, rate limits, and answers checked against /openapi.json.
 */
import { createHash, createHmac } from 'node:crypto';
import { catalogWithInactiveFlow, TENANT_A, TENANT_B } from './helpers/api';
import { eventually } from './helpers/stack';
import { useStack } from './helpers/use-stack';

const SLOW = { id: 'tenant-slow', secret: 'tenant-slow-secret-0123', perSecond: 2, perDay: 1000 };
const DAILY = { id: 'tenant-daily', secret: 'tenant-daily-secret-0123', perSecond: 100, perDay: 2 };

const { stack, api } = useStack('api-backend', { api: { clients: [TENANT_A, TENANT_B, SLOW, DAILY], catalog: catalogWithInactiveFlow } });

const HANDSHAKE = '/api/v1/public/flowx/handshake';
const consent = (tag: string) => ({ flow: 'consent-only', snapshot: null, tag });

async function createConsent(tag: string) {
  const created = await api.call('POST', HANDSHAKE, { body: consent(tag) });
  expect(created.status).toBe(200);
  return created.body as { _id: string; number: string; digest: string };
}

describe('POST /handshake', () => {
  test('creates a session: _id, number, digest as the README states', async () => {
    const created = await api.call('POST', HANDSHAKE, { body: { ...consent('REF-create'), webhook: false, expiry: Date.now() + 3_600_000 } });
    expect(created.status).toBe(200);
    expect(created.body._id).toMatch(/^DS[0-9A-Za-z]{20}$/);
    expect(created.body.number).toMatch(/^\d{4}-\d{6}-\d{4}$/);
    expect(created.body.digest).toBe(createHash('sha256').update(`${created.body._id}:${created.body.number}:REF-create`).digest('hex'));
    expect(created.headers['x-request-id']).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  });

  test('a published snapshot runs; an unknown snapshot is 4001', async () => {
    const flow = stack.catalog.get('consent-only')!;
    const [snapshotId] = Object.keys(flow.snapshots);
    expect((await api.call('POST', HANDSHAKE, { body: { ...consent('REF-snap'), snapshot: snapshotId } })).status).toBe(200);
    const unknown = await api.call('POST', HANDSHAKE, { body: { ...consent('REF-snap'), snapshot: 'no-such-snapshot' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe(4001);
  });

  test('snapshot may be left out, meaning the draft as null does (our extension), documented in /openapi.json', async () => {
    const headers = { 'idempotency-key': 'key-REF-no-snapshot' };
    const omitted = await api.call('POST', HANDSHAKE, { body: { flow: 'consent-only', tag: 'REF-no-snapshot' }, headers });
    expect(omitted.status).toBe(200);
    // The same request with snapshot: null is the same request: the same session again.
    const withNull = await api.call('POST', HANDSHAKE, { body: consent('REF-no-snapshot'), headers });
    expect(withNull).toMatchObject({ status: 200, body: { _id: omitted.body._id } });
    // It runs the draft: the draft's first step.
    const launched = await api.call('POST', `/v1/handshakes/${omitted.body._id}/launch`);
    expect(launched.body).toMatchObject({ step: stack.catalog.get('consent-only')!.draft.initial });
    const spec = (await api.call('GET', '/openapi.json')).body;
    const body = spec.paths['/api/v1/public/flowx/handshake'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['flow', 'tag']);
    expect(body.properties.snapshot.description).toMatch(/left out runs the draft.*Attestr requires this field.*extension/);
  });

  test.each([
    ['malformed JSON', { raw: '{"flow": "consent-only",' }],
    ['a missing tag', { body: { flow: 'consent-only', snapshot: null } }],
    ['a missing flow', { body: { snapshot: null, tag: 'x' } }],
    ['a wrong type', { body: { flow: 'consent-only', snapshot: null, tag: 42 } }],
    ['an unknown field', { body: { ...consent('x'), color: 'blue' } }],
    ['an expiry in the past', { body: { ...consent('x'), expiry: Date.now() - 1000 } }],
    ['an expiry beyond a year', { body: { ...consent('x'), expiry: Date.now() + 366 * 24 * 3_600_000 } }],
    ['a non-integer expiry', { body: { ...consent('x'), expiry: 'tomorrow' } }],
  ])('%s is 400 with code 4001', async (_what, options) => {
    const answer = await api.call('POST', HANDSHAKE, options);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 4001, message: 'Malformed data or missing required parameter values' });
  });

  test('unknown fields are named in details', async () => {
    const answer = await api.call('POST', HANDSHAKE, { body: { ...consent('x'), color: 'blue' } });
    expect(answer.body.details).toContain('unknown field "color"');
  });

  test('an unknown flow is 4002 and an inactive flow 40034', async () => {
    const unknown = await api.call('POST', HANDSHAKE, { body: { ...consent('x'), flow: 'no-such-flow' } });
    expect(unknown).toMatchObject({ status: 400, body: { code: 4002, message: 'Flow ID does not exist' } });
    const inactive = await api.call('POST', HANDSHAKE, { body: { ...consent('x'), flow: 'paused-flow' } });
    expect(inactive).toMatchObject({ status: 400, body: { code: 40034, message: 'Requested flow is inactive' } });
  });

  test('bad credentials are 401 with code 4016', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Basic bm9wZQ==' },
      { authorization: `Basic ${Buffer.from('tenant-a:wrong-secret-000000').toString('base64')}` },
      { authorization: `Bearer ${TENANT_A.secret}` },
    ];
    for (const headers of attempts) {
      const answer = await api.call('POST', HANDSHAKE, { body: consent('x'), as: null, headers });
      expect(answer).toMatchObject({ status: 401, body: { code: 4016, message: 'Invalid client authorization' } });
    }
  });

  test('a body over the limit is refused with 413', async () => {
    const answer = await api.call('POST', HANDSHAKE, { body: { ...consent('x'), tag: 'x'.repeat(stack.config.api.bodyLimitBytes) } });
    expect(answer).toMatchObject({ status: 413, body: { code: 4001 } });
  });
});

describe('Idempotency-Key', () => {
  test('the same key and body get the first response again; another body is refused', async () => {
    const headers = { 'idempotency-key': 'key-REF-idem-1' };
    const first = await api.call('POST', HANDSHAKE, { body: consent('REF-idem'), headers });
    const again = await api.call('POST', HANDSHAKE, { body: consent('REF-idem'), headers });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const different = await api.call('POST', HANDSHAKE, { body: consent('REF-idem-other'), headers });
    expect(different).toMatchObject({ status: 400, body: { code: 4001, details: 'this Idempotency-Key was used with a different request' } });
    // Another client's identical key is its own session.
    const other = await api.call('POST', HANDSHAKE, { body: consent('REF-idem'), headers, as: TENANT_B });
    expect(other.body._id).not.toBe(first.body._id);
  });

  test('50 concurrent creates with one key make one session', async () => {
    const headers = { 'idempotency-key': 'key-REF-idem-50' };
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.call('POST', HANDSHAKE, { body: consent('REF-idem-50'), headers, as: TENANT_B })));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(new Set(answers.map((a) => a.body._id)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.number)).size).toBe(1);
    // Visibility lags a little behind: wait until the session shows, then count.
    const count = () => stack.client.workflow.count(`SessionTag = 'REF-idem-50'`).then((c) => c.count);
    await eventually(async () => ((await count()) > 0 ? true : undefined), 10_000, 'the session in visibility');
    expect(await count()).toBe(1);
  });
});

describe('GET /handshake/:id and archive', () => {
  test('a created session, then consumed with a verifiable signature, then archived', async () => {
    const { _id, number } = await createConsent('REF-get');
    const created = await api.call('GET', `${HANDSHAKE}/${_id}`);
    expect(created.body).toEqual({
      _id,
      number,
      tag: 'REF-get',
      requestId: created.headers['x-request-id'],
      consumed: false,
      archived: null,
      result: null,
      resultSignature: null,
      status: 'created',
      outcome: null,
      expiry: expect.any(Number),
    });

    const launch = await api.call('POST', `/v1/handshakes/${_id}/launch`);
    expect((await api.call('GET', `${HANDSHAKE}/${_id}`)).body).toMatchObject({ consumed: true, status: 'in_progress' });
    await api.call('POST', `/v1/sessions/${_id}/steps`, {
      body: { client_id: TENANT_A.id, nonce: launch.body.nonce, skill: 'consent-only', step: 'consent', data: { accepted: true } },
    });

    const done = await api.call('GET', `${HANDSHAKE}/${_id}`);
    expect(done.body).toMatchObject({ status: 'consumed', outcome: 'success', result: { consent: { input: { accepted: true }, output: {} } } });
    // The recipe in the README, applied to the parsed response.
    const expected = createHmac('sha256', TENANT_A.secret).update(JSON.stringify(done.body.result)).digest('hex');
    expect(done.body.resultSignature).toBe(expected);

    const archived = await api.call('POST', `${HANDSHAKE}/${_id}/archive`);
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ status: 'archived', result: null, resultSignature: null, archived: expect.any(Number) });
    expect((await api.call('GET', `${HANDSHAKE}/${_id}`)).body).toMatchObject({ status: 'archived', result: null });
    const again = await api.call('POST', `${HANDSHAKE}/${_id}/archive`);
    expect(again).toMatchObject({ status: 400, body: { code: 4001, details: 'the session is archived already' } });
  });

  test('archiving a live session is 4001 and changes nothing', async () => {
    const { _id } = await createConsent('REF-archive-live');
    const before = (await api.call('GET', `${HANDSHAKE}/${_id}`)).body;
    const answer = await api.call('POST', `${HANDSHAKE}/${_id}/archive`);
    expect(answer).toMatchObject({ status: 400, body: { code: 4001 } });
    expect(answer.body.details).toContain('created');
    const after = (await api.call('GET', `${HANDSHAKE}/${_id}`)).body;
    expect({ ...after, requestId: null }).toEqual({ ...before, requestId: null });
  });

  test("an unknown id and another client's session get the same answer", async () => {
    const { _id } = await createConsent('REF-private');
    const unknown = await api.call('GET', `${HANDSHAKE}/DSunknown0000000000000`);
    const foreign = await api.call('GET', `${HANDSHAKE}/${_id}`, { as: TENANT_B });
    const foreignArchive = await api.call('POST', `${HANDSHAKE}/${_id}/archive`, { as: TENANT_B });
    for (const answer of [unknown, foreign, foreignArchive]) {
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual(unknown.body);
    }
    expect(unknown.body.code).toBe(4031);
  });
});

describe('flows', () => {
  test('GET /flows lists both sample flows with their snapshots', async () => {
    const answer = await api.call('GET', '/api/v1/public/flowx/flows');
    expect(answer.status).toBe(200);
    const ids = answer.body.flows.map((f: { id: string }) => f.id);
    expect(ids).toEqual(expect.arrayContaining(['consent-only', 'kyc-basic']));
    const consentFlow = answer.body.flows.find((f: { id: string }) => f.id === 'consent-only');
    expect(consentFlow).toMatchObject({ active: true, snapshots: Object.keys(stack.catalog.get('consent-only')!.snapshots) });
  });

  test('GET /flows/:id has the machine and a Mermaid diagram per version', async () => {
    const answer = await api.call('GET', '/api/v1/public/flowx/flows/consent-only');
    expect(answer.status).toBe(200);
    expect(answer.body.draft.mermaid.split('\n')[0]).toBe('stateDiagram-v2');
    expect(answer.body.draft.mermaid).toContain('[*] --> consent');
    expect(answer.body.draft.mermaid).toContain('accepted --> [*]');
    expect(answer.body.versions).toHaveLength(1);
    expect((await api.call('GET', '/api/v1/public/flowx/flows/nope')).body.code).toBe(4002);
  });
});

describe('rate limits', () => {
  test('per second: 429 with 4291 and Retry-After', async () => {
    // Five calls inside a second span at most two one-second windows of two: one must be refused.
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await api.call('GET', '/api/v1/public/flowx/flows', { as: SLOW }));
    const limited = answers.find((a) => a.status === 429);
    expect(limited).toBeDefined();
    expect(limited!.body).toEqual({ code: 4291, message: 'Maximum account rate limit exceeded' });
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  test('per day: 429 with 4293 and Retry-After until the next UTC midnight', async () => {
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await api.call('GET', '/api/v1/public/flowx/flows', { as: DAILY }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[2].body).toEqual({ code: 4293, message: 'Maximum account daily limit exceeded' });
    const untilMidnight = (new Date().setUTCHours(24, 0, 0, 0) - Date.now()) / 1000;
    expect(Math.abs(Number(answers[2].headers['retry-after']) - untilMidnight)).toBeLessThan(5);
  });
});
