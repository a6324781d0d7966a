import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { FlowPosition } from '../../src/flows/core/engine';
import type { FlowMachine, StageMeta } from '../../src/flows/core/types';
import { nonceHash } from '../../src/session-secret';
import { MAX_REFUSED_PROOFS, REFUSALS, type InputProblems, type StepArgs } from '../../src/contract/session';
import type { SessionInput } from '../../src/contract/session-state';
import { initialState, SessionModel } from '../../src/workflows/session/model';
import { nextNonceOf } from '../../src/workflows/session/nonces';
import { proofHash } from '../../src/workflows/session/proof';
import { SessionValidators } from '../../src/workflows/session/validators';
import { currentDetails, holdsNonceHash, resultView, statusView } from '../../src/workflows/session/views';
import { DISTINCTIVE, sampleDraft, sessionInputOf } from './fixtures';

const kyc = sampleDraft('kyc-basic');
const CREATED_AT = 1_700_000_000_000;
const EXPIRES_AT = CREATED_AT + 24 * 3600 * 1000;
const LAUNCHED_AT = CREATED_AT + 1000;

// Nonces are at least 16 characters.
const N1 = 'nonce-one-0000001';
const N2 = 'nonce-two-0000002';
const N3 = 'nonce-three-00003';

const IDENTITY = { name: DISTINCTIVE, birthDate: '29-02-1996' };
/** These sessions' inputs carry no seal: the result view reports the input's digest and no seal. */
const UNSEALED = { inputDigest: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), seal: null };
const BANK = { accountNumber: '987654321012', ifsc: 'HDFC0001234' };

function sessionInput(machine: FlowMachine = kyc): SessionInput {
  return { ...sessionInputOf(machine, CREATED_AT), definition: { flowId: 'kyc-basic', snapshotId: null, maxSteps: 50, machine }, expiresAt: EXPIRES_AT };
}

const at = (state: string): FlowPosition => ({ state, done: false, outcome: null, timers: [] });
const finalAt = (state: string, outcome: 'success' | 'error' | 'skipped'): FlowPosition => ({ state, done: true, outcome, timers: [] });

function launched(machine?: FlowMachine): SessionModel {
  const model = new SessionModel(sessionInput(machine));
  model.launch({ nonceHash: N1 }, LAUNCHED_AT);
  return model;
}

/** A launched kyc session whose identity step (nonce N1) was accepted, as the workflow records it. */
function afterIdentity(): SessionModel {
  const model = launched();
  model.record('identity', IDENTITY, {});
  model.state.stepCount += 1;
  model.enter(at('aadhaar'), LAUNCHED_AT + 10);
  model.state.nonce = N2;
  model.state.lastStep = { nonce: N1, step: 'identity', input: IDENTITY, answer: model.stepAnswer('identity-1') };
  return model;
}

/** A kyc session that ran to its success final. */
function consumed(): SessionModel {
  const model = afterIdentity();
  model.record('aadhaar', {}, { aadhaarVerified: true, fullName: DISTINCTIVE });
  model.enter(at('bank'), LAUNCHED_AT + 20);
  model.record('bank', BANK, { accountHolder: DISTINCTIVE });
  model.state.stepCount += 1;
  model.enter(finalAt('verified', 'success'), LAUNCHED_AT + 30);
  return model;
}

/** Runs `act`, expects a refusal of `type`, and checks that the model did not change. */
function refusal(model: SessionModel, type: string, act: () => unknown): ApplicationFailure {
  const before = structuredClone(model.state);
  const busyBefore = model.busy;
  let caught: unknown;
  try {
    act();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ApplicationFailure);
  const failure = caught as ApplicationFailure;
  expect(failure.type).toBe(type);
  expect(failure.nonRetryable).toBe(true);
  expect(model.state).toEqual(before);
  expect(model.busy).toBe(busyBefore);
  return failure;
}

