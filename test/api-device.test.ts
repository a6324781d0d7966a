/**
 * The device API over real HTTP (Finqware shape), and whole sample-flow runs over HTTP only,
 * ending with the result signature verified by the typed client as the README tells clients.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ResultSignatureError, SessionflowApiError, SessionflowClient } from '../src/client';
import { signResult } from '../src/util/result-signature';
import { catalogWithInactiveFlow, TENANT_A, TENANT_B } from './helpers/api';
import { BANK, IDENTITY, inlineFlow, TWO_FORMS } from './helpers/flows';
import { eventually } from './helpers/stack';
import { useStack } from './helpers/use-stack';

const { stack, api } = useStack('api-device', { api: { clients: [TENANT_A, TENANT_B], catalog: catalogWithInactiveFlow } });
let client: SessionflowClient;

beforeAll(() => {
  client = new SessionflowClient({ baseUrl: api.url, clientId: TENANT_A.id, secret: TENANT_A.secret });
});

const createBody = (overrides: Record<string, unknown> = {}) => ({
  tenant_user_id: 'user-1',
  client_id: TENANT_A.id,
  client_app_key: TENANT_A.secret,
  skill: 'consent-only',
  ...overrides,
});

function step(sessionId: string, body: { nonce: string; step: string; data: unknown; skill?: string; client_id?: string; event?: string }, headers: Record<string, string> = {}) {
  return api.call('POST', `/v1/sessions/${sessionId}/steps`, { body: { client_id: TENANT_A.id, skill: 'consent-only', ...body }, headers });
}

function expectDeviceError(answer: { status: number; body: Record<string, unknown>; headers: Record<string, unknown> }, http: number, code: string) {
  expect(answer.status).toBe(http);
  expect(answer.body).toMatchObject({ http, code, id: answer.headers['x-request-id'] });
}

describe('POST /v1/sessions', () => {
  test('creates and launches in one round trip', async () => {
    const answer = await api.call('POST', '/v1/sessions', { body: createBody() });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'SESSION_CREATED', step: 'consent', session_id: expect.stringMatching(/^DS/), nonce: expect.any(String) });
    expect(answer.body.data.schema.required).toEqual(['accepted']);
    const view = await stack.gateway.status(answer.body.session_id);
    expect(view).toMatchObject({ status: 'in_progress', tag: 'user-1', clientId: TENANT_A.id });
  });

  test.each([
    ['a wrong app key', { client_app_key: 'not-the-secret-at-all' }, 401, 'invalid_client'],
    ['an unknown client', { client_id: 'nobody' }, 401, 'invalid_client'],
    ['an unknown skill', { skill: 'no-such-flow' }, 400, 'invalid_skill'],
    ['an inactive skill', { skill: 'paused-flow' }, 400, 'inactive_skill'],
    ['a missing field', { skill: undefined }, 400, 'invalid_request'],
    ['an unknown field', { extra: 1 }, 400, 'invalid_request'],
    ['a wrong type', { tenant_user_id: 7 }, 400, 'invalid_request'],
  ])('%s is refused', async (_what, overrides, http, code) => {
    expectDeviceError(await api.call('POST', '/v1/sessions', { body: createBody(overrides) }), http, code);
  });

  test('malformed JSON is invalid_request', async () => {
    expectDeviceError(await api.call('POST', '/v1/sessions', { raw: '{"skill":' }), 400, 'invalid_request');
  });
});

describe('POST /v1/handshakes/:id/launch', () => {
  test('launches a backend-created session once', async () => {
    const created = await client.createSession({ flow: 'consent-only', snapshot: null, tag: 'REF-launch' });
    const launch = await api.call('POST', `/v1/handshakes/${created._id}/launch`);
    expect(launch.body).toMatchObject({ session_id: created._id, status: 'SESSION_IN_PROGRESS', step: 'consent', nonce: expect.any(String) });
    expectDeviceError(await api.call('POST', `/v1/handshakes/${created._id}/launch`), 409, 'session_already_launched');
    expectDeviceError(await api.call('POST', '/v1/handshakes/DSnope0000000000000000/launch'), 404, 'session_not_found');
  });

  test('with an Idempotency-Key, a repeated launch answers the first again, nonce included; another key is refused', async () => {
    const created = await client.createSession({ flow: 'consent-only', snapshot: null, tag: 'REF-launch-key' });
    const path = `/v1/handshakes/${created._id}/launch`;
    const first = await api.call('POST', path, { headers: { 'idempotency-key': 'device-7-launch' } });
    expect(first.status).toBe(200);
    // The answer was lost on the way: the device sends the same launch again.
    const again = await api.call('POST', path, { headers: { 'idempotency-key': 'device-7-launch' } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expectDeviceError(await api.call('POST', path, { headers: { 'idempotency-key': 'another-device' } }), 409, 'session_already_launched');
    expectDeviceError(await api.call('POST', path), 409, 'session_already_launched');
    expectDeviceError(await api.call('POST', path, { headers: { 'idempotency-key': 'has a space' } }), 400, 'invalid_request');
    // The repeated answer's nonce is the one the session expects.
    const step = await api.call('POST', `/v1/sessions/${created._id}/steps`, { body: { client_id: TENANT_A.id, skill: 'consent-only', nonce: again.body.nonce, step: 'consent', data: { accepted: true } } });
    expect(step.status).toBe(200);
  });
});

describe('POST /v1/sessions/:id/steps', () => {
  async function launched() {
    const answer = await api.call('POST', '/v1/sessions', { body: createBody() });
    return { id: answer.body.session_id as string, nonce: answer.body.nonce as string };
  }

  test('refusals: wrong step, invalid data, wrong nonce, another client, another skill; none changes the session', async () => {
    const { id, nonce } = await launched();
    const before = await stack.gateway.view(id);
    expectDeviceError(await step(id, { nonce, step: 'other', data: { accepted: true } }), 400, 'invalid_step');
    expectDeviceError(await step(id, { nonce, step: 'consent', data: { accepted: 'yes' } }), 400, 'invalid_data');
    expectDeviceError(await step(id, { nonce, step: 'consent', data: {} }), 400, 'invalid_data');
    expectDeviceError(await step(id, { nonce: 'x'.repeat(43), step: 'consent', data: { accepted: true } }), 400, 'invalid_nonce');
    expectDeviceError(await step(id, { nonce, step: 'consent', data: { accepted: true }, client_id: TENANT_B.id }), 404, 'session_not_found');
    expectDeviceError(await step(id, { nonce, step: 'consent', data: { accepted: true }, skill: 'kyc-basic' }), 400, 'invalid_skill');
    // Another session's nonce: refused before Temporal is asked (see test/device-binding.test.ts).
    expectDeviceError(await step('DSnope0000000000000000', { nonce, step: 'consent', data: { accepted: true } }), 400, 'invalid_nonce');
    expect(await stack.gateway.view(id)).toEqual(before);
  });

  test('a step with several bad fields gets every one in one answer, in plain language, and changes nothing', async () => {
    const created = await api.call('POST', '/v1/sessions', { body: createBody({ skill: 'kyc-basic' }) });
    const id = created.body.session_id as string;
    const nonce = created.body.nonce as string;
    // The stage definition carries the flow's hints and messages, as the hosted page reads them.
    expect(created.body.data.fields.birthDate).toMatchObject({ input: 'date', autocomplete: 'bday' });
    const before = await stack.gateway.view(id);
    const kycStep = (data: unknown) => step(id, { nonce, step: 'identity', skill: 'kyc-basic', data });

    const bad = await kycStep({ name: '', birthDate: '31-02-1990', nickname: 'x' });
    expectDeviceError(bad, 400, 'invalid_data');
    expect(bad.body.param).toBe('/name');
    expect(bad.body.errors).toEqual([
      { param: '/name', rule: 'minLength', message: 'Enter your full name', params: { limit: 1 } },
      { param: '/birthDate', rule: 'format', message: 'Date of birth must be a real date, for example 24 01 1990', params: { format: 'date' } },
      { param: '/nickname', rule: 'additionalProperties', message: 'Nickname is not asked for in this step' },
    ]);
    expect(bad.body.message).toBe('Enter your full name; Date of birth must be a real date, for example 24 01 1990; Nickname is not asked for in this step');

    const empty = await kycStep({});
    expect(empty.body.errors.map((e: { param: string; message: string }) => `${e.param}: ${e.message}`)).toEqual([
      '/name: Enter your full name',
      '/birthDate: Enter your date of birth, for example 24 01 1990',
    ]);
    const young = await kycStep({ name: IDENTITY.name, birthDate: '01-01-2020' });
    expect(young.body.errors).toEqual([{ param: '/birthDate', rule: 'minAge', message: 'You must be 18 or older to continue', params: { limit: 18 } }]);
    for (const answer of [bad, empty, young]) expect(JSON.stringify(answer.body)).not.toMatch(/pattern|\^|\[0-9\]/);

    expect(await stack.gateway.view(id)).toEqual(before);
    expect((await kycStep(IDENTITY)).status).toBe(200);
  });

  test('Accept-Language: stage definitions and invalid_data come in the language chosen by q-value; param and rules stay; English otherwise', async () => {
    const created = await api.call('POST', '/v1/sessions', { body: createBody({ skill: 'kyc-basic' }), headers: { 'accept-language': 'en;q=0.5, hi-IN;q=0.9' } });
    expect(created.headers['content-language']).toBe('hi');
    expect(created.body.data).toMatchObject({ step: 'identity', title: 'आपका नाम और जन्म तिथि', schema: { properties: { name: { title: 'पूरा नाम' } } } });
    // The flow's tables are the api's to use, not part of the answer.
    expect(created.body.data).not.toHaveProperty('translations');
    const id = created.body.session_id as string;
    const nonce = created.body.nonce as string;
    const before = await stack.gateway.view(id);
    const kycStep = (data: unknown, lang: string) => step(id, { nonce, step: 'identity', skill: 'kyc-basic', data }, { 'accept-language': lang });

    const hindi = await kycStep({ name: '', birthDate: '01-01-2020' }, 'hi');
    expectDeviceError(hindi, 400, 'invalid_data');
    expect(hindi.headers['content-language']).toBe('hi');
    expect(hindi.body.param).toBe('/name');
    expect(hindi.body.errors).toEqual([
      { param: '/name', rule: 'minLength', message: 'पूरा नाम दर्ज करें', params: { limit: 1 } },
      { param: '/birthDate', rule: 'minAge', message: 'आगे बढ़ने के लिए आपकी आयु कम से कम 18 वर्ष होनी चाहिए', params: { limit: 18 } },
    ]);
    expect(hindi.body.message).toBe('पूरा नाम दर्ज करें; आगे बढ़ने के लिए आपकी आयु कम से कम 18 वर्ष होनी चाहिए');

    // The same refusal for a client asking for a language the flow does not have: English, the same params and rules.
    const french = await kycStep({ name: '', birthDate: '01-01-2020' }, 'fr-FR, de;q=0.8');
    expect(french.headers['content-language']).toBe('en');
    expect(french.body.param).toBe('/name');
    expect(french.body.errors.map((e: { param: string; rule: string }) => [e.param, e.rule])).toEqual(hindi.body.errors.map((e: { param: string; rule: string }) => [e.param, e.rule]));
    expect(french.body.errors.map((e: { message: string }) => e.message)).toEqual(['Enter your full name', 'You must be 18 or older to continue']);
    expect(await stack.gateway.view(id)).toEqual(before);

    // The next stage comes in the language of the step that moved to it.
    const next = await kycStep(IDENTITY, 'hi');
    expect(next.status).toBe(200);
    expect(next.body.data).toMatchObject({ step: 'aadhaar', title: 'Attestr के साथ अपना आधार सत्यापित करें' });
    expect(next.body.data).not.toHaveProperty('providerErrors');
  });

  test('a retried step gets the same answer and applies once; a replayed nonce is refused; completed sessions take no steps', async () => {
    const { id, nonce } = await launched();
    const first = await step(id, { nonce, step: 'consent', data: { accepted: true } });
    expect(first.body).toMatchObject({ status: 'SESSION_COMPLETED', nonce: null, data: { outcome: 'success' } });
    const retried = await step(id, { nonce, step: 'consent', data: { accepted: true } });
    expect(retried.body).toEqual(first.body);
    expect((await stack.gateway.status(id)).stepCount).toBe(1);
    const replayed = await step(id, { nonce, step: 'consent', data: { accepted: false } });
    expectDeviceError(replayed, 409, 'session_completed');
  });

  test('a step after expiry is refused with session_expired', async () => {
    const created = await client.createSession({ flow: 'consent-only', snapshot: null, tag: 'REF-expire', expiry: Date.now() + 1_500 });
    const launch = await api.call('POST', `/v1/handshakes/${created._id}/launch`);
    await eventually(async () => ((await stack.gateway.status(created._id)).status === 'expired' ? true : undefined), 10_000, 'expiry');
    expectDeviceError(await step(created._id, { nonce: launch.body.nonce, step: 'consent', data: { accepted: true } }), 409, 'session_expired');
  });
});

describe('whole runs over HTTP only', () => {
  test('consent-only: backend creates, device runs, backend verifies the signature and archives', async () => {
    const created = await client.createSession({ flow: 'consent-only', snapshot: null, tag: 'REF-http-consent' });
    const launch = await api.call('POST', `/v1/handshakes/${created._id}/launch`);
    await step(created._id, { nonce: launch.body.nonce, step: 'consent', data: { accepted: false } });
    const session = await client.getSession(created._id);
    expect(session).toMatchObject({ status: 'consumed', outcome: 'skipped', result: { consent: { input: { accepted: false }, output: {} } } });
    expect((await client.archiveSession(created._id)).status).toBe('archived');
    expectDeviceError(await step(created._id, { nonce: launch.body.nonce, step: 'consent', data: { accepted: true } }), 409, 'session_archived');
    expectDeviceError(await api.call('POST', `/v1/handshakes/${created._id}/launch`), 409, 'session_archived');
  });

  test('kyc-basic: identity, Attestr on the device, bank; the signed result verifies', async () => {
    const created = await client.createSession({ flow: 'kyc-basic', snapshot: null, tag: 'REF-http-kyc' });
    const kycStep = (nonce: string, name: string, data: unknown) =>
      api.call('POST', `/v1/sessions/${created._id}/steps`, { body: { client_id: TENANT_A.id, skill: 'kyc-basic', nonce, step: name, data } });
    const launch = await api.call('POST', `/v1/handshakes/${created._id}/launch`);
    const identity = await kycStep(launch.body.nonce, 'identity', IDENTITY);
    expect(identity.body.data).toMatchObject({ step: 'aadhaar', handshakeId: expect.any(String) });
    // The spent nonce with other data is a replay: refused, nothing changes.
    expectDeviceError(await kycStep(launch.body.nonce, 'identity', { ...IDENTITY, name: 'Someone Else' }), 400, 'invalid_nonce');
    expect(await kycStep(launch.body.nonce, 'identity', IDENTITY)).toMatchObject({ body: identity.body });
    // The user finishes Attestr's own flow on the device (the sandbox plays it).
    const completed = await fetch(`${stack.sandbox.url}/attestr/_device/handshakes/${identity.body.data.handshakeId}/complete`, { method: 'POST' });
    expect(completed.status).toBe(200);
    const aadhaar = await kycStep(identity.body.nonce, 'aadhaar', {});
    const bank = await kycStep(aadhaar.body.nonce, 'bank', BANK);
    expect(bank.body).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });

    const session = await client.getSession(created._id); // throws if the signature does not verify
    expect(Object.keys(session.result!)).toEqual(['identity', 'aadhaar', 'bank']);
    expect(session.resultSignature).toBe(signResult(session.result, TENANT_A.secret));
  });
});

describe('typed client', () => {
  let fake: Server;
  let fakeUrl: string;

  beforeAll(async () => {
    // A stand-in api on loopback that answers a result whose signature does not match.
    fake = createServer((_req, res) => {
      const result = { consent: { input: { accepted: true }, output: {} } };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ _id: 'DSx', number: '1', tag: 't', requestId: 'r', consumed: true, archived: null, result, resultSignature: signResult({ other: 1 }, TENANT_A.secret), status: 'consumed', outcome: 'success', expiry: 0 }));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => fake.close(() => resolve())));

  test('refuses a result whose signature does not verify', async () => {
    const tampered = new SessionflowClient({ baseUrl: fakeUrl, clientId: TENANT_A.id, secret: TENANT_A.secret });
    await expect(tampered.getSession('DSx')).rejects.toBeInstanceOf(ResultSignatureError);
  });

  test('api errors carry status, code, details and request id', async () => {
    const error = await client.createSession({ flow: 'no-such-flow', snapshot: null, tag: 'x' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SessionflowApiError);
    expect(error).toMatchObject({ status: 400, code: 4002, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });
});

describe('BACK, a device step (issue 28, item 4)', () => {
  test('carries the nonce, answers the earlier stage with a fresh one, is applied once, and is refused where there is no way back', async () => {
    const { sessionId } = await stack.gateway.create({ tenantId: TENANT_A.id, tag: 'REF-back', definition: inlineFlow(TWO_FORMS) });
    const launch = await stack.gateway.launch(sessionId);
    const contact = await step(sessionId, { skill: 'two-forms', nonce: launch.nonce!, step: 'name', data: { name: 'A' } });
    expect(contact.status).toBe(200);
    expect(contact.body.data).toMatchObject({ step: 'contact', back: true });

    const back = { skill: 'two-forms', nonce: contact.body.nonce, step: 'contact', data: {}, event: 'BACK' };
    const answer = await step(sessionId, back);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'SESSION_IN_PROGRESS', data: { step: 'name', kind: 'input' } });
    expect(answer.body.data).not.toHaveProperty('back');
    expect(answer.body.nonce).not.toBe(contact.body.nonce);
    // The same request again: the same answer, applied once.
    const again = await step(sessionId, back);
    expect(again.body).toEqual(answer.body);
    expect((await stack.gateway.status(sessionId)).stepCount).toBe(2);
    // The spent nonce with anything else is refused.
    expectDeviceError(await step(sessionId, { skill: 'two-forms', nonce: contact.body.nonce, step: 'contact', data: { email: 'a@example.com' } }), 400, 'invalid_nonce');

    const noWayBack = await step(sessionId, { skill: 'two-forms', nonce: answer.body.nonce, step: 'name', data: {}, event: 'BACK' });
    expectDeviceError(noWayBack, 400, 'invalid_data');
    expect(noWayBack.body.message).toBe('step "name" has no way back');
    expectDeviceError(await step(sessionId, { skill: 'two-forms', nonce: answer.body.nonce, step: 'name', data: {}, event: 'SIDEWAYS' }), 400, 'invalid_request');
    // Refusals changed nothing: the nonce still moves the session on.
    expect((await step(sessionId, { skill: 'two-forms', nonce: answer.body.nonce, step: 'name', data: { name: 'B' } })).body.data.step).toBe('contact');
    expect((await stack.gateway.status(sessionId)).stepCount).toBe(3);
  });
});
