import { advanceFlow, CompiledFlow, GUARDS, stageInfo, startFlow, timersOf } from '../../src/flows/core/engine';
import type { FlowMachine } from '../../src/flows/core/types';
import { sampleDraft } from './fixtures';

const consent = sampleDraft('consent-only');
const kyc = sampleDraft('kyc-basic');

/** An input stage that routes on guards, a wait stage with two delays, and two finals. */
const inline: FlowMachine = {
  id: 'inline',
  initial: 'ask',
  states: {
    ask: {
      meta: { stage: 'input', schema: { type: 'object' } },
      on: {
        SUBMIT: [
          { target: 'good', guard: { type: 'equals', params: { path: 'input.choice', value: 'a' } } },
          { target: 'hold', guard: { type: 'exists', params: { path: 'input.later' } } },
        ],
      },
    },
    hold: {
      meta: { stage: 'wait', title: 'Waiting for the bank' },
      on: { EVENT: 'good' },
      after: { '60000': 'bad', '1000': 'hold2' },
    },
    hold2: { meta: { stage: 'provider', provider: 'finqware' }, on: { DONE: 'good', ERROR: 'bad' } },
    good: { type: 'final', meta: { outcome: 'success' } },
    bad: { type: 'final', meta: { outcome: 'error' } },
  },
};

describe('startFlow', () => {
  it('starts the sample flows at their initial stage', () => {
    expect(startFlow(consent)).toEqual({ state: 'consent', done: false, outcome: null, timers: [] });
    expect(startFlow(kyc)).toEqual({ state: 'identity', done: false, outcome: null, timers: [] });
  });

  it('follows the machine\'s initial, not the first state listed', () => {
    expect(startFlow({ ...inline, initial: 'hold' }).state).toBe('hold');
  });

  it('reports the timers of the initial state', () => {
    expect(startFlow({ ...inline, initial: 'hold' }).timers).toEqual(
      expect.arrayContaining([
        { event: 'xstate.after.60000.inline.hold', delayMs: 60000 },
        { event: 'xstate.after.1000.inline.hold', delayMs: 1000 },
      ]),
    );
  });
});

describe('advanceFlow on the sample flows', () => {
  it('routes consent by the equals guard: accepted ends in success', () => {
    expect(advanceFlow(consent, 'consent', { type: 'SUBMIT', input: { accepted: true } })).toEqual({
      state: 'accepted',
      done: true,
      outcome: 'success',
      timers: [],
    });
  });

  it('routes consent by the equals guard: declined ends in skipped', () => {
    expect(advanceFlow(consent, 'consent', { type: 'SUBMIT', input: { accepted: false } })).toEqual({
      state: 'declined',
      done: true,
      outcome: 'skipped',
      timers: [],
    });
  });

  it('compares guard values as JSON: the string "true" is not true', () => {
    expect(advanceFlow(consent, 'consent', { type: 'SUBMIT', input: { accepted: 'true' } })?.state).toBe('declined');
  });

  it('walks kyc-basic through identity, aadhaar and bank to verified', () => {
    expect(advanceFlow(kyc, 'identity', { type: 'SUBMIT', input: { name: 'A', birthDate: '01-01-2000' } })).toEqual({
      state: 'aadhaar',
      done: false,
      outcome: null,
      timers: [],
    });
    expect(advanceFlow(kyc, 'aadhaar', { type: 'DONE', output: {} })?.state).toBe('review'); // no names to compare: a person checks
    expect(advanceFlow(kyc, 'bank', { type: 'DONE', output: {} })).toEqual({
      state: 'verified',
      done: true,
      outcome: 'success',
      timers: [],
    });
  });

  it('sends a provider ERROR to the error final', () => {
    expect(advanceFlow(kyc, 'aadhaar', { type: 'ERROR', error: { type: 'ProviderRejected' } })).toEqual({
      state: 'failed',
      done: true,
      outcome: 'error',
      timers: [],
    });
  });

  it('returns null for an event the state does not take', () => {
    expect(advanceFlow(kyc, 'identity', { type: 'DONE' })).toBeNull();
    expect(advanceFlow(kyc, 'aadhaar', { type: 'SUBMIT', input: {} })).toBeNull();
    expect(advanceFlow(consent, 'consent', { type: 'EVENT' })).toBeNull();
  });

  it('returns null for any event in a final state', () => {
    expect(advanceFlow(kyc, 'verified', { type: 'SUBMIT', input: {} })).toBeNull();
    expect(advanceFlow(kyc, 'failed', { type: 'DONE' })).toBeNull();
  });

  it('does not depend on a previous call (no state kept between calls)', () => {
    expect(advanceFlow(consent, 'consent', { type: 'SUBMIT', input: { accepted: true } })?.state).toBe('accepted');
    expect(advanceFlow(consent, 'consent', { type: 'SUBMIT', input: { accepted: false } })?.state).toBe('declined');
    expect(advanceFlow(consent, 'consent', { type: 'SUBMIT', input: { accepted: true } })?.state).toBe('accepted');
  });
});

