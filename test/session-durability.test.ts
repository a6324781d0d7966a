/**
 * Time and size: durable expiry, the flow's `after` timers, continue-as-new on a long
 * session, and the per-step history cost.
 */
import type { FlowMachine } from '../src/flows/core/types';
import { SessionRefusedError } from '../src/api/session-errors';
import { REFUSALS } from '../src/contract/session';
import { inlineFlow, sandboxCall } from './helpers/flows';
import { recordingOf } from './helpers/record-history';
import { eventually, sessionClosed } from './helpers/stack';
import { useStack } from './helpers/use-stack';
import { sessionWorkflowId } from '../src/session-secret';

const { stack } = useStack('durability');

const LOOP: FlowMachine = {
  id: 'loop',
  initial: 'ping',
  states: {
    ping: {
      meta: {
        stage: 'input',
        schema: { type: 'object', properties: { done: { type: 'boolean' } }, required: ['done'], additionalProperties: false },
      },
      on: { SUBMIT: [{ target: 'finished', guard: { type: 'equals', params: { path: 'input.done', value: true } } }, { target: 'ping' }] },
    },
    finished: { type: 'final', meta: { outcome: 'success' } },
  },
};

const TIMED: FlowMachine = {
  id: 'timed',
  initial: 'answer',
  states: {
    answer: {
      meta: { stage: 'input', schema: { type: 'object', additionalProperties: false } },
      on: { SUBMIT: 'answered' },
      after: { '1500': 'timedOut' },
    },
    answered: { type: 'final', meta: { outcome: 'success' } },
    timedOut: { type: 'final', meta: { outcome: 'skipped' } },
  },
};

function waitForStatus(sessionId: string, status: string) {
  return eventually(async () => {
    const view = await stack.gateway.status(sessionId);
    return view.status === status ? view : undefined;
  }, 15_000, `status ${status}`);
}

test('a session with a 2-second expiry expires, and refuses steps afterwards', async () => {
  const { sessionId } = await stack.gateway.create({
    tenantId: 'tenant-a',
    tag: 'REF-expiry',
    definition: stack.definition('consent-only'),
    expiresAt: Date.now() + 2_000,
  });
  const launch = await stack.gateway.launch(sessionId);
  const expired = await waitForStatus(sessionId, 'expired');
  expect(expired).toMatchObject({ consumed: true, stage: null, endReason: 'the expiry passed before the flow finished' });
  const refusal = await stack.gateway
    .submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } })
    .catch((err: unknown) => err);
  expect(refusal).toBeInstanceOf(SessionRefusedError);
  expect((refusal as SessionRefusedError).type).toBe(REFUSALS.WRONG_STATUS);
  expect((await stack.gateway.archive(sessionId)).status).toBe('archived');
});

test('a created session that is never launched expires too', async () => {
  const { sessionId } = await stack.gateway.create({
    tenantId: 'tenant-a',
    tag: 'REF-expiry-created',
    definition: stack.definition('consent-only'),
    expiresAt: Date.now() + 1_000,
  });
  expect(await waitForStatus(sessionId, 'expired')).toMatchObject({ consumed: false });
  await expect(stack.gateway.launch(sessionId)).rejects.toMatchObject({ type: REFUSALS.WRONG_STATUS });
});

test('expire ends a live session early with its reason, once', async () => {
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-expire-now', definition: stack.definition('consent-only') });
  await stack.gateway.launch(sessionId);
  expect(await stack.gateway.expire(sessionId, 'ended by the device')).toMatchObject({ status: 'expired', endReason: 'ended by the device' });
  await expect(stack.gateway.expire(sessionId, 'again')).rejects.toMatchObject({ type: REFUSALS.WRONG_STATUS });
});

