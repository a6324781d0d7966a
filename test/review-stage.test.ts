/**
 * The review stage against the real stack: decisions through the codec server's reviewers'
 * routes, each routing the flow by its own transition; the proof a decision sent straight to
 * Temporal lacks; exactly one decision of two delivered in one workflow task; an SLA that passes
 * (webhook and search), and its timer re-armed after continue-as-new; kyc-basic's name mismatch.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort } from '../scripts/dev-server';
import { operatorTokenSha256 } from '../src/operators/tokens';
import type { TenantClient } from '../src/tenants/registry';
import { decideReviewUpdate, reviewQuery, type ReviewDecisionArgs } from '../src/contract/review';
import { INBOUND_REFUSED, REFUSALS } from '../src/contract/session';
import { SessionReviewKey } from '../src/contract/session-search';
import { ReviewSecret } from '../src/review-secret';
import { sessionWorkflowId } from '../src/session-secret';
import { rawCall, startApi, TENANT_A, type Api } from './helpers/api';
import { completeAttestr, IDENTITY, inlineFlow, kycAtAadhaar, BANK, reviewed } from './helpers/flows';
import { acceptedDecisions, OPERATOR_TOKENS, Receiver, startReviewers, type HistoryEvent, type Reviewers, refusalOf } from './helpers/reviews';
import { eventually, reviewSecret, startStack, type Stack } from './helpers/stack';

let stack: Stack;
let api: Api;
let reviewers: Reviewers;
let receiver: Receiver;
let hooks: TenantClient;

beforeAll(async () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  receiver = new Receiver(secret);
  await receiver.start();
  hooks = { id: 'tenant-review-hooks', secret: 'tenant-review-hooks-secret-01', webhookUrl: receiver.url, webhookSecret: secret, perSecond: 1000, perDay: 1_000_000 };
  stack = await startStack('review');
  await stack.startWorker([hooks]);
  api = await startApi(stack, [TENANT_A, hooks]);
  reviewers = await startReviewers(stack);
});

afterAll(async () => {
  await reviewers?.close();
  await api?.close();
  await stack?.stop();
  await receiver?.stop();
});

/** A session of `reviewed` past its details step: waiting in the review stage. */
async function inReview(note: string, options: { sla?: string; tenantId?: string; webhook?: boolean } = {}) {
  const { sessionId } = await stack.gateway.create({
    tenantId: options.tenantId ?? TENANT_A.id,
    tag: 'REF-review',
    definition: inlineFlow(reviewed(options.sla)),
    ...(options.webhook ? { webhook: true } : {}),
  });
  const launch = await stack.gateway.launch(sessionId);
  const answer = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'details', input: { note } });
  expect(answer).toMatchObject({ status: 'SESSION_IN_PROGRESS', data: { step: 'check' } });
  return { sessionId, workflowId: sessionWorkflowId(sessionId), nonce: answer.nonce! };
}

const decide = (workflowId: string, body: Record<string, unknown>, as: 'reviewer' | 'other' | 'viewer' | null = 'reviewer') =>
  reviewers.call('POST', `/reviews/${workflowId}/decision`, as, body);

