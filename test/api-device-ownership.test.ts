/**
 * Issue 13, D1: a session is bound to a device client only by a launch that succeeded, for a
 * device client of the session's own tenant, and DELETE /v1/client ends only sessions the
 * client really owns. Every route taking a session id and a credential checks first, then
 * records: a refused request leaves the device client and the session as they were.
 */
import { TENANT_A, TENANT_B } from './helpers/api';
import { useStack } from './helpers/use-stack';

const { stack, api } = useStack('device-ownership', { api: {} });

async function newClient(tenantId: string): Promise<Record<string, string>> {
  const answer = await api.call('POST', `/v1/client?client_id=${tenantId}&_is_native=true`, { as: null });
  expect(answer.status).toBe(200);
  return { authorization: String(answer.headers.authorization) };
}

async function backendSession(tag: string, clientId = TENANT_A.id): Promise<string> {
  return (await stack.gateway.create({ tenantId: clientId, tag, definition: stack.definition('consent-only') })).sessionId;
}

const launch = (id: string, headers: Record<string, string> = {}) => api.call('POST', `/v1/handshakes/${id}/launch`, { as: null, headers });
const current = (headers: Record<string, string>) => api.call('GET', '/v1/client', { as: null, headers });
const end = (headers: Record<string, string>) => api.call('DELETE', '/v1/client', { as: null, headers });

test("another tenant's device client: its refused launch binds nothing, it neither lists nor ends the session", async () => {
  const intruder = await newClient(TENANT_B.id);
  const victim = await backendSession('REF-own-cross-tenant');

  expect(await launch(victim, intruder)).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  expect((await current(intruder)).body.client.sessions).toEqual([]);
  const ended = await end(intruder);
  expect(ended.status).toBe(200);
  expect(ended.body.client.sessions).toEqual([]);

  // The session is untouched: the real device launches it and finishes it.
  expect(await stack.gateway.status(victim)).toMatchObject({ status: 'created', deviceClientId: null, endReason: null });
  const owner = await newClient(TENANT_A.id);
  const launched = await launch(victim, owner);
  expect(launched).toMatchObject({ status: 200, body: { status: 'SESSION_IN_PROGRESS' } });
});

test("a device client of the same tenant cannot take over a session another device launched", async () => {
  const owner = await newClient(TENANT_A.id);
  const intruder = await newClient(TENANT_A.id);
  const sessionId = await backendSession('REF-own-same-tenant');
  expect((await launch(sessionId, owner)).status).toBe(200);

  expect(await launch(sessionId, intruder)).toMatchObject({ status: 409, body: { code: 'session_already_launched' } });
  expect((await current(intruder)).body.client.sessions).toEqual([]);
  expect((await end(intruder)).body.client.sessions).toEqual([]);

  expect(await stack.gateway.status(sessionId)).toMatchObject({ status: 'in_progress', endReason: null });
  expect((await current(owner)).body.client.sessions).toEqual([{ id: sessionId, status: 'in_progress', step: 'consent' }]);
});

test('a launch of an unknown id binds nothing', async () => {
  const device = await newClient(TENANT_A.id);
  expect(await launch('DSunknownunknownunknow', device)).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  expect((await stack.gateway.deviceClient((await current(device)).body.client.id))!.sessionIds).toEqual([]);
});

test('create-and-launch with a credential of another app binds nothing', async () => {
  const foreign = await newClient(TENANT_B.id);
  const answer = await api.call('POST', '/v1/sessions', {
    as: null,
    headers: foreign,
    body: { tenant_user_id: 'user-own', client_id: TENANT_A.id, client_app_key: TENANT_A.secret, skill: 'consent-only' },
  });
  expect(answer).toMatchObject({ status: 401, body: { code: 'invalid_client_credential' } });
  expect((await current(foreign)).body.client.sessions).toEqual([]);
});

test('a device client only lists and ends the sessions whose launch it made, even when its record names others', async () => {
  // A record written by the old bind-before-launch order: the client names a session it never launched.
  const device = await newClient(TENANT_A.id);
  const deviceClientId = (await current(device)).body.client.id as string;
  const foreign = await backendSession('REF-own-stale-record');
  await stack.client.workflow
    .getHandle(`device-client-${deviceClientId}`)
    .executeUpdate('bindSession', { args: [{ sessionId: foreign }] });

  expect((await current(device)).body.client.sessions).toEqual([]);
  expect((await end(device)).body.client.sessions).toEqual([]);
  expect(await stack.gateway.status(foreign)).toMatchObject({ status: 'created', endReason: null });
});

test('a step refused for another device client changes neither the session nor the device client', async () => {
  const owner = await newClient(TENANT_A.id);
  const intruder = await newClient(TENANT_A.id);
  const sessionId = await backendSession('REF-own-step');
  const launched = await launch(sessionId, owner);
  const before = await stack.gateway.view(sessionId);
  const step = await api.call('POST', `/v1/sessions/${sessionId}/steps`, {
    as: null,
    headers: intruder,
    body: { client_id: TENANT_A.id, nonce: launched.body.nonce, skill: 'consent-only', step: 'consent', data: { accepted: true } },
  });
  expect(step).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  expect(await stack.gateway.view(sessionId)).toEqual(before);
  expect((await current(intruder)).body.client.sessions).toEqual([]);
});