describe('CompiledFlow, one built machine for many transitions', () => {
  it('answers every transition as a fresh machine would, whatever came before', () => {
    const flow = new CompiledFlow(kyc);
    expect(flow.start().state).toBe('identity');
    const walk: Array<[string, { type: string; input?: unknown }, string | null]> = [
      ['identity', { type: 'SUBMIT', input: {} }, 'aadhaar'],
      ['aadhaar', { type: 'ERROR' }, 'failed'],
      ['aadhaar', { type: 'DONE' }, 'review'],
      ['identity', { type: 'DONE' }, null],
      ['bank', { type: 'DONE' }, 'verified'],
      ['verified', { type: 'SUBMIT', input: {} }, null],
      ['identity', { type: 'SUBMIT', input: {} }, 'aadhaar'],
    ];
    for (const [state, event, expected] of walk) {
      expect(flow.advance(state, event)?.state ?? null).toBe(expected);
      expect(advanceFlow(kyc, state, event)?.state ?? null).toBe(expected);
      // What a validator asks: the same answer, without computing the next state.
      expect(flow.takes(state, event)).toBe(expected !== null);
    }
    const consentFlow = new CompiledFlow(consent);
    expect(consentFlow.advance('consent', { type: 'SUBMIT', input: { accepted: false } })?.outcome).toBe('skipped');
    expect(consentFlow.advance('consent', { type: 'SUBMIT', input: { accepted: true } })?.outcome).toBe('success');
  });
});