/** The update validators over `model`, as the workflow wires them. */
const validate = (model: SessionModel) => new SessionValidators(model);

const step = (overrides: Partial<StepArgs> = {}): StepArgs => ({ nonceHash: N1, step: 'identity', input: IDENTITY, nextNonceHash: N2, ...overrides });

describe('initialState', () => {
  it('starts created, at the flow\'s initial stage, with nothing recorded', () => {
    expect(initialState(sessionInput())).toEqual({
      status: 'created',
      stage: 'identity',
      entry: 1,
      enteredAt: CREATED_AT,
      nonce: null,
      prepared: null,
      result: {},
      outcome: null,
      endReason: null,
      stepCount: 0,
      launchedAt: null,
      endedAt: null,
      archivedAt: null,
      lastStep: null,
      // The funnel's journey starts at the first stage, when the session was created.
      journey: [{ stage: 'identity', at: CREATED_AT, steps: 0 }],
    });
  });

  it('is used unless the input carries a state (continue-as-new)', () => {
    const carried = { ...initialState(sessionInput()), status: 'in_progress' as const, stage: 'bank', stepCount: 4 };
    const model = new SessionModel({ ...sessionInput(), state: carried });
    expect(model.state).toBe(carried);
    expect(new SessionModel(sessionInput()).state.status).toBe('created');
  });
});

describe('SessionValidators.checkLaunch', () => {
  it('accepts a created session with a 16-character nonce and changes nothing', () => {
    const model = new SessionModel(sessionInput());
    const before = structuredClone(model.state);
    expect(() => validate(model).checkLaunch({ nonceHash: 'x'.repeat(16) })).not.toThrow();
    expect(model.state).toEqual(before);
  });

  it('refuses a session that is not created', () => {
    const live = launched();
    const failure = refusal(live, REFUSALS.WRONG_STATUS, () => validate(live).checkLaunch({ nonceHash: N2 }));
    expect(failure.details).toEqual([{ status: 'in_progress' }]);
    const model = consumed();
    expect(refusal(model, REFUSALS.WRONG_STATUS, () => validate(model).checkLaunch({ nonceHash: N2 })).details).toEqual([{ status: 'consumed' }]);
  });

  it('refuses a missing or short nonce', () => {
    const model = new SessionModel(sessionInput());
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkLaunch({ nonceHash: 'x'.repeat(15) }));
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkLaunch({} as never));
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkLaunch(undefined as never));
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkLaunch({ nonceHash: 1234567890123456 } as never));
  });
});

describe('SessionValidators.checkResume, and SessionModel.resume', () => {
  const DEVICE = 'dc_device-one';
  function bound(): SessionModel {
    const model = new SessionModel(sessionInput());
    model.launch({ nonceHash: N1, deviceClientId: DEVICE }, LAUNCHED_AT);
    return model;
  }

  it('gives the device that launched the session a fresh nonce for the stage it is at, and nothing else', () => {
    const model = bound();
    expect(() => validate(model).checkResume({ nonceHash: N2, deviceClientId: DEVICE })).not.toThrow();
    const before = structuredClone(model.state);
    model.resume({ nonceHash: N2, deviceClientId: DEVICE });
    expect(model.state).toEqual({ ...before, nonce: N2, nonceHashed: true });
    expect(holdsNonceHash(model, N1)).toBe(false);
    expect(holdsNonceHash(model, N2)).toBe(true);
  });

  it('refuses another device, a session launched without a device, and a bad nonce', () => {
    const model = bound();
    refusal(model, REFUSALS.WRONG_CLIENT, () => validate(model).checkResume({ nonceHash: N2, deviceClientId: 'dc_someone-else' }));
    const unbound = launched();
    refusal(unbound, REFUSALS.WRONG_CLIENT, () => validate(unbound).checkResume({ nonceHash: N2, deviceClientId: DEVICE }));
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkResume({ nonceHash: 'short', deviceClientId: DEVICE }));
  });

  it('refuses while a step runs, and once the session ended', () => {
    const model = bound();
    model.exclusive.take();
    refusal(model, REFUSALS.BUSY, () => validate(model).checkResume({ nonceHash: N2, deviceClientId: DEVICE }));
    model.exclusive.release();
    model.end('expired', 'test', LAUNCHED_AT + 5);
    refusal(model, REFUSALS.WRONG_STATUS, () => validate(model).checkResume({ nonceHash: N2, deviceClientId: DEVICE }));
  });
});