async function historyOf(workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  return (await stack.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

test('an approval and a rejection each route the flow by their own transition; the same decisionId gets the first answer', async () => {
  const approved = await inReview('approve me');
  const view = await reviewers.call('GET', `/reviews/${approved.workflowId}`, 'viewer');
  expect(view.status).toBe(200);
  expect(view.body).toMatchObject({ stage: 'check', status: 'in_progress', overdue: false, dueAt: null, reasons: ['doubt', 'other'], shown: { 'details.input.note': 'approve me' }, decided: null });

  const yes = await decide(approved.workflowId, { decisionId: 'decision-approve-1', decision: 'approve' });
  expect(yes.status).toBe(200);
  expect(yes.body).toMatchObject({ decision: 'approve', reason: null, operator: 'rita', stage: 'check', next: null, status: 'consumed' });
  expect(await stack.gateway.status(approved.sessionId)).toMatchObject({ status: 'consumed', outcome: 'success' });
  // A retry of the same decision (its id) answers as the first time, even with another body.
  const again = await decide(approved.workflowId, { decisionId: 'decision-approve-1', decision: 'reject', reason: 'doubt' });
  expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: yes.body });
  // A new decision after the session ended is refused, and changes nothing.
  const late = await decide(approved.workflowId, { decisionId: 'decision-approve-2', decision: 'reject', reason: 'doubt' });
  expect({ status: late.status, code: late.body.code }).toEqual({ status: 409, code: 'review_not_waiting' });

  const rejected = await inReview('reject me');
  const badReason = await decide(rejected.workflowId, { decisionId: 'decision-reject-0', decision: 'reject', reason: 'not_a_reason' });
  expect({ status: badReason.status, code: badReason.body.code }).toEqual({ status: 400, code: 'review_invalid' });
  const no = await decide(rejected.workflowId, { decisionId: 'decision-reject-1', decision: 'reject', reason: 'doubt' }, 'other');
  expect(no.body).toMatchObject({ decision: 'reject', reason: 'doubt', operator: 'rob', status: 'consumed' });
  expect(await stack.gateway.result(rejected.sessionId)).toMatchObject({ outcome: 'error', result: { check: { output: { decision: 'reject', reason: 'doubt' } } } });

  // History names the operator and carries the proof; nothing of the operator's credential.
  const events = await historyOf(rejected.workflowId);
  const [decision] = await acceptedDecisions(stack, events);
  expect(decision.updateId).toBe('review-decision-reject-1');
  expect(Object.keys(decision.args).sort()).toEqual(['decision', 'entry', 'operator', 'proof', 'reason', 'stage']);
  expect(decision.args).toMatchObject({ operator: 'rob', stage: 'check', entry: 2, decision: 'reject', reason: 'doubt' });

  // The audit names who viewed and who decided, under the session's reference, never its id.
  const trail = (workflowId: string, action: 'review.view' | 'review.decision') =>
    reviewers.audit.query({ ref: workflowId.slice('session-'.length), action }).then((records) => records.map((r) => ({ actor: r.actor, phase: r.phase, outcome: r.outcome, detail: r.detail })));
  expect(await trail(approved.workflowId, 'review.view')).toEqual([
    { actor: 'operator:vic', phase: 'intent', outcome: undefined, detail: undefined },
    { actor: 'operator:vic', phase: 'outcome', outcome: 'ok', detail: undefined },
  ]);
  expect(await trail(rejected.workflowId, 'review.decision')).toEqual([
    { actor: 'operator:rita', phase: 'intent', outcome: undefined, detail: { decision: 'reject', reason: 'not_a_reason' } },
    { actor: 'operator:rita', phase: 'outcome', outcome: 'refused', detail: { decision: 'reject', reason: 'not_a_reason' } },
    { actor: 'operator:rob', phase: 'intent', outcome: undefined, detail: { decision: 'reject', reason: 'doubt' } },
    { actor: 'operator:rob', phase: 'outcome', outcome: 'ok', detail: { decision: 'reject', reason: 'doubt' } },
  ]);
  expect(JSON.stringify(await reviewers.audit.query({ ref: rejected.workflowId.slice('session-'.length) }))).not.toContain(rejected.sessionId);
  expect((await reviewers.audit.verify()).intact).toBe(true);
});

test('a viewer may read a case but not decide it (403); no credential is 401', async () => {
  const { workflowId } = await inReview('viewer');
  const refused = await decide(workflowId, { decisionId: 'decision-viewer-1', decision: 'approve' }, 'viewer');
  expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: 'operator_role_refused' });
  const anonymous = await decide(workflowId, { decisionId: 'decision-viewer-2', decision: 'approve' }, null);
  expect({ status: anonymous.status, code: anonymous.body.code }).toEqual({ status: 401, code: 'operator_credential_required' });
  expect((await stack.client.workflow.getHandle(workflowId).query(reviewQuery)).decided).toBeNull();
  expect(await acceptedDecisions(stack, await historyOf(workflowId))).toHaveLength(0);
});