describe('advanceFlow on an inline machine', () => {
  it('takes the first transition whose guard passes', () => {
    expect(advanceFlow(inline, 'ask', { type: 'SUBMIT', input: { choice: 'a', later: 1 } })?.state).toBe('good');
    expect(advanceFlow(inline, 'ask', { type: 'SUBMIT', input: { choice: 'b', later: 1 } })?.state).toBe('hold');
  });

  it('returns null when no guard passes', () => {
    expect(advanceFlow(inline, 'ask', { type: 'SUBMIT', input: { choice: 'b' } })).toBeNull();
    expect(advanceFlow(inline, 'ask', { type: 'SUBMIT', input: { later: null } })).toBeNull();
    expect(advanceFlow(inline, 'ask', { type: 'SUBMIT' })).toBeNull();
  });

  it('takes an event exactly when it has a transition whose guard passes', () => {
    const flow = new CompiledFlow(inline);
    for (const input of [{ choice: 'a', later: 1 }, { choice: 'b', later: 1 }, { choice: 'b' }, { later: null }, undefined]) {
      expect(flow.takes('ask', { type: 'SUBMIT', input })).toBe(flow.advance('ask', { type: 'SUBMIT', input }) !== null);
    }
    expect(flow.takes('ask', { type: 'SUBMIT', input: { choice: 'b' } })).toBe(false);
  });

  it('moves on when a delay\'s XState event arrives', () => {
    expect(advanceFlow(inline, 'hold', { type: 'xstate.after.60000.inline.hold' })).toEqual({
      state: 'bad',
      done: true,
      outcome: 'error',
      timers: [],
    });
    expect(advanceFlow(inline, 'hold', { type: 'xstate.after.1000.inline.hold' })?.state).toBe('hold2');
  });

  it('ignores delay events of another state or another delay', () => {
    expect(advanceFlow(inline, 'hold', { type: 'xstate.after.5000.inline.hold' })).toBeNull();
    expect(advanceFlow(inline, 'hold', { type: 'xstate.after.60000.inline.ask' })).toBeNull();
    expect(advanceFlow(inline, 'ask', { type: 'xstate.after.60000.inline.hold' })).toBeNull();
  });

  it('reports the timers of the state it moves into', () => {
    const next = advanceFlow(inline, 'ask', { type: 'SUBMIT', input: { later: true } });
    expect(next?.state).toBe('hold');
    expect(next?.timers).toHaveLength(2);
    expect(next?.timers).toEqual(
      expect.arrayContaining([
        { event: 'xstate.after.1000.inline.hold', delayMs: 1000 },
        { event: 'xstate.after.60000.inline.hold', delayMs: 60000 },
      ]),
    );
  });

  it('takes a wait stage\'s EVENT', () => {
    expect(advanceFlow(inline, 'hold', { type: 'EVENT', data: {} })?.outcome).toBe('success');
  });

  it('returns a new position for a self-loop, with the state\'s timers again', () => {
    const loop: FlowMachine = {
      id: 'loop',
      initial: 'poll',
      states: {
        poll: {
          meta: { stage: 'wait' },
          on: { EVENT: [{ target: 'end', guard: { type: 'exists', params: { path: 'data.ready' } } }, 'poll'] },
          after: { '5000': 'poll' },
        },
        ask: { meta: { stage: 'input', schema: {} }, on: { SUBMIT: 'ask' } },
        end: { type: 'final', meta: { outcome: 'success' } },
      },
    };
    const poll = { state: 'poll', done: false, outcome: null, timers: [{ event: 'xstate.after.5000.loop.poll', delayMs: 5000 }] };
    expect(advanceFlow(loop, 'ask', { type: 'SUBMIT', input: {} })).toEqual({ state: 'ask', done: false, outcome: null, timers: [] });
    expect(advanceFlow(loop, 'poll', { type: 'EVENT', data: {} })).toEqual(poll);
    expect(advanceFlow(loop, 'poll', { type: 'xstate.after.5000.loop.poll' })).toEqual(poll);
    expect(advanceFlow(loop, 'poll', { type: 'EVENT', data: { ready: true } })?.state).toBe('end');
    expect(advanceFlow(loop, 'ask', { type: 'DONE' })).toBeNull();
  });

  it('moves between two distinct states and back', () => {
    const pingPong: FlowMachine = {
      id: 'pp',
      initial: 'a',
      states: {
        a: { meta: { stage: 'input', schema: {} }, on: { SUBMIT: 'b' } },
        b: { meta: { stage: 'input', schema: {} }, on: { SUBMIT: 'a' } },
        end: { type: 'final', meta: { outcome: 'success' } },
      },
    };
    expect(advanceFlow(pingPong, 'a', { type: 'SUBMIT' })?.state).toBe('b');
    expect(advanceFlow(pingPong, 'b', { type: 'SUBMIT' })?.state).toBe('a');
  });
});

describe('timersOf', () => {
  it('names each delay with XState\'s event name xstate.after.<ms>.<machineId>.<state>', () => {
    const timers = timersOf(inline, 'hold');
    expect(timers).toHaveLength(2);
    expect(timers).toEqual(
      expect.arrayContaining([
        { event: 'xstate.after.1000.inline.hold', delayMs: 1000 },
        { event: 'xstate.after.60000.inline.hold', delayMs: 60000 },
      ]),
    );
  });

  it('is empty for a state without delays and for an unknown state', () => {
    expect(timersOf(inline, 'ask')).toEqual([]);
    expect(timersOf(inline, 'good')).toEqual([]);
    expect(timersOf(inline, 'nowhere')).toEqual([]);
  });
});

