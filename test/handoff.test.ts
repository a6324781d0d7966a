/**
 * Handoffs and re-issued links over real HTTP against the real stack (the browser's side is
 * test/hosted-handoff.test.ts): exactly one of two devices racing for a token wins, the device
 * that handed a session on follows it and nothing more, a token not minted for the session or
 * replaced by a newer one is not valid, claims after the end are refused, a re-issue releases
 * the old device at once, and an offer or claim sent straight to Temporal without the api's
 * proof moves nothing.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { claimHandoffUpdate } from '../src/contract/handoff';
import { nonceHash, sessionWorkflowId } from '../src/session-secret';
import { TENANT_A, TENANT_B, type Answer } from './helpers/api';
import { useStack } from './helpers/use-stack';

const { stack, api } = useStack('handoff', { api: {} });

/** The session key cookie an answer sets, as the Cookie header a browser sends back. */
function keyCookie(answer: Answer): string {
  const header = answer.headers['set-cookie'];
  const line = (Array.isArray(header) ? header : [header ?? '']).find((value) => value.startsWith('session_'));
  if (!line) throw new Error(`no session key cookie in ${JSON.stringify(header)}`);
  return line.split('; ')[0];
}

async function created(tag: string): Promise<string> {
  const answer = await api.call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'consent-only', snapshot: null, tag } });
  expect(answer.status).toBe(200);
  return answer.body._id;
}

/** A session launched by a browser: its id, that browser's cookie, and its first nonce. */
async function launched(tag: string): Promise<{ id: string; cookie: string; nonce: string }> {
  const id = await created(tag);
  const opened = await api.call('POST', `/v1/sessions/${id}/open`, { as: null });
  expect(opened.status).toBe(200);
  return { id, cookie: keyCookie(opened), nonce: opened.body.nonce };
}

function tokenOf(url: string): string {
  const [, token] = url.split('#handoff=');
  return token;
}

const handoff = (id: string, cookie?: string) => api.call('POST', `/v1/sessions/${id}/handoff`, { as: null, headers: cookie ? { cookie } : {}, body: {} });
const claim = (id: string, token: string) => api.call('POST', `/v1/sessions/${id}/claim`, { as: null, body: { token } });
const reopen = (id: string, cookie: string) => api.call('POST', `/v1/sessions/${id}/open`, { as: null, headers: { cookie } });
const waitFor = (id: string, cookie: string) => api.call('GET', `/v1/sessions/${id}?wait=0`, { as: null, headers: { cookie } });
const consent = (id: string, nonce: string, cookie: string) =>
  api.call('POST', `/v1/sessions/${id}/steps`, { as: null, headers: { cookie }, body: { client_id: TENANT_A.id, nonce, skill: 'consent-only', step: 'consent', data: { accepted: true } } });

test('two devices racing for one link: one takes the session, the other is told the link was used; the first device follows, and nothing more', async () => {
  const first = await launched('REF-handoff-race');
  const offered = await handoff(first.id, first.cookie);
  expect(offered.status).toBe(200);
  expect(offered.body.url.startsWith(`${api.url}/flow/${first.id}#handoff=`)).toBe(true);
  expect(offered.body.qr_svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>(<path [^>]*\/>)+<\/svg>\s*$/);
  const token = tokenOf(offered.body.url);

  const racing = await Promise.all([claim(first.id, token), claim(first.id, token)]);
  expect(racing.map((answer) => answer.status).sort()).toEqual([200, 409]);
  const winner = racing.find((answer) => answer.status === 200)!;
  const loser = racing.find((answer) => answer.status === 409)!;
  expect(winner.body).toEqual({ session_id: first.id, claimed: true });
  expect(loser.body).toMatchObject({ type: 'conflict', code: 'handoff_used' });
  expect(loser.headers['set-cookie']).toBeUndefined();
  const second = keyCookie(winner);

  // The first device is refused like any other: no pick-up, no step with the nonce it held.
  expect(await reopen(first.id, first.cookie)).toMatchObject({ status: 409, body: { code: 'session_open_elsewhere' } });
  expect(await consent(first.id, first.nonce, first.cookie)).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  expect(await handoff(first.id, first.cookie)).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  // It follows the status only.
  expect(await waitFor(first.id, first.cookie)).toMatchObject({ status: 200, body: { status: 'SESSION_IN_PROGRESS', step: null, outcome: null, moved: true } });

  const picked = await reopen(first.id, second);
  expect(picked).toMatchObject({ status: 200, body: { step: 'consent', nonce: first.nonce } });
  expect((await consent(first.id, picked.body.nonce, second)).body).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  expect(await waitFor(first.id, first.cookie)).toMatchObject({ status: 200, body: { status: 'SESSION_COMPLETED', step: null, outcome: null, moved: true } });
  expect((await waitFor(first.id, second)).body).toMatchObject({ status: 'SESSION_COMPLETED', outcome: 'success' });
  expect((await waitFor(first.id, second)).body).not.toHaveProperty('moved');
  // Over: the link is refused for that, even though it was used.
  expect(await claim(first.id, token)).toMatchObject({ status: 409, body: { code: 'session_completed' } });
});