describe('SessionValidators.checkStep', () => {
  it('accepts the expected step and changes nothing', () => {
    const model = launched();
    const before = structuredClone(model.state);
    expect(() => validate(model).checkStep(step())).not.toThrow();
    expect(model.isRetryOfLastStep(step())).toBe(false);
    expect(model.state).toEqual(before);
  });

  it('accepts a provider stage step with its own schema', () => {
    const model = afterIdentity();
    expect(() => validate(model).checkStep({ nonceHash: N2, step: 'aadhaar', input: {}, nextNonceHash: N3 })).not.toThrow();
    expect(model.isRetryOfLastStep({ nonceHash: N2, step: 'aadhaar', input: {}, nextNonceHash: N3 })).toBe(false);
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkStep({ nonceHash: N2, step: 'aadhaar', input: { x: 1 }, nextNonceHash: N3 }));
  });

  it('refuses a session that is not in progress', () => {
    const created = new SessionModel(sessionInput());
    expect(refusal(created, REFUSALS.WRONG_STATUS, () => validate(created).checkStep(step())).details).toEqual([{ status: 'created' }]);
    const done = consumed();
    refusal(done, REFUSALS.WRONG_STATUS, () => validate(done).checkStep({ nonceHash: N2, step: 'bank', input: BANK, nextNonceHash: N3 }));
  });

  it('refuses while the previous step is running', () => {
    const model = launched();
    model.exclusive.take();
    refusal(model, REFUSALS.BUSY, () => validate(model).checkStep(step()));
  });

  it('refuses a wrong or missing nonce', () => {
    const model = launched();
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep(step({ nonceHash: N2, nextNonceHash: N3 })));
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep(step({ nonceHash: undefined as never })));
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep(undefined as never));
  });

  it('compares hashes only: the nonce itself, even one equal to the expected hash, is refused', () => {
    const model = launched();
    expect(model.state).toMatchObject({ nonce: N1, nonceHashed: true });
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep(step({ nonceHash: undefined as never, nonce: N1 })));
  });

  it('a session from before, still holding a nonce itself, takes that nonce and then keeps a hash', () => {
    const model = new SessionModel(sessionInput());
    model.launch({ nonce: N1 } as never, LAUNCHED_AT); // as recorded histories launched
    expect(model.state).toMatchObject({ nonce: N1, nonceHashed: false });
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep(step({ nonceHash: N1 })));
    expect(() => validate(model).checkStep(step({ nonceHash: 'hash-of-the-nonce-1', nonce: N1 }))).not.toThrow();
    model.expectNonce(nextNonceOf(step()));
    expect(model.state).toMatchObject({ nonce: N2, nonceHashed: true });
  });

  it('refuses any nonce when none is expected', () => {
    const model = launched();
    model.state.nonce = null;
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep(step()));
  });

  it('refuses a next nonce that is short or not fresh', () => {
    const model = launched();
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkStep(step({ nextNonceHash: 'short' })));
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkStep(step({ nextNonceHash: N1 })));
  });

  it('refuses the wrong step, naming the expected one', () => {
    const model = launched();
    const failure = refusal(model, REFUSALS.WRONG_STEP, () => validate(model).checkStep(step({ step: 'bank', input: BANK })));
    expect(failure.details).toEqual([{ expected: 'identity' }]);
    expect(failure.message).toContain('identity');
  });

  it('refuses invalid input and lists the schema problems, without the submitted values', () => {
    const model = launched();
    const failure = refusal(model, REFUSALS.INVALID_INPUT, () =>
      validate(model).checkStep(step({ input: { name: '', birthDate: DISTINCTIVE, nickname: DISTINCTIVE } })),
    );
    const [details] = failure.details as [InputProblems];
    expect(details.problems).toEqual([
      { path: '/name', code: 'minLength', params: { limit: 1 } },
      { path: '/birthDate', code: 'format', params: { format: 'date' } },
      { path: '/nickname', code: 'additionalProperties' },
    ]);
    // The stage's wording comes along for the api; the problems themselves hold no language.
    expect(details.schema).toEqual(kyc.states.identity.meta && (kyc.states.identity.meta as StageMeta).schema);
    expect(details.fields).toEqual((kyc.states.identity.meta as StageMeta).fields);
    expect(failure.message).toBe('the input of step "identity" is invalid: /name minLength, /birthDate format, /nickname additionalProperties');
    expect(failure.message).not.toContain('Zebediah');
    expect(JSON.stringify(failure.details)).not.toContain('Zebediah');
  });

  it("refuses 31-02-1990, and bounds an age by the workflow's time it is given", () => {
    const model = launched();
    const at2026 = new SessionValidators(model, () => Date.UTC(2026, 11, 6, 12));
    const codes = (input: unknown) => (refusal(model, REFUSALS.INVALID_INPUT, () => at2026.checkStep(step({ input }))).details as [InputProblems])[0].problems.map((p) => p.code);
    expect(codes({ name: 'A', birthDate: '31-02-1990' })).toEqual(['format']);
    expect(codes({ name: 'A', birthDate: '07-12-2008' })).toEqual(['minAge']);
    expect(() => at2026.checkStep(step({ input: { name: 'A', birthDate: '06-12-2008' } }))).not.toThrow();
    // The same date a day earlier in the workflow's time is under age.
    expect(() => new SessionValidators(model, () => Date.UTC(2026, 11, 5, 12)).checkStep(step({ input: { name: 'A', birthDate: '06-12-2008' } }))).toThrow();
  });

  it('refuses input missing required fields, and input that is not an object', () => {
    const model = launched();
    const missing = refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkStep(step({ input: {} })));
    expect((missing.details as [{ problems: Array<{ path: string }> }])[0].problems.map((p) => p.path)).toEqual(['/name', '/birthDate']);
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkStep(step({ input: DISTINCTIVE })));
    refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkStep(step({ input: undefined })));
  });

  it('refuses schema-valid input that no transition takes', () => {
    const picky: FlowMachine = {
      id: 'picky',
      initial: 'ask',
      states: {
        ask: {
          meta: { stage: 'input', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } },
          on: { SUBMIT: { target: 'end', guard: { type: 'equals', params: { path: 'input.ok', value: true } } } },
        },
        end: { type: 'final', meta: { outcome: 'success' } },
      },
    };
    const model = launched(picky);
    expect(() => validate(model).checkStep({ nonceHash: N1, step: 'ask', input: { ok: true }, nextNonceHash: N2 })).not.toThrow();
    expect(model.isRetryOfLastStep({ nonceHash: N1, step: 'ask', input: { ok: true }, nextNonceHash: N2 })).toBe(false);
    const failure = refusal(model, REFUSALS.INVALID_INPUT, () => validate(model).checkStep({ nonceHash: N1, step: 'ask', input: { ok: false }, nextNonceHash: N2 }));
    expect(failure.message).toContain('no transition');
  });

  it('accepts input that loops back to the same stage', () => {
    const again: FlowMachine = {
      id: 'again',
      initial: 'ask',
      states: {
        ask: {
          meta: { stage: 'input', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } },
          on: { SUBMIT: [{ target: 'end', guard: { type: 'equals', params: { path: 'input.ok', value: true } } }, 'ask'] },
        },
        end: { type: 'final', meta: { outcome: 'success' } },
      },
    };
    const model = launched(again);
    const before = structuredClone(model.state);
    expect(() => validate(model).checkStep({ nonceHash: N1, step: 'ask', input: { ok: false }, nextNonceHash: N2 })).not.toThrow();
    expect(model.isRetryOfLastStep({ nonceHash: N1, step: 'ask', input: { ok: false }, nextNonceHash: N2 })).toBe(false);
    expect(model.state).toEqual(before);
  });

  it('refuses device steps while a wait stage waits for the backend', () => {
    const waiting: FlowMachine = {
      id: 'waiting',
      initial: 'hold',
      states: {
        hold: { meta: { stage: 'wait' }, on: { EVENT: 'end' } },
        end: { type: 'final', meta: { outcome: 'success' } },
      },
    };
    const model = launched(waiting);
    const failure = refusal(model, REFUSALS.WRONG_STEP, () => validate(model).checkStep({ nonceHash: N1, step: 'hold', input: {}, nextNonceHash: N2 }));
    expect(failure.details).toEqual([{ expected: null }]);
  });

  it('recognises an identical retry of the last accepted step', () => {
    const model = afterIdentity();
    const before = structuredClone(model.state);
    expect(() => validate(model).checkStep({ nonceHash: N1, step: 'identity', input: structuredClone(IDENTITY), nextNonceHash: N2 })).not.toThrow();
    expect(model.isRetryOfLastStep({ nonceHash: N1, step: 'identity', input: structuredClone(IDENTITY), nextNonceHash: N2 })).toBe(true);
    expect(model.state).toEqual(before);
  });

  it('recognises the identical retry even while busy or after the flow ended', () => {
    const busy = afterIdentity();
    busy.exclusive.take();
    expect(() => validate(busy).checkStep({ nonceHash: N1, step: 'identity', input: IDENTITY, nextNonceHash: N2 })).not.toThrow();
    expect(busy.isRetryOfLastStep({ nonceHash: N1, step: 'identity', input: IDENTITY, nextNonceHash: N2 })).toBe(true);
    const done = consumed();
    expect(() => validate(done).checkStep({ nonceHash: N1, step: 'identity', input: IDENTITY, nextNonceHash: N2 })).not.toThrow();
    expect(done.isRetryOfLastStep({ nonceHash: N1, step: 'identity', input: IDENTITY, nextNonceHash: N2 })).toBe(true);
  });

  it('refuses the spent nonce with another payload or another step', () => {
    const model = afterIdentity();
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep({ nonceHash: N1, step: 'identity', input: { ...IDENTITY, name: 'B' }, nextNonceHash: N3 }));
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep({ nonceHash: N1, step: 'aadhaar', input: IDENTITY, nextNonceHash: N3 }));
  });
});