describe('stageInfo', () => {
  it('describes a provider stage with its provider, params and schema', () => {
    expect(stageInfo(kyc, 'aadhaar')).toEqual({
      id: 'aadhaar',
      kind: 'provider',
      title: 'Verify your Aadhaar with Attestr',
      description: 'Attestr checks your Aadhaar. You finish that part with Attestr, then come back here.',
      provider: 'attestr',
      params: { flow: 'FXsandboxaadhaar', snapshot: null },
      schema: { type: 'object', additionalProperties: false },
      providerErrors: { ProviderResultPending: expect.any(String), ProviderSignatureInvalid: expect.any(String) },
      translations: { hi: expect.objectContaining({ title: expect.any(String), 'providerErrors.ProviderResultPending': expect.any(String) }) },
    });
    expect(stageInfo(kyc, 'bank')).toMatchObject({
      kind: 'provider',
      provider: 'finqware',
      params: { skill: 'bank_account_verification', step: 'account_details' },
      schema: { required: ['accountNumber', 'ifsc'] },
    });
  });

  it('describes an input stage with its schema and no provider', () => {
    const info = stageInfo(kyc, 'identity');
    expect(info).toEqual({
      id: 'identity',
      kind: 'input',
      title: 'Your name and date of birth',
      description: 'As they appear on your identity document.',
      schema: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200, title: 'Full name' },
          birthDate: { type: 'string', format: 'date', minAge: 18, maxAge: 120, title: 'Date of birth', description: 'For example, 24 01 1990' },
        },
        required: ['name', 'birthDate'],
        additionalProperties: false,
      },
      fields: {
        name: { autocomplete: 'name' },
        birthDate: { input: 'date', autocomplete: 'bday', messages: { minAge: 'You must be 18 or older to continue', maxAge: 'Check the year of your date of birth' } },
      },
      translations: { hi: expect.objectContaining({ title: expect.any(String), 'birthDate.messages.minAge': expect.any(String) }) },
    });
    expect(info).not.toHaveProperty('provider');
    expect(info).not.toHaveProperty('params');
  });

  it('is null for a final state and for an unknown state', () => {
    expect(stageInfo(kyc, 'verified')).toBeNull();
    expect(stageInfo(consent, 'declined')).toBeNull();
    expect(stageInfo(kyc, 'nowhere')).toBeNull();
  });

  it('gives a stage without a schema the empty-object schema, and omits an absent title', () => {
    expect(stageInfo(inline, 'hold2')).toEqual({
      id: 'hold2',
      kind: 'provider',
      provider: 'finqware',
      schema: { type: 'object', additionalProperties: false },
    });
    expect(stageInfo(inline, 'hold')).toEqual({
      id: 'hold',
      kind: 'wait',
      title: 'Waiting for the bank',
      schema: { type: 'object', additionalProperties: false },
    });
  });
});

describe('GUARDS', () => {
  const event = { type: 'SUBMIT', input: { a: { b: [1, 2] }, zero: 0, empty: '', nothing: null, text: 'str' } };

  it('equals compares the value at a dotted path as JSON', () => {
    expect(GUARDS.equals({ event }, { path: 'input.a.b', value: [1, 2] })).toBe(true);
    expect(GUARDS.equals({ event }, { path: 'input.a.b', value: [2, 1] })).toBe(false);
    expect(GUARDS.equals({ event }, { path: 'input.zero', value: 0 })).toBe(true);
    expect(GUARDS.equals({ event }, { path: 'input.zero', value: false })).toBe(false);
    expect(GUARDS.equals({ event }, { path: 'type', value: 'SUBMIT' })).toBe(true);
  });

  it('equals sees nothing past a non-object on the path', () => {
    expect(GUARDS.equals({ event }, { path: 'input.text.length', value: 3 })).toBe(false);
    expect(GUARDS.equals({ event }, { path: 'input.missing.deeper', value: null })).toBe(false);
  });

  it('exists is true for falsy values but false for null and missing ones', () => {
    expect(GUARDS.exists({ event }, { path: 'input.zero' })).toBe(true);
    expect(GUARDS.exists({ event }, { path: 'input.empty' })).toBe(true);
    expect(GUARDS.exists({ event }, { path: 'input.nothing' })).toBe(false);
    expect(GUARDS.exists({ event }, { path: 'input.missing' })).toBe(false);
    expect(GUARDS.exists({ event }, { path: 'output.x' })).toBe(false);
  });
});