test('a link is not valid when it was never minted for the session or a newer one replaced it; only the bound browser offers one; a claim after the end is refused', async () => {
  const session = await launched('REF-handoff-refusals');
  const other = await launched('REF-handoff-other');
  const othersToken = tokenOf((await handoff(other.id, other.cookie)).body.url);
  for (const token of ['made-up', othersToken, `${othersToken.split('.')[0]}.AAAAAAAAAAAAAAAA`]) {
    expect({ token, ...(await claim(session.id, token)) }).toMatchObject({ token, status: 404, body: { code: 'handoff_not_valid' } });
  }
  // No cookie, another session's cookie: not the bound browser.
  expect(await handoff(session.id)).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  expect(await handoff(session.id, other.cookie.replace(/^session_[0-9a-f]+/, session.cookie.split('=')[0]))).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  // A session not launched yet has no device to hand it on.
  expect(await handoff(await created('REF-handoff-created'))).toMatchObject({ status: 404, body: { code: 'session_not_found' } });

  const replaced = tokenOf((await handoff(session.id, session.cookie)).body.url);
  const newer = tokenOf((await handoff(session.id, session.cookie)).body.url);
  expect(await claim(session.id, replaced)).toMatchObject({ status: 404, body: { code: 'handoff_not_valid' } });
  // Refused claims changed nothing: the first browser still holds the session.
  expect((await reopen(session.id, session.cookie)).status).toBe(200);

  expect((await consent(session.id, session.nonce, session.cookie)).body).toMatchObject({ status: 'SESSION_COMPLETED' });
  expect(await claim(session.id, newer)).toMatchObject({ status: 409, body: { code: 'session_completed' } });
  expect(await handoff(session.id, session.cookie)).toMatchObject({ status: 409, body: { code: 'session_completed' } });
});

test("a re-issued link releases the old device at once and works once, on any device; only the session's tenant re-issues, and only a session in progress", async () => {
  const session = await launched('REF-reissue');
  expect(await api.call('POST', `/api/v1/public/flowx/handshake/${session.id}/reissue`, { as: TENANT_B })).toMatchObject({ status: 403, body: { code: 4031 } });
  expect(await api.call('POST', `/api/v1/public/flowx/handshake/${session.id}/reissue`, { as: null })).toMatchObject({ status: 401, body: { code: 4016 } });
  const notLaunched = await created('REF-reissue-created');
  expect(await api.call('POST', `/api/v1/public/flowx/handshake/${notLaunched}/reissue`)).toMatchObject({ status: 400, body: { code: 4001 } });

  const reissued = await api.call('POST', `/api/v1/public/flowx/handshake/${session.id}/reissue`);
  expect(reissued.status).toBe(200);
  expect(reissued.body.url.startsWith(`${api.url}/flow/${session.id}#handoff=`)).toBe(true);
  expect(reissued.body.expiresAt).toBeGreaterThan(Date.now());
  // Released before anyone claims it: the old device is refused from now on, and follows nothing.
  expect(await reopen(session.id, session.cookie)).toMatchObject({ status: 409, body: { code: 'session_open_elsewhere' } });
  expect(await waitFor(session.id, session.cookie)).toMatchObject({ status: 404, body: { code: 'session_not_found' } });
  expect(await consent(session.id, session.nonce, session.cookie)).toMatchObject({ status: 404, body: { code: 'session_not_found' } });

  const token = tokenOf(reissued.body.url);
  const taken = await claim(session.id, token);
  expect(taken.status).toBe(200);
  expect(await claim(session.id, token)).toMatchObject({ status: 409, body: { code: 'handoff_used' } });
  const fresh = keyCookie(taken);
  const picked = await reopen(session.id, fresh);
  expect((await consent(session.id, picked.body.nonce, fresh)).body).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  expect(await api.call('POST', `/api/v1/public/flowx/handshake/${session.id}/reissue`)).toMatchObject({ status: 400, body: { code: 4001 } });
});

test("a claim sent straight to Temporal without the api's proof moves nothing, and the real claim still works", async () => {
  const session = await launched('REF-handoff-forged');
  const token = tokenOf((await handoff(session.id, session.cookie)).body.url);
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(session.id));
  const forged = { tokenHash: nonceHash(token), deviceClientId: `key_${'A'.repeat(43)}`, proof: 'forged' };
  const refused = await handle.executeUpdate(claimHandoffUpdate, { args: [forged] }).catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'InboundRefused' });
  expect((await stack.gateway.status(session.id)).deviceClientId).not.toBe(forged.deviceClientId);
  expect((await reopen(session.id, session.cookie)).status).toBe(200);

  const taken = await claim(session.id, token);
  expect(taken.status).toBe(200);
  expect(await reopen(session.id, session.cookie)).toMatchObject({ status: 409, body: { code: 'session_open_elsewhere' } });
});
