import { validateFlowMachine } from '../../src/flows/validate';
import { problemsOfChanged, sampleDraft } from './fixtures';

// Machines here are deliberately malformed, so they are plain JSON rather than FlowMachine.
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A valid machine using every stage kind, guards and a delay; each test breaks one thing. */
function base(): Json {
  return {
    id: 'sample-flow',
    initial: 'ask',
    states: {
      ask: {
        meta: { stage: 'input', title: 'Ask', schema: { type: 'object', properties: { go: { type: 'boolean' } } } },
        on: {
          SUBMIT: [
            { target: 'check', guard: { type: 'equals', params: { path: 'input.go', value: true } } },
            { target: 'hold', guard: { type: 'exists', params: { path: 'input.later' } } },
            'done',
          ],
        },
      },
      check: { meta: { stage: 'provider', provider: 'attestr', params: { flow: 'X' } }, on: { DONE: 'done', ERROR: 'failed' } },
      hold: { meta: { stage: 'wait' }, on: { EVENT: 'done' }, after: { '86400000': 'failed' } },
      done: { type: 'final', meta: { outcome: 'success' } },
      failed: { type: 'final', meta: { outcome: 'error' } },
    },
  };
}

const problemsAfter = (change: (machine: Json) => void): string[] => problemsOfChanged(base, change);

describe('validateFlowMachine: valid machines', () => {
  it('accepts both sample drafts', () => {
    expect(validateFlowMachine(sampleDraft('consent-only'))).toEqual([]);
    expect(validateFlowMachine(sampleDraft('kyc-basic'))).toEqual([]);
  });

  it('accepts the base machine of these tests (so each failure below has one cause)', () => {
    expect(validateFlowMachine(base())).toEqual([]);
  });

  it('accepts self-loops', () => {
    expect(
      problemsAfter((m) => {
        m.states.ask.on.SUBMIT[2] = 'ask';
        m.states.hold.after = { '5000': 'hold' };
      }),
    ).toEqual([]);
  });

  it('accepts a state left only by a delay', () => {
    expect(
      problemsAfter((m) => {
        delete m.states.hold.on;
      }),
    ).toEqual([]);
  });
});