describe('SessionValidators.checkArchive and checkExpire', () => {
  it('archives only consumed or expired sessions', () => {
    const created = new SessionModel(sessionInput());
    refusal(created, REFUSALS.WRONG_STATUS, () => validate(created).checkArchive());
    const live = launched();
    refusal(live, REFUSALS.WRONG_STATUS, () => validate(live).checkArchive());
    expect(() => validate(consumed()).checkArchive()).not.toThrow();
    const expired = launched();
    expired.end('expired', 'ended by the device', LAUNCHED_AT + 5);
    expect(() => validate(expired).checkArchive()).not.toThrow();
    expired.archive(LAUNCHED_AT + 6);
    refusal(expired, REFUSALS.WRONG_STATUS, () => validate(expired).checkArchive());
  });

  it('expires only live sessions, and needs a reason', () => {
    expect(() => validate(new SessionModel(sessionInput())).checkExpire({ reason: 'r' })).not.toThrow();
    expect(() => validate(launched()).checkExpire({ reason: 'r' })).not.toThrow();
    const done = consumed();
    refusal(done, REFUSALS.WRONG_STATUS, () => validate(done).checkExpire({ reason: 'r' }));
    const live = launched();
    refusal(live, REFUSALS.INVALID_INPUT, () => validate(live).checkExpire({ reason: '' }));
  });
});

