/**
 * The session workflow's lifecycle on a real Temporal dev server with a real worker:
 * created → in_progress → consumed → archived, and every refused transition leaving the
 * status and result views exactly as they were.
 */
import { SessionRefusedError } from '../src/api/session-errors';
import type { SessionGateway } from '../src/api/session-gateway';
import { REFUSALS, type RefusalType } from '../src/contract/session';
import { sessionClosed } from './helpers/stack';
import { useStack } from './helpers/use-stack';
import { nonceHash, sessionWorkflowId } from '../src/session-secret';

const { stack } = useStack('lifecycle');
let gateway: SessionGateway;

beforeAll(() => {
  gateway = stack.gateway;
});

function consentSession(tag = 'REF-1') {
  return gateway.create({ tenantId: 'tenant-a', tag, definition: stack.definition('consent-only') });
}

async function views(sessionId: string) {
  return { status: await gateway.status(sessionId), result: await gateway.result(sessionId) };
}

/** Asserts `attempt` is refused with `type` and that nothing about the session changed. */
async function expectRefusedWithoutTrace(sessionId: string, type: RefusalType, attempt: () => Promise<unknown>) {
  const before = await views(sessionId);
  const historyBefore = (await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory()).events?.length;
  const error = await attempt().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SessionRefusedError);
  expect((error as SessionRefusedError).type).toBe(type);
  expect(await views(sessionId)).toEqual(before);
  expect((await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory()).events?.length).toBe(historyBefore);
}

test('consent-only: created, launched, consumed with success, archived', async () => {
  const created = await consentSession('REF-accept');
  expect(created.sessionId).toMatch(/^DS[0-9A-Za-z]{20}$/);
  expect(created.number).toMatch(/^\d{4}-\d{6}-\d{4}$/);
  const initial = await gateway.status(created.sessionId);
  expect(initial).toMatchObject({ status: 'created', consumed: false, archived: null, stage: 'consent', flowId: 'consent-only' });
  expect(initial.expiry - initial.createdAt).toBe(24 * 60 * 60 * 1000);

  const launch = await gateway.launch(created.sessionId);
  expect(launch).toMatchObject({ status: 'SESSION_IN_PROGRESS', step: 'consent' });
  expect(launch.data.schema).toEqual({
    type: 'object',
    properties: { accepted: { type: 'boolean', title: 'Do you accept the terms?', description: 'Choose Yes to accept and continue, or No to stop here.' } },
    required: ['accepted'],
    additionalProperties: false,
  });
  expect(launch.nonce).toEqual(expect.any(String));
  expect((await gateway.status(created.sessionId)).consumed).toBe(true);

  const answer = await gateway.submitStep(created.sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
  expect(answer).toMatchObject({ status: 'SESSION_COMPLETED', nonce: null, data: { step: null, outcome: 'success' } });
  const result = await gateway.result(created.sessionId);
  expect(result).toEqual({
    status: 'consumed',
    outcome: 'success',
    result: { consent: { input: { accepted: true }, output: {} } },
    archived: null,
  });

  const archived = await gateway.archive(created.sessionId);
  expect(archived.status).toBe('archived');
  expect(archived.archived).toEqual(expect.any(Number));
  const afterArchive = await gateway.result(created.sessionId);
  expect(afterArchive).toMatchObject({ status: 'archived', result: null, archived: archived.archived });
  // Archiving ends the workflow: it returns the final status view.
  expect(await sessionClosed(stack, created.sessionId)).toBe('archived');
});

test('consent-only: declining ends in skipped', async () => {
  const { sessionId } = await consentSession('REF-decline');
  const launch = await gateway.launch(sessionId);
  const answer = await gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: false } });
  expect(answer.data.outcome).toBe('skipped');
  expect(await gateway.result(sessionId)).toMatchObject({ status: 'consumed', outcome: 'skipped' });
});

test('search attributes and current details follow the status', async () => {
  const { sessionId, number } = await consentSession('REF-search');
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  const attributes = async () => {
    const description = await handle.describe();
    return Object.fromEntries(description.typedSearchAttributes.getAll().map((pair) => [pair.key.name, pair.value]));
  };
  expect(await attributes()).toMatchObject({ SessionStatus: 'created', SessionTag: 'REF-search', FlowId: 'consent-only', ClientId: 'tenant-a' });
  expect(await (await handle.describe()).staticSummary()).toBe(`Session ${number} · flow consent-only@draft · client tenant-a`);

  const launch = await gateway.launch(sessionId);
  expect((await attributes()).SessionStatus).toBe('in_progress');
  await gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
  expect((await attributes()).SessionStatus).toBe('consumed');
  const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toBe('consumed · outcome success · 1 step(s)');
});

test("a session starts with the configured workflow task timeout, not Temporal's default", async () => {
  const { sessionId } = await consentSession('REF-task-timeout');
  const { raw } = await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).describe();
  // WORKFLOW_TASK_TIMEOUT_SECONDS: how long a step waits when the worker applying it dies.
  expect(Number(raw.executionConfig?.defaultWorkflowTaskTimeout?.seconds)).toBe(stack.config.temporal.workflowTaskTimeoutMs / 1000);
  expect(stack.config.temporal.workflowTaskTimeoutMs).not.toBe(10_000);
});

