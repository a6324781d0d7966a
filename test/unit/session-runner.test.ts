/**
 * The SessionRunner without Temporal: its effects (search attributes, provider activities,
 * timers) are recorded by fakes, so each test states what launch, a step, an event, a stage
 * timer or the expiry does to the session and what the runner asks of Temporal, in order.
 */
import type { FlowMachine } from '../../src/flows/core/types';
import type { SessionStatus, StepArgs } from '../../src/contract/session';
import type { AttestrDelivery, SessionInput, StageError } from '../../src/contract/session-state';
import type { StageContext, StageOutcome } from '../../src/workflows/providers';
import { Exclusive, type Wait } from '../../src/workflows/session/exclusive';
import { SessionModel } from '../../src/workflows/session/model';
import { MAX_WAKE_FETCHES } from '../../src/workflows/session/attestr-wakeups';
import { SessionRunner } from '../../src/workflows/session/runner';
import type { TimerHandlers } from '../../src/workflows/session/timers';
import { SessionValidators } from '../../src/workflows/session/validators';
import { sampleDraft } from './fixtures';
import { TWO_FORMS } from '../helpers/flows';

const N1 = 'nonce-one-0000001';
const N2 = 'nonce-two-0000002';
const N3 = 'nonce-three-00003';
const IDENTITY = { name: 'Test Person', birthDate: '26-12-1985' };

/** An input stage with a 60 s `after` delay to `late`, and a backend-event wait stage. */
const timed: FlowMachine = {
  id: 'timed',
  initial: 'answer',
  states: {
    answer: { meta: { stage: 'input', schema: { type: 'object' } }, on: { SUBMIT: 'approval' }, after: { 60000: 'late' } },
    approval: { meta: { stage: 'wait' }, on: { EVENT: 'done' } },
    done: { type: 'final', meta: { outcome: 'success' } },
    late: { type: 'final', meta: { outcome: 'skipped' } },
  },
} as FlowMachine;

/** A wait that re-checks on the next macrotask: enough for work that ends in resolved promises. */
const polling: Wait = async (ready) => {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
};

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

function harness(machine: FlowMachine, options: { maxSteps?: number; webhook?: boolean; proveReview?: () => Promise<boolean> } = {}) {
  const input: SessionInput = {
    sessionId: 'DSsession0001',
    number: '3897-518104-8640',
    clientId: 'tenant-a',
    tag: 'REF-1',
    webhook: options.webhook ?? false,
    definition: { flowId: machine.id, snapshotId: null, maxSteps: options.maxSteps ?? 50, machine },
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
  };
  const session = new SessionModel(input, new Exclusive(polling));
  const log: string[] = [];
  const prepared: Array<StageOutcome | Promise<StageOutcome>> = [];
  const ran: Array<StageOutcome | Promise<StageOutcome>> = [];
  const contexts: StageContext[] = [];
  /** What each wake-up fetch answers, in order (null: nothing that verifies); `fetches` what it was asked. */
  const fetched: Array<AttestrDelivery | null | Promise<AttestrDelivery | null>> = [];
  const fetches: string[] = [];
  let timers: TimerHandlers | undefined;
  const runner = new SessionRunner(
    session,
    {
      emit: (type) => log.push(`emit ${type}`),
      statusChanged: (status) => log.push(`event for ${status}`),
    },
    {
      showDetails: () => undefined,
      reportPosition: ({ status }: { status: SessionStatus }) => log.push(`status ${status}`),
      prepareStage: async (stage, key) => {
        log.push(`prepare ${stage.id} as ${key}`);
        return prepared.shift() ?? { ok: true, output: { handshakeId: 'HS1' } };
      },
      runStage: async (stage, context) => {
        log.push(`run ${stage.id}`);
        contexts.push(context);
        return ran.shift() ?? { ok: true, output: {} };
      },
      proveEvent: async (event) => event.proof === 'proof',
      ...(options.proveReview ? { proveReview: options.proveReview } : {}),
      fetchAttestrResult: async (handshakeId, tag) => {
        fetches.push(`${handshakeId} ${tag}`);
        return (await fetched.shift()) ?? null;
      },
      timers: (on) => {
        timers = on;
        return {
          armStage: () => log.push(`arm ${session.state.stage}#${session.state.entry}`),
          armExpiry: () => log.push('arm expiry'),
          cancelExpiry: () => log.push('cancel expiry'),
          armRetention: () => undefined,
        };
      },
    },
    false,
  );
  // Nonces as the workflow gets them: hashes (the values are opaque to it).
  const step = (nonce: string, stepId: string, stepInput: unknown, nextNonce: string): StepArgs => ({ nonceHash: nonce, step: stepId, input: stepInput, nextNonceHash: nextNonce });
  return { session, runner, log, prepared, ran, contexts, fetched, fetches, timers: () => timers!, step };
}