describe('SessionModel and its views', () => {
  // Read from the flow file itself, not through the engine.
  const identitySchema = (kyc.states.identity.meta as StageMeta).schema;

  it('created: no result, the first step is prompted', () => {
    const model = new SessionModel(sessionInput());
    expect(statusView(model)).toEqual({
      number: '3897-518104-8640',
      tag: 'REF-42',
      clientId: 'client-1',
      flowId: 'kyc-basic',
      snapshotId: null,
      status: 'created',
      consumed: false,
      createdAt: CREATED_AT,
      expiry: EXPIRES_AT,
      archived: null,
      stage: 'identity',
      stepCount: 0,
      outcome: null,
      endReason: null,
      deviceClientId: null,
    });
    expect(resultView(model)).toEqual({ status: 'created', outcome: null, result: null, archived: null, ...UNSEALED });
    expect(model.prompt()).toEqual({
      step: 'identity',
      kind: 'input',
      title: 'Your name and date of birth',
      description: 'As they appear on your identity document.',
      schema: identitySchema,
      fields: (kyc.states.identity.meta as StageMeta).fields,
      // The flow's own translations go along for the api; no language is chosen here.
      translations: (kyc.states.identity.meta as StageMeta).translations,
    });
    expect(currentDetails(model)).toContain('created');
    expect(currentDetails(model)).toContain('identity');
  });

  it('in progress: consumed is true, the result is still hidden, prepared data reaches the prompt', () => {
    const model = afterIdentity();
    model.state.prepared = { handshakeId: 'hs_123' };
    expect(statusView(model)).toMatchObject({ status: 'in_progress', consumed: true, stage: 'aadhaar', stepCount: 1, outcome: null });
    expect(resultView(model)).toEqual({ status: 'in_progress', outcome: null, result: null, archived: null, ...UNSEALED });
    expect(model.prompt()).toEqual({
      step: 'aadhaar',
      kind: 'provider',
      title: 'Verify your Aadhaar with Attestr',
      description: 'Attestr checks your Aadhaar. You finish that part with Attestr, then come back here.',
      schema: { type: 'object', additionalProperties: false },
      providerErrors: (kyc.states.aadhaar.meta as StageMeta).providerErrors,
      translations: (kyc.states.aadhaar.meta as StageMeta).translations,
      handshakeId: 'hs_123',
    });
    expect(model.stepAnswer('aadhaar-2')).toEqual({ step_id: 'aadhaar-2', nonce: N2, status: 'SESSION_IN_PROGRESS', data: model.prompt() });
    expect(currentDetails(model)).toContain('in_progress');
    expect(currentDetails(model)).toContain('aadhaar');
    expect(currentDetails(model)).toContain('provider');
  });

  it('consumed: the result and outcome are shown, no step is prompted', () => {
    const model = consumed();
    expect(model.state).toMatchObject({ status: 'consumed', outcome: 'success', nonce: null, prepared: null, endedAt: LAUNCHED_AT + 30 });
    expect(statusView(model)).toMatchObject({ status: 'consumed', consumed: true, stage: null, stepCount: 2, outcome: 'success', archived: null });
    expect(resultView(model)).toEqual({
      status: 'consumed',
      outcome: 'success',
      result: {
        identity: { input: IDENTITY, output: {} },
        aadhaar: { input: {}, output: { aadhaarVerified: true, fullName: DISTINCTIVE } },
        bank: { input: BANK, output: { accountHolder: DISTINCTIVE } },
      },
      archived: null,
      ...UNSEALED,
    });
    expect(Object.keys(resultView(model).result ?? {})).toEqual(['identity', 'aadhaar', 'bank']);
    expect(model.prompt()).toEqual({ step: null, outcome: 'success' });
    expect(model.stepAnswer('bank-2')).toMatchObject({ nonce: null, status: 'SESSION_COMPLETED' });
    expect(currentDetails(model)).toContain('consumed');
    expect(currentDetails(model)).toContain('success');
  });

  it('expired: the partial result is shown, no step is prompted', () => {
    const model = afterIdentity();
    model.end('expired', 'the expiry passed before the flow finished', EXPIRES_AT);
    expect(model.isLive).toBe(false);
    expect(statusView(model)).toMatchObject({ status: 'expired', stage: null, endReason: 'the expiry passed before the flow finished' });
    expect(resultView(model)).toEqual({ status: 'expired', outcome: null, result: { identity: { input: IDENTITY, output: {} } }, archived: null, ...UNSEALED });
    expect(model.prompt()).toEqual({ step: null });
  });

  it('archived: result purged, archive time shown', () => {
    const model = consumed();
    const archivedAt = LAUNCHED_AT + 99;
    model.archive(archivedAt);
    expect(model.state.result).toEqual({});
    expect(model.state.lastStep).toBeNull();
    expect(resultView(model)).toEqual({ status: 'archived', outcome: 'success', result: null, archived: archivedAt, ...UNSEALED });
    expect(statusView(model)).toMatchObject({ status: 'archived', archived: archivedAt, stage: null, consumed: true });
    expect(model.prompt()).toEqual({ step: null, outcome: 'success' });
    expect(model.stepAnswer('x')).toMatchObject({ status: 'SESSION_ARCHIVED' });
    expect(JSON.stringify(model.state)).not.toContain('Zebediah');
  });

  it('details never contain input or output values', () => {
    const models = [new SessionModel(sessionInput()), launched(), afterIdentity(), consumed()];
    const archived = consumed();
    archived.archive(LAUNCHED_AT + 100);
    models.push(archived);
    for (const model of models) {
      const details = currentDetails(model);
      expect(details).not.toContain('Zebediah');
      expect(details).not.toContain(BANK.accountNumber);
      expect(details).not.toContain(BANK.ifsc);
      expect(details).not.toContain('29-02-1996');
    }
  });

  it('enter moves the stage, counts the entry and clears prepared data', () => {
    const model = launched();
    model.state.prepared = { handshakeId: 'hs_1' };
    model.enter(at('aadhaar'), LAUNCHED_AT + 50);
    expect(model.state).toMatchObject({ stage: 'aadhaar', entry: 2, enteredAt: LAUNCHED_AT + 50, prepared: null, status: 'in_progress' });
    model.enter(finalAt('failed', 'error'), LAUNCHED_AT + 60);
    expect(model.state).toMatchObject({ stage: 'failed', entry: 3, status: 'consumed', outcome: 'error', endedAt: LAUNCHED_AT + 60 });
  });
});