describe('validateFlowMachine: one problem class at a time', () => {
  it('refuses something that is not an object', () => {
    expect(validateFlowMachine(null)).toEqual(['the machine must be an object']);
    expect(validateFlowMachine([])).toEqual(['the machine must be an object']);
  });

  it('refuses a missing initial', () => {
    expect(problemsAfter((m) => delete m.initial)).toEqual(['the machine needs an initial state that exists']);
  });

  it('refuses an initial that is not a state', () => {
    expect(problemsAfter((m) => (m.initial = 'nowhere'))).toEqual(['the machine needs an initial state that exists']);
  });

  it('refuses a machine without states', () => {
    expect(problemsAfter((m) => (m.states = {}))).toEqual(['the machine needs states']);
    expect(problemsAfter((m) => delete m.states)).toEqual(['the machine needs states']);
  });

  it('refuses a bad machine id', () => {
    expect(problemsAfter((m) => (m.id = 'has space'))).toEqual([expect.stringContaining('the machine needs an id')]);
    expect(problemsAfter((m) => delete m.id)).toEqual([expect.stringContaining('the machine needs an id')]);
  });

  it('refuses a transition to an unknown state, as a string or as an object', () => {
    expect(problemsAfter((m) => (m.states.ask.on.SUBMIT[2] = 'nowhere'))).toEqual([
      'state "ask" on SUBMIT targets unknown state "nowhere"',
    ]);
    expect(problemsAfter((m) => (m.states.check.on.DONE = { target: 'gone' }))).toEqual([
      'state "check" on DONE targets unknown state "gone"',
    ]);
    expect(problemsAfter((m) => (m.states.hold.after['86400000'] = 'gone'))).toEqual([
      'state "hold" after 86400000 targets unknown state "gone"',
    ]);
  });

  it('refuses a transition that is neither a name nor { target, guard? }', () => {
    expect(problemsAfter((m) => (m.states.check.on.DONE = 42))).toEqual([
      expect.stringContaining('state "check" on DONE must be a state name or { target, guard? }'),
    ]);
    expect(problemsAfter((m) => (m.states.check.on.DONE = { target: 'done', actions: ['x'] }))).toEqual([
      'state "check" on DONE has unsupported key "actions"',
    ]);
    expect(problemsAfter((m) => (m.states.check.on.DONE = []))).toEqual(['state "check" on DONE has no transitions']);
  });

  it('refuses an unknown guard type', () => {
    expect(problemsAfter((m) => (m.states.ask.on.SUBMIT[0].guard.type = 'matches'))).toEqual([
      expect.stringContaining('state "ask" on SUBMIT guard must be { type: equals|exists'),
    ]);
    expect(problemsAfter((m) => (m.states.ask.on.SUBMIT[0].guard = 'equals'))).toEqual([
      expect.stringContaining('guard must be { type:'),
    ]);
  });

  it('refuses a guard without params.path', () => {
    expect(problemsAfter((m) => delete m.states.ask.on.SUBMIT[0].guard.params)).toEqual([
      'state "ask" on SUBMIT guard "equals" needs params.path',
    ]);
    expect(problemsAfter((m) => (m.states.ask.on.SUBMIT[1].guard.params = { path: 3 }))).toEqual([
      'state "ask" on SUBMIT guard "exists" needs params.path',
    ]);
  });

  it('refuses a final state without an outcome or with a bad one', () => {
    const message = 'state "done" is final and needs meta.outcome: one of success, error, skipped';
    expect(problemsAfter((m) => delete m.states.done.meta)).toEqual([message]);
    expect(problemsAfter((m) => (m.states.done.meta = { outcome: 'won' }))).toEqual([message]);
  });

  it('refuses a final state with transitions', () => {
    expect(problemsAfter((m) => (m.states.done.on = { SUBMIT: 'ask' }))).toEqual(['state "done" is final and cannot have transitions']);
    expect(problemsAfter((m) => (m.states.done.after = { '1000': 'ask' }))).toEqual(['state "done" is final and cannot have transitions']);
  });

  it('refuses a state type other than final', () => {
    expect(problemsAfter((m) => (m.states.check.type = 'parallel'))).toEqual([expect.stringContaining('state "check" type must be "final"')]);
  });

  it('refuses a non-final state without a stage kind', () => {
    expect(problemsAfter((m) => (m.states.check.meta.stage = 'form'))).toEqual([
      'state "check" needs meta.stage: one of input, provider, wait, review',
    ]);
    expect(problemsAfter((m) => delete m.states.hold.meta)).toEqual(['state "hold" needs meta.stage: one of input, provider, wait, review']);
  });

  it("accepts a stage linking the tenant's pages, and refuses an unknown, repeated or malformed list", () => {
    expect(problemsAfter((m) => (m.states.ask.meta.links = ['terms', 'privacy']))).toEqual([]);
    const refusal = ['state "ask" meta.links must list, once each, some of terms, privacy, support'];
    expect(problemsAfter((m) => (m.states.ask.meta.links = ['terms', 'cookies']))).toEqual(refusal);
    expect(problemsAfter((m) => (m.states.ask.meta.links = ['terms', 'terms']))).toEqual(refusal);
    expect(problemsAfter((m) => (m.states.ask.meta.links = 'terms'))).toEqual(refusal);
  });

  it('refuses an input stage without a schema', () => {
    expect(problemsAfter((m) => delete m.states.ask.meta.schema)).toEqual(['state "ask" is an input stage without meta.schema']);
  });

  it('refuses a stage schema the validator does not support, naming the state', () => {
    expect(problemsAfter((m) => (m.states.ask.meta.schema.properties.go.anyOf = []))).toEqual([
      'state "ask" schema.properties.go uses unsupported keyword "anyOf"',
    ]);
    expect(problemsAfter((m) => (m.states.ask.meta.schema.properties.go.format = 'date'))).toEqual([
      'state "ask" schema.properties.go.format needs "type": "string"',
    ]);
  });

  it('refuses a provider stage without a known provider', () => {
    const message = 'state "check" needs meta.provider: one of attestr, finqware, http';
    expect(problemsAfter((m) => (m.states.check.meta.provider = 'acme'))).toEqual([message]);
    expect(problemsAfter((m) => delete m.states.check.meta.provider)).toEqual([message]);
  });

  it('refuses a provider on a stage that is not a provider stage', () => {
    expect(problemsAfter((m) => (m.states.ask.meta.provider = 'attestr'))).toEqual([
      'state "ask" has a provider but is not a provider stage',
    ]);
  });

  it('refuses params that are not an object', () => {
    expect(problemsAfter((m) => (m.states.check.meta.params = ['x']))).toEqual([
      'state "check" needs params.flow (a string)',
      'state "check" meta.params must be an object',
    ]);
  });

  it.each([
    ['attestr', {}, ['state "check" needs params.flow (a string)']],
    ['finqware', { skill: 'bank_account_verification' }, ['state "check" needs params.step (a string)']],
  ])('refuses a %s stage without its params', (provider, params, expected) => {
    expect(
      problemsAfter((m) => {
        m.states.check.meta.provider = provider;
        m.states.check.meta.params = params;
      }),
    ).toEqual(expected);
  });

  it('refuses a provider stage lacking DONE or ERROR', () => {
    const message = 'state "check" is a provider stage and needs both DONE and ERROR transitions';
    expect(problemsAfter((m) => delete m.states.check.on.ERROR)).toEqual([message]);
    expect(problemsAfter((m) => delete m.states.check.on.DONE)).toEqual([message]);
  });

  it('refuses an event the stage kind does not take', () => {
    expect(problemsAfter((m) => (m.states.ask.on.DONE = 'done'))).toEqual([
      expect.stringContaining('state "ask" is a input stage and takes only SUBMIT, BACK, not DONE'),
    ]);
    expect(problemsAfter((m) => (m.states.check.on.SUBMIT = 'done'))).toEqual([
      expect.stringContaining('takes only DONE, ERROR, INPUT_ERROR, not SUBMIT'),
    ]);
    expect(problemsAfter((m) => (m.states.hold.on.SUBMIT = 'done'))).toEqual([expect.stringContaining('takes only EVENT, not SUBMIT')]);
  });

  it('refuses nested states (flows are flat)', () => {
    expect(
      problemsAfter((m) => (m.states.ask.states = { inner: { type: 'final', meta: { outcome: 'success' } } })),
    ).toEqual(['state "ask" has unsupported key "states" (flows are flat machines)']);
  });

  it('refuses other XState state keys such as entry or always', () => {
    expect(problemsAfter((m) => (m.states.ask.always = 'done'))).toEqual([expect.stringContaining('unsupported key "always"')]);
  });

  it.each(['soon', '0', '1.5', '-5', '0100', '1e3'])('refuses the after key %p', (delay) => {
    expect(problemsAfter((m) => (m.states.hold.after = { [delay]: 'failed' }))).toEqual([
      `state "hold" after "${delay}" must be a delay in milliseconds`,
    ]);
  });

  it('refuses an after that is not an object', () => {
    expect(problemsAfter((m) => (m.states.hold.after = 'failed'))).toEqual(['state "hold" after must be an object']);
  });

  it('refuses a non-final state with no way out', () => {
    expect(
      problemsAfter((m) => {
        delete m.states.hold.on;
        delete m.states.hold.after;
      }),
    ).toEqual(['state "hold" has no way out']);
  });

  it('refuses a machine without a final state', () => {
    expect(
      validateFlowMachine({
        id: 'loop',
        initial: 'a',
        states: {
          a: { meta: { stage: 'input', schema: {} }, on: { SUBMIT: 'b' } },
          b: { meta: { stage: 'input', schema: {} }, on: { SUBMIT: 'a' } },
        },
      }),
    ).toEqual(['the machine needs at least one final state']);
  });

  it('refuses an unsupported top-level key', () => {
    expect(problemsAfter((m) => (m.context = {}))).toEqual(['the machine has unsupported key "context"']);
    expect(problemsAfter((m) => (m.type = 'parallel'))).toEqual(['the machine has unsupported key "type"']);
  });

  it('refuses badly named states', () => {
    expect(
      problemsAfter((m) => {
        m.states['bad name'] = { type: 'final', meta: { outcome: 'error' } };
      }),
    ).toEqual([expect.stringContaining('state "bad name": state names are')]);
  });

  it('reports several problems at once', () => {
    const problems = problemsAfter((m) => {
      m.context = {};
      m.states.done.meta.outcome = 'won';
      delete m.states.check.on.ERROR;
    });
    expect(problems).toHaveLength(3);
  });
});

describe('state names that are also Object.prototype members', () => {
  test('a target named hasOwnProperty is an unknown state', () => {
    const machine = base();
    machine.states.ask.on.SUBMIT = 'hasOwnProperty';
    expect(validateFlowMachine(machine)).toContain('state "ask" on SUBMIT targets unknown state "hasOwnProperty"');
  });

  test('an initial state named constructor does not exist', () => {
    const machine = base();
    machine.initial = 'constructor';
    expect(validateFlowMachine(machine)).toContain('the machine needs an initial state that exists');
  });
});

test('an equals guard needs params.value', () => {
  const machine = base();
  machine.states.ask.on.SUBMIT = [{ target: 'done', guard: { type: 'equals', params: { path: 'input.go' } } }];
  expect(validateFlowMachine(machine)).toContain('state "ask" on SUBMIT guard "equals" needs params.value');
});

test('an empty after is no way out', () => {
  const machine = base();
  machine.states.ask = { meta: machine.states.ask.meta, after: {} };
  expect(validateFlowMachine(machine)).toContain('state "ask" has no way out');
});