const failure = (type: string): StageOutcome => ({ ok: false, error: { type, message: `${type} happened` } satisfies StageError });

describe('SessionRunner', () => {
  it('launches: reports in_progress, arms the stage, prepares nothing for an input stage, and answers the first step', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    h.runner.start();
    const answer = await h.runner.launch({ nonceHash: N1 });
    expect(answer).toMatchObject({ nonce: N1, status: 'SESSION_IN_PROGRESS', step: 'identity' });
    expect(answer).not.toHaveProperty('session_id'); // the workflow never holds the session id
    expect(h.log).toEqual(['arm expiry', 'arm identity#1', 'status in_progress', 'event for in_progress', 'arm identity#1']);
    expect(h.session.busy).toBe(false);
  });

  it('moves through an input step into an Attestr stage and prepares its handshake under an idempotency key of session, stage and entry', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    h.log.length = 0;
    const answer = await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    expect(answer).toMatchObject({ step_id: 'identity-1', nonce: N2, data: { step: 'aadhaar', handshakeId: 'HS1' } });
    // The stage move is reported (one upsert) before the next stage's preparation.
    expect(h.log).toEqual(['emit session.step_completed', 'arm aadhaar#2', 'status in_progress', 'prepare aadhaar as DSsession0001.aadhaar.2']);
    expect(h.session.state.result.identity).toEqual({ input: IDENTITY, output: {} });
    expect(h.session.state.lastStep).toMatchObject({ nonce: N1, step: 'identity', answer });
  });

  it('computes an accepted step\'s transition once, in the handler: its validator only asks whether the flow takes the input, and writes nothing', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    const advance = jest.spyOn(h.session.flow, 'advance');
    const takes = jest.spyOn(h.session.flow, 'takes');
    const args = h.step(N1, 'identity', IDENTITY, N2);
    const before = structuredClone(h.session.state);
    new SessionValidators(h.session).checkStep(args);
    expect(h.session.state).toEqual(before);
    expect(takes).toHaveBeenCalledTimes(1);
    expect(advance).not.toHaveBeenCalled();
    await h.runner.submitStep(args);
    expect(advance).toHaveBeenCalledTimes(1);
    expect(h.session.state.stage).toBe('aadhaar');
  });

  it('moves the same on replay, where no validator runs: the handler relies on nothing a validator computed', async () => {
    const validated = harness(timed);
    const replayed = harness(timed);
    const advance = jest.spyOn(replayed.session.flow, 'advance');
    const validators = new SessionValidators(validated.session);
    for (const h of [validated, replayed]) await h.runner.launch({ nonceHash: N1 });
    validators.checkStep(validated.step(N1, 'answer', {}, N2));
    for (const h of [validated, replayed]) await h.runner.submitStep(h.step(N1, 'answer', {}, N2));
    const event = { eventId: 'ev-1', type: 'approved', data: { by: 'ops' }, proof: 'proof' };
    validators.checkEvent(event);
    for (const h of [validated, replayed]) await h.runner.deliverEvent(event);
    expect(advance).toHaveBeenCalledTimes(2); // once for the step, once for the event
    const moved = ({ state }: SessionModel) => ({ stage: state.stage, entry: state.entry, status: state.status, outcome: state.outcome, stepCount: state.stepCount, result: state.result });
    expect(moved(replayed.session)).toEqual(moved(validated.session));
    expect(moved(replayed.session)).toMatchObject({ status: 'consumed', stage: 'done', outcome: 'success' });
  });

  it('answers an identical retry of the last step from memory, running nothing again', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    const first = await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    h.log.length = 0;
    expect(await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N3))).toBe(first);
    expect(h.log).toEqual([]);
  });

  it('follows a provider failure along ERROR and ends the session with the flow\'s outcome', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    h.ran.push(failure('ProviderRejected'));
    const answer = await h.runner.submitStep(h.step(N2, 'aadhaar', {}, N3));
    expect(answer).toMatchObject({ step_id: 'aadhaar-2', nonce: null, status: 'SESSION_COMPLETED', data: { step: null, outcome: 'error' } });
    expect(h.session.state.result.aadhaar.output).toEqual({ error: { type: 'ProviderRejected', message: 'ProviderRejected happened' } });
    // Reported once; the expiry timer is cancelled by the publication in the step and by the one after it.
    expect(h.log.slice(-4)).toEqual(['status consumed', 'event for consumed', 'cancel expiry', 'cancel expiry']);
  });

  it('keeps the stage on a failure the device can retry: nothing recorded, one step spent, a fresh nonce', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    h.ran.push(failure('ProviderResultPending'));
    const answer = await h.runner.submitStep(h.step(N2, 'aadhaar', {}, N3));
    expect(answer).toMatchObject({ step_id: 'aadhaar-2', nonce: N3, status: 'SESSION_IN_PROGRESS', data: { step: 'aadhaar', error: { type: 'ProviderResultPending' } } });
    expect(h.session.state).toMatchObject({ stage: 'aadhaar', stepCount: 2, nonce: N3 });
    expect(h.session.state.result.aadhaar).toBeUndefined();
    expect(h.session.state.lastStep?.answer).toBe(answer);
  });

  it('ends the session in error once retries spend the step budget', async () => {
    const h = harness(sampleDraft('kyc-basic'), { maxSteps: 2 });
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    h.ran.push(failure('ProviderSignatureInvalid'));
    const answer = await h.runner.submitStep(h.step(N2, 'aadhaar', {}, N3));
    expect(answer).toMatchObject({ nonce: null, status: 'SESSION_COMPLETED' });
    expect(h.session.state).toMatchObject({ status: 'consumed', outcome: 'error', endReason: 'the flow reached its limit of 2 steps' });
  });

  it('a wake-up fetches the result of the handshake the stage waits on, under its tag, and the step uses it without asking again', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    expect(await h.runner.attestrWake()).toBe('not_waiting');
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    const verified = { handshakeId: 'HS1', requestId: 'R1', result: { FS1: { input: {}, output: { name: 'Verified' } } } };
    h.fetched.push(verified);
    expect(await h.runner.attestrWake()).toBe('fetched');
    expect(h.fetches).toEqual(['HS1 DSsession0001.aadhaar.2']);
    // The result is there: later wake-ups cost nothing.
    expect(await h.runner.attestrWake()).toBe('not_waiting');
    await h.runner.submitStep(h.step(N2, 'aadhaar', {}, N3));
    expect(h.contexts[0]).toMatchObject({ delivered: verified });
    expect(h.fetches).toHaveLength(1);
  });

  it('wake-ups share a fetch running, and a stage entry makes at most MAX_WAKE_FETCHES', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    const first = deferred<AttestrDelivery | null>();
    h.fetched.push(first.promise);
    const running = h.runner.attestrWake();
    const storm = await Promise.all(Array.from({ length: 50 }, () => h.runner.attestrWake()));
    expect(new Set(storm)).toEqual(new Set(['coalesced']));
    first.resolve(null); // no result yet (or one that does not verify)
    // The first fetch and one more for the 50 that came meanwhile.
    expect(await running).toBe('fetched');
    expect(h.fetches).toHaveLength(2);
    for (let i = 0; i < 10; i += 1) await h.runner.attestrWake();
    expect(h.fetches).toHaveLength(MAX_WAKE_FETCHES);
    expect(await h.runner.attestrWake()).toBe('over_bound');
    expect(h.session.state).toMatchObject({ stage: 'aadhaar', delivered: null, attestrWakes: { entry: 2, fetches: MAX_WAKE_FETCHES } });
  });

  it("drops a wake-up's result when the stage moved on while it was fetched", async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    const late = deferred<AttestrDelivery | null>();
    h.fetched.push(late.promise);
    const waking = h.runner.attestrWake();
    await h.runner.submitStep(h.step(N2, 'aadhaar', {}, N3));
    late.resolve({ handshakeId: 'HS1', requestId: 'R1', result: {} });
    await waking;
    expect(h.session.state).toMatchObject({ stage: 'review', delivered: null }); // moved on (the fake result names nobody: review)
  });

  it('hands the provider the prepared handshake, and the result a wake-up fetched for it', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    h.fetched.push({ handshakeId: 'HS1', requestId: 'R1', result: { ok: true } });
    expect(await h.runner.attestrWake()).toBe('fetched');
    await h.runner.submitStep(h.step(N2, 'aadhaar', {}, N3));
    expect(h.contexts[0]).toMatchObject({
      prepared: { handshakeId: 'HS1' },
      idempotencyKey: 'DSsession0001.aadhaar.2',
      session: { ref: 'DSsession0001', tag: 'REF-1' },
      delivered: { handshakeId: 'HS1', requestId: 'R1' },
    });
  });

  it('is busy from acceptance to answer; an expiry meanwhile ends the session and the late provider answer changes nothing', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    const provider = deferred<StageOutcome>();
    h.ran.push(provider.promise);
    const pending = h.runner.submitStep(h.step(N2, 'aadhaar', {}, N3));
    expect(h.session.busy).toBe(true);
    expect(h.session.state.nonce).toBeNull();
    h.timers().expired();
    expect(h.session.state).toMatchObject({ status: 'expired', endReason: 'the expiry passed before the flow finished' });
    provider.resolve({ ok: true, output: { requestId: 'late' } });
    expect(await pending).toMatchObject({ step_id: 'aadhaar-2', nonce: null, status: 'SESSION_EXPIRED' });
    expect(h.session.state.result.aadhaar).toBeUndefined();
    expect(h.session.busy).toBe(false);
  });

  it('runs a stage timer only after the step in flight, and not at all when that step moved the flow', async () => {
    const h = harness(timed);
    await h.runner.launch({ nonceHash: N1 });
    // Hold the session as a step would, then fire the answer stage's timer.
    h.session.exclusive.take();
    const fired = h.runner.stageTimer('answer', 1, { event: 'xstate.after.60000.timed.answer', delayMs: 60000 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.session.state.stage).toBe('answer');
    h.session.exclusive.release();
    await fired;
    expect(h.session.state).toMatchObject({ status: 'consumed', stage: 'late', outcome: 'skipped' });
    expect(h.session.state.result.answer).toEqual({ input: {}, output: { timedOut: true, afterMs: 60000 } });

    const moved = harness(timed);
    await moved.runner.launch({ nonceHash: N1 });
    await moved.runner.submitStep(moved.step(N1, 'answer', {}, N2));
    await moved.runner.stageTimer('answer', 1, { event: 'xstate.after.60000.timed.answer', delayMs: 60000 });
    expect(moved.session.state).toMatchObject({ status: 'in_progress', stage: 'approval' });
    expect(moved.session.state.result.answer).toEqual({ input: {}, output: {} });
  });

  it('takes a backend event in a wait stage, records it and moves on', async () => {
    const h = harness(timed);
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'answer', {}, N2));
    const view = await h.runner.deliverEvent({ eventId: 'ev-1', type: 'approved', data: { by: 'ops' }, proof: 'proof' });
    expect(view).toMatchObject({ status: 'consumed', outcome: 'success' });
    expect(h.session.state.result.approval).toEqual({ input: { event: 'approved', eventId: 'ev-1' }, output: { by: 'ops' } });
  });

  it('refuses a backend event without the api proof: nothing recorded, the stage stays, the session is free again', async () => {
    const h = harness(timed);
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'answer', {}, N2));
    await expect(h.runner.deliverEvent({ eventId: 'ev-1', type: 'approved', data: { by: 'forger' }, proof: 'made up' })).rejects.toMatchObject({
      type: 'InboundRefused',
      message: 'deliverEvent refused: it carries no valid proof that it came through the api',
    });
    expect(h.session.state).toMatchObject({ status: 'in_progress', stage: 'approval' });
    expect(h.session.state.result.approval).toBeUndefined();
    expect(h.session.busy).toBe(false);
  });

  it('expires and archives on request, each reported once', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    h.log.length = 0;
    expect(h.runner.expire({ reason: 'ended by the device' })).toMatchObject({ status: 'expired', endReason: 'ended by the device' });
    h.runner.expired(); // the expiry timer firing later changes nothing
    expect(h.runner.archive()).toMatchObject({ status: 'archived' });
    expect(h.log).toEqual(['arm identity#1', 'status expired', 'event for expired', 'cancel expiry', 'status archived', 'event for archived', 'cancel expiry']);
    expect(h.session.state.result).toEqual({});
  });

  it('archives a consumed session when its retention passes, and changes nothing for a live or archived one', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    h.timers().retentionPassed(); // a live session is not archived
    expect(h.session.state.status).toBe('in_progress');
    h.runner.expire({ reason: 'ended by the device' });
    h.log.length = 0;
    h.timers().retentionPassed();
    expect(h.session.state).toMatchObject({ status: 'archived', result: {} });
    expect(h.log).toEqual(['status archived', 'event for archived', 'cancel expiry']);
    h.timers().retentionPassed();
    expect(h.log).toHaveLength(3);
  });

  it('lets the flow end in error when a prepared stage fails and its ERROR leads nowhere new', async () => {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    h.prepared.push(failure('ProviderUnavailable'));
    const answer = await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    expect(answer).toMatchObject({ status: 'SESSION_COMPLETED', data: { step: null, outcome: 'error' } });
    expect(h.session.state.result.aadhaar).toEqual({ input: {}, output: { error: { type: 'ProviderUnavailable', message: 'ProviderUnavailable happened' } } });
  });
});