test("a decision sent straight to Temporal is refused without a proof, or with one made for another session, visit, decision or secret", async () => {
  const { workflowId } = await inReview('forged');
  const other = await inReview('another');
  const handle = stack.client.workflow.getHandle(workflowId);
  const args: Omit<ReviewDecisionArgs, 'proof'> = { stage: 'check', entry: 2, decision: 'approve', operator: 'mallory' };
  const send = (proof: unknown, updateId: string) => handle.executeUpdate(decideReviewUpdate, { args: [{ ...args, proof } as ReviewDecisionArgs], updateId });

  expect(await refusalOf(send(undefined, 'forged-1'))).toBe(REFUSALS.INVALID_INPUT);
  const forgeries = [
    'not-a-proof',
    reviewSecret.proof(other.workflowId, args),
    reviewSecret.proof(workflowId, { ...args, entry: 1 }),
    reviewSecret.proof(workflowId, { ...args, decision: 'reject', reason: 'doubt' }),
    reviewSecret.proof(workflowId, { ...args, operator: 'rita' }),
    new ReviewSecret('some-other-secret-0123456789abcdefgh').proof(workflowId, args),
  ];
  for (const [i, proof] of forgeries.entries()) expect(await refusalOf(send(proof, `forged-${i + 2}`))).toBe(INBOUND_REFUSED);
  // Each refusal gave the review back: it still waits, and a reviewer's decision goes through.
  expect(await handle.query(reviewQuery)).toMatchObject({ stage: 'check', decided: null });
  expect((await decide(workflowId, { decisionId: 'decision-after-forgery', decision: 'approve' })).body).toMatchObject({ operator: 'rita', status: 'consumed' });
  // The proof made for this session and visit holds for nothing else, even the other session's review.
  const replayed = (await acceptedDecisions(stack, await historyOf(workflowId))).find((d) => d.args.operator === 'rita')!;
  const otherHandle = stack.client.workflow.getHandle(other.workflowId);
  expect(await refusalOf(otherHandle.executeUpdate(decideReviewUpdate, { args: [replayed.args as unknown as ReviewDecisionArgs], updateId: 'replayed-1' }))).toBe(INBOUND_REFUSED);
  expect(await otherHandle.query(reviewQuery)).toMatchObject({ stage: 'check', decided: null });
});

test('its SLA passing makes the session findable as overdue and sends session.review_overdue; a decision still closes it', async () => {
  const { sessionId, workflowId } = await inReview('slow', { sla: '2s', tenantId: hooks.id, webhook: true });
  const handle = stack.client.workflow.getHandle(workflowId);
  expect((await handle.describe()).typedSearchAttributes.get(SessionReviewKey)).toBe('pending');
  const overdue = await eventually(async () => receiver.accepted.find((d) => d.type === 'session.review_overdue' && d.data.sessionId === sessionId), 20_000, 'the overdue webhook');
  const dueAt = (await handle.query(reviewQuery)).dueAt!;
  expect(overdue.data).toMatchObject({ stage: 'check', dueAt });
  // The timer, not the test's clock: history holds it started for the SLA and fired.
  const events = await historyOf(workflowId);
  const started = events.filter((e) => e.timerStartedEventAttributes);
  expect(started.map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds))).toContain(2);
  expect(events.some((e) => e.timerFiredEventAttributes)).toBe(true);

  const found = await eventually(async () => {
    const ids: string[] = [];
    for await (const run of stack.client.workflow.list({ query: `SessionReview = 'overdue' AND TaskQueue = '${stack.taskQueue}'` })) ids.push(run.workflowId);
    return ids.includes(workflowId) ? ids : undefined;
  }, 20_000, 'the overdue session in the search');
  expect(found).toContain(workflowId);
  expect((await decide(workflowId, { decisionId: 'decision-overdue-1', decision: 'approve' })).body).toMatchObject({ status: 'consumed' });
  expect((await handle.describe()).typedSearchAttributes.get(SessionReviewKey)).toBeUndefined();
});