describe('sessions with proofs (docs/security/device-binding.md)', () => {
  const LAUNCH_PROOF = 'the-launch-proof-only-the-api-makes';
  const NONCE = 'the-first-nonce-0001';
  const NEXT = 'the-next-nonce-00002';
  const hash = (value: string) => createHash('sha256').update(value).digest('base64url');
  const provingInput = (): SessionInput => ({ ...sessionInput(sampleDraft('consent-only')), launchProofHash: hash(LAUNCH_PROOF) });
  const launchArgs = (launchProof: string) => ({ nonceHash: hash(NONCE), launchProof, nonceSource: 'launch-1' });
  const stepArgs = (nonce: string): StepArgs => ({ nonce, nonceHash: hash(nonce), step: 'consent', input: { accepted: true }, nextNonceHash: hash(NEXT), nextNonceSource: 'step-1' });

  function launchedWithProof(): SessionModel {
    const model = new SessionModel(provingInput());
    validate(model).checkLaunch(launchArgs(LAUNCH_PROOF));
    model.refuseFailedLaunchProof(launchArgs(LAUNCH_PROOF));
    model.launch(launchArgs(LAUNCH_PROOF), LAUNCHED_AT);
    return model;
  }

  test("the workflow's hash of a proof is the api's nonceHash", () => {
    expect(proofHash(LAUNCH_PROOF)).toBe(nonceHash(LAUNCH_PROOF));
    expect(proofHash('ünïcode')).toBe(nonceHash('ünïcode'));
  });

  test('the launch proof launches; the pick-up names where the current nonce comes from', () => {
    const model = launchedWithProof();
    expect(model.state).toMatchObject({ status: 'in_progress', nonce: hash(NONCE), nonceSource: 'launch-1' });
    expect(statusView(model).pickUp).toEqual({ nonceSource: 'launch-1', prompt: expect.objectContaining({ step: 'consent' }) });
  });

  test('a launch with a hash or a preimage of its own passes the validator, then the handler refuses it and counts it', () => {
    const model = new SessionModel(provingInput());
    for (const forged of ['attackers-own-preimage', hash(LAUNCH_PROOF)]) {
      expect(() => validate(model).checkLaunch(launchArgs(forged))).not.toThrow();
      expect(() => model.refuseFailedLaunchProof(launchArgs(forged))).toThrow(expect.objectContaining({ type: REFUSALS.INVALID_PROOF }));
    }
    expect(model.state).toMatchObject({ status: 'created', nonce: null, refusedProofs: 2 });
  });

  test('a step needs the preimage of the nonce hash the session keeps; a hash of it does not do', () => {
    const model = launchedWithProof();
    const forged = { ...stepArgs('attackers-own-nonce-01'), nonceHash: hash(NONCE) };
    expect(() => validate(model).checkStep(forged)).not.toThrow();
    expect(() => model.refuseFailedStepProof(forged)).toThrow(expect.objectContaining({ type: REFUSALS.INVALID_NONCE }));
    expect(model.state.refusedProofs).toBe(1);
    validate(model).checkStep(stepArgs(NONCE));
    expect(() => model.refuseFailedStepProof(stepArgs(NONCE))).not.toThrow();
  });

  test(`past ${MAX_REFUSED_PROOFS} refused proofs the validators refuse failed ones outright, and good ones still pass`, () => {
    const model = launchedWithProof();
    model.state.refusedProofs = MAX_REFUSED_PROOFS;
    refusal(model, REFUSALS.INVALID_NONCE, () => validate(model).checkStep(stepArgs('attackers-own-nonce-01')));
    expect(() => validate(model).checkStep(stepArgs(NONCE))).not.toThrow();
    model.state.deviceClientId = 'dc_x';
    refusal(model, REFUSALS.INVALID_PROOF, () => validate(model).checkResume({ nonceHash: hash('attackers-own-nonce-02'), deviceClientId: 'dc_x' }));
  });

  test('a resume can prove nothing: it is a failed proof; without proofs (sessions from before) it resumes as it did', () => {
    const model = launchedWithProof();
    model.state.deviceClientId = 'dc_x';
    const args = { nonceHash: hash('attackers-own-nonce-02'), deviceClientId: 'dc_x' };
    expect(() => validate(model).checkResume(args)).not.toThrow();
    expect(() => model.refuseResume()).toThrow(expect.objectContaining({ type: REFUSALS.INVALID_PROOF }));
    const old = new SessionModel(sessionInput());
    old.launch({ nonceHash: N1, deviceClientId: 'dc_x' }, LAUNCHED_AT);
    expect(() => validate(old).checkResume(args)).not.toThrow();
    expect(() => old.refuseResume()).not.toThrow();
    expect(statusView(old).pickUp).toBeUndefined();
  });

  test('while a step runs there is nothing to pick up', () => {
    const model = launchedWithProof();
    model.exclusive.take();
    expect(statusView(model).pickUp?.nonceSource).toBeNull();
  });
});