describe('SessionRunner: a review stage', () => {
  const reviewed: FlowMachine = {
    id: 'reviewed',
    initial: 'details',
    states: {
      details: { meta: { stage: 'input', schema: { type: 'object' } }, on: { SUBMIT: 'check' } },
      check: { meta: { stage: 'review', reasons: ['doubt'], sla: '1s' }, on: { APPROVED: 'approved', REJECTED: 'rejected' } },
      approved: { type: 'final', meta: { outcome: 'success' } },
      rejected: { type: 'final', meta: { outcome: 'error' } },
    },
  } as FlowMachine;

  afterEach(() => jest.restoreAllMocks());

  it("an SLA that passes while a decision's proof is checked is not lost when the proof fails", async () => {
    const proof = deferred<boolean>();
    const h = harness(reviewed, { proveReview: () => proof.promise });
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'details', {}, N2));
    const { dueAt } = h.session.state.review!;
    const decision = h.runner.decideReview({ stage: 'check', entry: 2, decision: 'approve', operator: 'mallory', proof: 'forged' });
    // The timer fires while the review is held for the check: it finds the review taken.
    h.timers().reviewOverdue('check', 2);
    expect(h.session.state.review).toMatchObject({ overdue: false, decided: { operator: 'mallory' } });
    jest.spyOn(Date, 'now').mockReturnValue(dueAt! + 1);
    proof.resolve(false);
    await expect(decision).rejects.toMatchObject({ type: 'InboundRefused' });
    expect(h.session.state.review).toMatchObject({ overdue: true, decided: null });
    expect(h.log.filter((line) => line === 'emit session.review_overdue')).toHaveLength(1);
  });
});