test("a stage's after delay runs as a durable timer", async () => {
  const definition = inlineFlow(TIMED);
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-timer', definition });
  await stack.gateway.launch(sessionId);
  const view = await waitForStatus(sessionId, 'consumed');
  expect(view.outcome).toBe('skipped');
  expect((await stack.gateway.result(sessionId)).result).toEqual({ answer: { input: {}, output: { timedOut: true, afterMs: 1500 } } });
  const history = await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory();
  expect(history.events?.filter((e) => e.timerFiredEventAttributes)).toHaveLength(1);
  const recording = await recordingOf(stack, sessionId);
  await stack.gateway.archive(sessionId);
  await sessionClosed(stack, sessionId);
  await recording.write('timed-stage');

  // Answered in time, the timer is cancelled and never fires.
  const second = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-timer-beaten', definition });
  const launch = await stack.gateway.launch(second.sessionId);
  await stack.gateway.submitStep(second.sessionId, { nonce: launch.nonce!, step: 'answer', input: {} });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(await stack.gateway.result(second.sessionId)).toMatchObject({ outcome: 'success', result: { answer: { output: {} } } });
});

test("a stage's after delay waits for the launch: a created session does not move", async () => {
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-timer-unlaunched', definition: inlineFlow(TIMED) });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(await stack.gateway.status(sessionId)).toMatchObject({ status: 'created', stage: 'answer' });
});

test('a timer that falls due while a provider step is in flight waits for it, and the step wins', async () => {
  const definition = inlineFlow({
    id: 'timed-bank',
    initial: 'bank',
    states: {
      bank: {
        meta: {
          stage: 'provider',
          provider: 'finqware',
          params: { skill: 'bank_account_verification', step: 'account_details' },
          schema: { type: 'object', properties: { accountNumber: { type: 'string' }, ifsc: { type: 'string' } }, additionalProperties: false },
        },
        on: { DONE: 'verified', ERROR: 'failed' },
        after: { '1000': 'timedOut' },
      },
      verified: { type: 'final', meta: { outcome: 'success' } },
      failed: { type: 'final', meta: { outcome: 'error' } },
      timedOut: { type: 'final', meta: { outcome: 'skipped' } },
    },
  });
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-timer-busy', definition });
  const launch = await stack.gateway.launch(sessionId);
  await sandboxCall(stack, 'POST', '/finqware/_faults', { delayMs: 2_500, count: 1 });
  const answer = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'bank', input: { accountNumber: '123456789012', ifsc: 'HDFC0001234' } });
  expect(answer).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  expect((await stack.gateway.result(sessionId)).result!.bank.output).toMatchObject({ status: 'SESSION_COMPLETED' });
});

test('an intermediate input step costs six history events (one of them the SessionStage upsert)', async () => {
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-step-cost', definition: inlineFlow(LOOP) });
  const launch = await stack.gateway.launch(sessionId);
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  const first = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'ping', input: { done: false } });
  const before = (await handle.fetchHistory()).events?.length ?? 0;
  await stack.gateway.submitStep(sessionId, { nonce: first.nonce!, step: 'ping', input: { done: false } });
  const after = (await handle.fetchHistory()).events?.length ?? 0;
  expect(after - before).toBeLessThanOrEqual(6);
});

test('a long session continues as new when Temporal suggests it, keeping its state and every step', async () => {
  const steps = 110; // ~5 events each: past the test server's suggestion threshold (scripts/with-temporal.ts)
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-long', definition: inlineFlow(LOOP, 200) });
  let nonce = (await stack.gateway.launch(sessionId)).nonce!;
  for (let i = 1; i < steps; i += 1) {
    const answer = await stack.gateway.submitStep(sessionId, { nonce, step: 'ping', input: { done: false } });
    expect(answer.status).toBe('SESSION_IN_PROGRESS');
    nonce = answer.nonce!;
  }
  const last = await stack.gateway.submitStep(sessionId, { nonce, step: 'ping', input: { done: true } });
  expect(last).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });

  const view = await stack.gateway.status(sessionId);
  expect(view).toMatchObject({ status: 'consumed', stepCount: steps, number: expect.any(String) });
  const runs = [];
  for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${sessionWorkflowId(sessionId)}'` })) runs.push(run);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  const current = await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory();
  expect(current.events?.[0].workflowExecutionStartedEventAttributes?.continuedExecutionRunId).toBeTruthy();
  // The search attributes moved with the session.
  const attributes = (await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).describe()).typedSearchAttributes.getAll();
  expect(Object.fromEntries(attributes.map((p) => [p.key.name, p.value]))).toMatchObject({ SessionStatus: 'consumed', SessionTag: 'REF-long' });
});