test('refused transitions change nothing: launch twice, archive while live, step before launch', async () => {
  const { sessionId } = await consentSession('REF-refusals');
  await expectRefusedWithoutTrace(sessionId, REFUSALS.WRONG_STATUS, () => gateway.archive(sessionId));
  await expectRefusedWithoutTrace(sessionId, REFUSALS.WRONG_STATUS, () =>
    gateway.submitStep(sessionId, { nonce: 'x'.repeat(43), step: 'consent', input: { accepted: true } }),
  );
  const launch = await gateway.launch(sessionId);
  await expectRefusedWithoutTrace(sessionId, REFUSALS.WRONG_STATUS, () => gateway.launch(sessionId));
  await expectRefusedWithoutTrace(sessionId, REFUSALS.WRONG_STATUS, () => gateway.archive(sessionId));
  // Still usable afterwards.
  const answer = await gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
  expect(answer.status).toBe('SESSION_COMPLETED');
});

test('refused steps change nothing: wrong stage, invalid input, wrong nonce, replayed nonce', async () => {
  const { sessionId } = await gateway.create({ tenantId: 'tenant-a', tag: 'REF-kyc-refusals', definition: stack.definition('kyc-basic') });
  const launch = await gateway.launch(sessionId);
  const nonce = launch.nonce!;
  const identity = { name: 'Sandbox Test User', birthDate: '26-12-1985' };

  await expectRefusedWithoutTrace(sessionId, REFUSALS.WRONG_STEP, () => gateway.submitStep(sessionId, { nonce, step: 'bank', input: {} }));
  for (const input of [
    {},
    { name: 'Sandbox Test User' },
    { name: 42, birthDate: '26-12-1985' },
    { name: 'Sandbox Test User', birthDate: '1985-12-26' },
    { ...identity, extra: true },
    'not an object',
  ]) {
    await expectRefusedWithoutTrace(sessionId, REFUSALS.INVALID_INPUT, () => gateway.submitStep(sessionId, { nonce, step: 'identity', input }));
  }
  // A wrong nonce on a step otherwise acceptable is a failed proof: refused as well, but its
  // refusal is recorded in history (docs/security/device-binding.md); nothing else changes.
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  const before = { views: await views(sessionId), events: (await handle.fetchHistory()).events!.length };
  await expect(gateway.submitStep(sessionId, { nonce: `${nonce}x`, step: 'identity', input: identity })).rejects.toMatchObject({ type: REFUSALS.INVALID_NONCE });
  expect(await views(sessionId)).toEqual(before.views);
  const after = (await handle.fetchHistory()).events!;
  expect(after.length).toBeGreaterThan(before.events);
  expect(after.at(-1)?.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure?.applicationFailureInfo?.type).toBe(REFUSALS.INVALID_NONCE);
  // With anything else wrong too, it is refused without a trace.
  await expectRefusedWithoutTrace(sessionId, REFUSALS.INVALID_NONCE, () => gateway.submitStep(sessionId, { nonce: `${nonce}x`, step: 'bank', input: {} }));

  const first = await gateway.submitStep(sessionId, { nonce, step: 'identity', input: identity });
  expect(first).toMatchObject({ status: 'SESSION_IN_PROGRESS', data: { step: 'aadhaar', kind: 'provider' } });
  expect(first.data.handshakeId).toEqual(expect.stringMatching(/^DS/));
  expect(first.nonce).not.toBe(nonce);

  // The used nonce with another payload is a replay: refused. An identical retry gets the same answer.
  await expectRefusedWithoutTrace(sessionId, REFUSALS.INVALID_NONCE, () =>
    gateway.submitStep(sessionId, { nonce, step: 'identity', input: { ...identity, name: 'Someone Else' } }),
  );
  expect(await gateway.submitStep(sessionId, { nonce, step: 'identity', input: identity })).toEqual(first);
  expect((await gateway.status(sessionId)).stepCount).toBe(1);
});

test('a retried submission applies once: concurrent requests with one nonce get one answer', async () => {
  const { sessionId } = await consentSession('REF-concurrent');
  const launch = await gateway.launch(sessionId);
  const submit = () => gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
  const answers = await Promise.all([submit(), submit(), submit()]);
  expect(answers[1]).toEqual(answers[0]);
  expect(answers[2]).toEqual(answers[0]);
  expect((await gateway.status(sessionId)).stepCount).toBe(1);
  const history = await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory();
  const accepted = history.events?.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
  expect(accepted).toHaveLength(2); // launch and one step
});

test('two submissions with one nonce under different update ids: exactly one applies', async () => {
  const { sessionId } = await consentSession('REF-race');
  const launch = await gateway.launch(sessionId);
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  const send = (updateId: string, accepted: boolean) =>
    handle
      .executeUpdate('submitStep', {
        updateId,
        // As the api sends them: the nonce (and its hash), the hash of the next one.
        args: [{ nonce: launch.nonce!, nonceHash: nonceHash(launch.nonce!), step: 'consent', input: { accepted }, nextNonceHash: nonceHash(`${updateId}-next-nonce-value`) }],
      })
      .then(
        (answer) => ({ ok: true as const, answer }),
        (err: unknown) => ({ ok: false as const, err }),
      );
  const outcomes = await Promise.all([send('race-a', true), send('race-b', false)]);
  expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
  expect((await gateway.status(sessionId)).stepCount).toBe(1);
});