test('kyc-basic: a typed name that differs from the national ID goes to review; the device waits, then sees the approved flow go on to success', async () => {
  const { sessionId, identity, handshakeId, workflowId } = await kycAtAadhaar(stack, 'REF-kyc-review', { ...IDENTITY, name: 'Someone Else Entirely' });
  await completeAttestr(stack, handshakeId);
  const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
  // To the device a review is a wait: no form, the stage's title, and the page polls.
  expect(aadhaar).toMatchObject({ status: 'SESSION_IN_PROGRESS', data: { step: 'review', kind: 'wait', title: "We're checking your details" } });
  const nonce = { 'x-session-nonce': aadhaar.nonce! };
  expect((await api.call('GET', `/v1/sessions/${sessionId}`, { as: null, headers: nonce })).body).toMatchObject({ status: 'SESSION_IN_PROGRESS', step: 'review' });

  const view = await reviewers.call('GET', `/reviews/${workflowId}`, 'reviewer');
  expect(view.body.shown['identity.input.name']).toBe('Someone Else Entirely');
  expect(JSON.stringify(view.body.shown['aadhaar.output.result'])).toContain(IDENTITY.name);

  let answered = false;
  const waiting = api.call('GET', `/v1/sessions/${sessionId}?wait=25`, { as: null, headers: nonce }).then((answer) => {
    answered = true;
    return answer;
  });
  await new Promise((resolve) => setImmediate(resolve));
  expect(answered).toBe(false);
  const approved = await decide(workflowId, { decisionId: 'decision-kyc-1', decision: 'approve' });
  expect(approved.body).toMatchObject({ decision: 'approve', next: 'bank', status: 'in_progress' });
  expect((await waiting).body).toMatchObject({ status: 'SESSION_IN_PROGRESS', step: 'bank', changed: true });

  const bank = await stack.gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
  expect(bank).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
});

test('kyc-basic: the typed name matching the national ID does not stop at review', async () => {
  const { sessionId, identity, handshakeId } = await kycAtAadhaar(stack, 'REF-kyc-match', { ...IDENTITY, name: 'test sandbox user' });
  await completeAttestr(stack, handshakeId);
  expect(await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} })).toMatchObject({ data: { step: 'bank' } });
});

test('the codec server process (src/codec-server.ts) decides a review with its REVIEW_SECRET and its own Temporal client, connected on first use', async () => {
  const port = await freePort();
  const operators = JSON.stringify([{ name: 'rita', role: 'reviewer', tokenSha256: [operatorTokenSha256(OPERATOR_TOKENS.reviewer)] }]);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/codec-server.ts'], {
    env: { ...stack.env, CODEC_PORT: String(port), CODEC_ALLOWED_HOSTS: '127.0.0.1', SESSIONFLOW_OPERATORS: operators } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await eventually(async () => (output.includes('codec server listening') ? true : undefined), 30_000, `the codec server to listen: ${output}`);
    const { workflowId } = await inReview('through the process');
    const url = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${OPERATOR_TOKENS.reviewer}`, 'content-type': 'application/json' };
    expect((await rawCall(url, 'GET', `/reviews/${workflowId}`, auth)).body).toMatchObject({ stage: 'check', shown: { 'details.input.note': 'through the process' } });
    const answer = await rawCall(url, 'POST', `/reviews/${workflowId}/decision`, auth, JSON.stringify({ decisionId: 'decision-process-1', decision: 'approve' }));
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200, body: { operator: 'rita', status: 'consumed' } });
  } finally {
    if (child.exitCode === null) await new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')));
  }
});