describe('SessionRunner: ways back (a provider refusing the input, and BACK)', () => {
  const N4 = 'nonce-four-000004';
  const refused = (type: string, code: string): StageOutcome => ({ ok: false, error: { type, message: `${type} happened`, code } });
  /** kyc-basic's bank stage, reached after identity and Attestr. */
  async function atBank() {
    const h = harness(sampleDraft('kyc-basic'));
    await h.runner.launch({ nonceHash: N1 });
    await h.runner.submitStep(h.step(N1, 'identity', IDENTITY, N2));
    // The national ID's name matches the typed one: on to the bank, not to review.
    h.ran.push({ ok: true, output: { result: { aadhaar: { output: { name: IDENTITY.name } } } } });
    await h.runner.submitStep(h.step(N2, 'aadhaar', {}, N3));
    expect(h.session.state.stage).toBe('bank');
    return h;
  }
  const ACCOUNT = { accountNumber: '000000000000', ifsc: 'HDFC0001234' };

  it('routes a refusal the stage lists back to its form: a new entry, the error at the field for that visit only, the session live', async () => {
    const h = await atBank();
    h.ran.push(refused('ProviderRejected', 'account_not_found'));
    const answer = await h.runner.submitStep(h.step(N3, 'bank', ACCOUNT, N4));
    expect(answer).toMatchObject({ nonce: N4, status: 'SESSION_IN_PROGRESS', data: { step: 'bank', inputError: { field: 'accountNumber', code: 'account_not_found' } } });
    expect(answer.data.inputError?.text).toBe(sampleDraft('kyc-basic').states.bank.meta && (sampleDraft('kyc-basic').states.bank.meta as { providerErrors: Record<string, string> }).providerErrors.account_not_found);
    expect(Object.keys(answer.data.inputError?.translations ?? {})).toEqual(['hi']);
    expect(h.session.state).toMatchObject({ stage: 'bank', entry: 4, stepCount: 3, inputError: { entry: 4, from: 'bank', code: 'account_not_found', field: 'accountNumber' } });
    // The corrected account goes through: the error goes with the visit it was shown on.
    const done = await h.runner.submitStep(h.step(N4, 'bank', { ...ACCOUNT, accountNumber: '123456789012' }, 'nonce-five-000005'));
    expect(done).toMatchObject({ status: 'SESSION_COMPLETED', data: { step: null, outcome: 'success' } });
    expect(h.contexts.map((context) => context.idempotencyKey)).toEqual(['DSsession0001.aadhaar.2', 'DSsession0001.bank.3', 'DSsession0001.bank.4']);
  });

  it('keeps ERROR for an outage with the same code, and for a refusal the stage does not list', async () => {
    for (const outcome of [refused('ProviderUnavailable', 'account_not_found'), refused('ProviderRejected', 'invalid_client_id')]) {
      const h = await atBank();
      h.ran.push(outcome);
      const answer = await h.runner.submitStep(h.step(N3, 'bank', ACCOUNT, N4));
      expect(answer).toMatchObject({ status: 'SESSION_COMPLETED', data: { step: null, outcome: 'error' } });
      expect(h.session.state.inputError).toBeUndefined();
    }
  });

  it('BACK moves to the earlier form with a fresh nonce, records nothing, counts a step, and is answered once per nonce', async () => {
    const h = harness(TWO_FORMS);
    await h.runner.launch({ nonceHash: N1 });
    const contact = await h.runner.submitStep(h.step(N1, 'name', { name: 'A' }, N2));
    expect(contact.data).toMatchObject({ step: 'contact', back: true });
    const back = { ...h.step(N2, 'contact', {}, N3), event: 'BACK' as const };
    new SessionValidators(h.session).checkStep(back);
    const answer = await h.runner.submitStep(back);
    expect(answer).toMatchObject({ nonce: N3, data: { step: 'name' } });
    expect(answer.data).not.toHaveProperty('back');
    expect(h.session.state).toMatchObject({ stage: 'name', stepCount: 2, result: { name: { input: { name: 'A' }, output: {} } } });
    expect(h.session.state.result).not.toHaveProperty('contact');
    // The same BACK again gets the same answer; a SUBMIT with that nonce is not taken as its repeat.
    expect(await h.runner.submitStep(back)).toBe(answer);
    expect(h.session.isRetryOfLastStep(h.step(N2, 'contact', {}, N3))).toBe(false);
  });

  it('refuses BACK where the stage has no way back, and a BACK carrying data', async () => {
    const h = harness(TWO_FORMS);
    await h.runner.launch({ nonceHash: N1 });
    const validators = new SessionValidators(h.session);
    expect(() => validators.checkStep({ ...h.step(N1, 'name', {}, N2), event: 'BACK' })).toThrow('step "name" has no way back');
    await h.runner.submitStep(h.step(N1, 'name', { name: 'A' }, N2));
    expect(() => validators.checkStep({ ...h.step(N2, 'contact', { email: 'x' }, N3), event: 'BACK' })).toThrow('a BACK step carries no data: send "data": {}');
    expect(() => validators.checkStep({ ...h.step(N2, 'contact', {}, N3), event: 'NEXT' as never })).toThrow("a step's event is SUBMIT (the default) or BACK");
  });
});
