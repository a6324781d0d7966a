/**
 * GET /v1/sessions/:id?wait=<seconds> over real HTTP against the real stack: authorised by the
 * current nonce or, for a session bound to a device client, by its credential; anything else is
 * the unknown-session 404; a waiting request answers once the step lands, not before.
 */
import { TENANT_A } from './helpers/api';
import { useStack } from './helpers/use-stack';
import { nonceHash, sessionWorkflowId } from '../src/session-secret';
import { progressQuery } from '../src/contract/session';

const { stack, api } = useStack('device-wait', { api: {} });

async function launched(headers: Record<string, string> = {}): Promise<{ id: string; nonce: string }> {
  const { sessionId } = await stack.gateway.create({ tenantId: TENANT_A.id, tag: 'REF-wait', definition: stack.definition('consent-only') });
  const launch = await api.call('POST', `/v1/handshakes/${sessionId}/launch`, { as: null, headers });
  expect(launch.status).toBe(200);
  return { id: sessionId, nonce: launch.body.nonce };
}

const read = (id: string, headers: Record<string, string>, wait?: string) =>
  api.call('GET', `/v1/sessions/${id}${wait === undefined ? '' : `?wait=${wait}`}`, { as: null, headers });

const consent = (id: string, nonce: string, headers: Record<string, string> = {}) =>
  api.call('POST', `/v1/sessions/${id}/steps`, {
    as: null,
    headers,
    body: { client_id: TENANT_A.id, nonce, skill: 'consent-only', step: 'consent', data: { accepted: true } },
  });

test('the current nonce reads the session; no nonce, another nonce or a spent one is the unknown-session 404', async () => {
  const { id, nonce } = await launched();
  expect((await read(id, { 'x-session-nonce': nonce })).body).toEqual({ session_id: id, status: 'SESSION_IN_PROGRESS', step: 'consent', outcome: null, changed: false });
  for (const headers of [{}, { 'x-session-nonce': `${nonce}x` }] as Record<string, string>[]) {
    const refused = await read(id, headers);
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 404, code: 'session_not_found' });
  }
  expect((await consent(id, nonce)).status).toBe(200);
  expect((await read(id, { 'x-session-nonce': nonce })).status).toBe(404);
  const unknown = await read('DSnosuchsession0000000000', { 'x-session-nonce': nonce });
  expect({ status: unknown.status, code: unknown.body.code }).toEqual({ status: 404, code: 'session_not_found' });
});

test('wait is 0 to 25 seconds', async () => {
  const { id, nonce } = await launched();
  for (const wait of ['26', '-1', 'soon']) {
    const refused = await read(id, { 'x-session-nonce': nonce }, wait);
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 400, code: 'invalid_request' });
  }
  // Nothing changes: after the wait it answers the same status, unchanged.
  expect((await read(id, { 'x-session-nonce': nonce }, '1')).body).toMatchObject({ status: 'SESSION_IN_PROGRESS', step: 'consent', changed: false });
});

test('the session compares hashes only: the nonce hash it keeps matches, the plain nonce does not', async () => {
  const { id, nonce } = await launched();
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(id));
  expect((await handle.query(progressQuery, { nonceHash: nonceHash(nonce) })).nonceCurrent).toBe(true);
  expect((await handle.query(progressQuery, { nonceHash: nonce })).nonceCurrent).toBe(false);
  expect((await handle.query(progressQuery, { nonceHash: null })).nonceCurrent).toBe(false);
});

test('a session bound to a device client is read with its credential, and a waiting read answers when the step lands', async () => {
  const created = await api.call('POST', `/v1/client?client_id=${TENANT_A.id}&_is_native=true`, { as: null });
  const device = { authorization: String(created.headers.authorization) };
  const { id, nonce } = await launched(device);
  // Its nonce without the credential is not enough.
  expect((await read(id, { 'x-session-nonce': nonce })).status).toBe(404);

  let answered = false;
  const waiting = read(id, device, '25').then((answer) => {
    answered = true;
    return answer;
  });
  const step = await consent(id, nonce, device);
  // The read was still waiting when the step was answered: it waits for a change.
  expect(answered).toBe(false);
  expect(step.body.status).toBe('SESSION_COMPLETED');
  const answer = await waiting;
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ session_id: id, status: 'SESSION_COMPLETED', step: null, outcome: 'success' });
});
