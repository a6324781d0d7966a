/**
 * The ways back to a form, as the flow loader checks them (src/flows/routes.ts): a provider's
 * "wrong input" routed back (meta.inputErrors, INPUT_ERROR) and the user's BACK. Each refusal
 * is the documented message (docs/guides/writing-flows.md), naming the key.
 */
import { validateFlowMachine } from '../../src/flows/validate';
import { stageProgress } from '../../src/api/hosted/progress';
import type { FlowMachine } from '../../src/flows/core/types';
import { problemsOfChanged, sampleDraft } from './fixtures';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ACCOUNT = { type: 'object', properties: { accountNumber: { type: 'string' }, ifsc: { type: 'string' } } };

/** name → contact (input, BACK to name) → bank (a Finqware form, its refusal routed back to itself) → done. */
function base(): Json {
  return {
    id: 'routes',
    initial: 'name',
    states: {
      name: { meta: { stage: 'input', schema: { type: 'object', properties: { name: { type: 'string' } } } }, on: { SUBMIT: 'contact' } },
      contact: { meta: { stage: 'input', schema: { type: 'object', properties: { email: { type: 'string' } } } }, on: { SUBMIT: 'bank', BACK: 'name' } },
      bank: {
        meta: {
          stage: 'provider',
          provider: 'finqware',
          params: { skill: 'bank_account_verification', step: 'account_details' },
          schema: ACCOUNT,
          inputErrors: { account_not_found: 'accountNumber' },
          providerErrors: { account_not_found: 'We could not find this account' },
        },
        on: { DONE: 'done', ERROR: 'failed', INPUT_ERROR: 'bank' },
      },
      done: { type: 'final', meta: { outcome: 'success' } },
      failed: { type: 'final', meta: { outcome: 'error' } },
    },
  };
}

const problemsAfter = (change: (machine: Json) => void): string[] => problemsOfChanged(base, change);

describe('ways back: valid flows', () => {
  it('accepts the base flow, and kyc-basic routing its bank refusal back to the bank form', () => {
    expect(validateFlowMachine(base())).toEqual([]);
    const kyc = sampleDraft('kyc-basic');
    expect(kyc.states.bank.on?.INPUT_ERROR).toBe('bank');
    expect(validateFlowMachine(kyc)).toEqual([]);
  });

  it('accepts an input error routed to an earlier input stage that has the field, and BACK over several input stages', () => {
    expect(
      problemsAfter((m) => {
        m.states.contact.meta.schema.properties.accountNumber = { type: 'string' };
        m.states.bank.on.INPUT_ERROR = 'contact';
        m.states.third = { meta: { stage: 'input', schema: { type: 'object' } }, on: { SUBMIT: 'bank', BACK: 'name' } };
        m.states.contact.on.SUBMIT = 'third';
      }),
    ).toEqual([]);
  });
});

describe('ways back: an error route that is malformed', () => {
  it('refuses inputErrors on a stage that is not a provider stage', () => {
    expect(problemsAfter((m) => (m.states.contact.meta.inputErrors = { x: 'email' }))).toEqual(['state "contact" has meta.inputErrors but is not a provider stage']);
  });

  it('refuses inputErrors that are not a map of code to field', () => {
    expect(problemsAfter((m) => (m.states.bank.meta.inputErrors = ['account_not_found']))).toEqual([
      'state "bank" meta.inputErrors must be an object of provider code: field name, with at least one code',
    ]);
    expect(problemsAfter((m) => (m.states.bank.meta.inputErrors = {}))).toEqual(['state "bank" meta.inputErrors must be an object of provider code: field name, with at least one code']);
    expect(problemsAfter((m) => (m.states.bank.meta.inputErrors = { account_not_found: 3 }))).toEqual(['state "bank" meta.inputErrors.account_not_found must name the field it marks']);
  });

  it('refuses a code with no message, and one that is not a code', () => {
    expect(problemsAfter((m) => (m.states.bank.meta.inputErrors.closed = 'accountNumber'))).toEqual([
      'state "bank" meta.inputErrors.closed has no message: add meta.providerErrors.closed, the words shown at the field',
    ]);
    expect(problemsAfter((m) => (m.states.bank.meta.inputErrors = { 'no code!': 'accountNumber' }))).toEqual([
      'state "bank" meta.inputErrors "no code!" is not a provider code (letters, digits, _ . -)',
      'state "bank" meta.inputErrors.no code! has no message: add meta.providerErrors.no code!, the words shown at the field',
    ]);
  });

  it('refuses inputErrors without an INPUT_ERROR transition, and INPUT_ERROR without inputErrors', () => {
    expect(problemsAfter((m) => delete m.states.bank.on.INPUT_ERROR)).toEqual(['state "bank" has meta.inputErrors but no INPUT_ERROR transition: add on.INPUT_ERROR, the form to go back to']);
    expect(problemsAfter((m) => delete m.states.bank.meta.inputErrors)).toEqual(['state "bank" on INPUT_ERROR: the stage has no meta.inputErrors listing the provider codes that take it']);
  });

  it('refuses INPUT_ERROR on an input stage', () => {
    expect(problemsAfter((m) => (m.states.contact.on.INPUT_ERROR = 'name'))).toEqual(['state "contact" is a input stage and takes only SUBMIT, BACK, not INPUT_ERROR']);
  });

  it('refuses an INPUT_ERROR with a guard or several targets', () => {
    expect(problemsAfter((m) => (m.states.bank.on.INPUT_ERROR = [{ target: 'bank', guard: { type: 'exists', params: { path: 'error.code' } } }]))).toEqual([
      'state "bank" on INPUT_ERROR must name one stage, without a guard',
    ]);
    expect(problemsAfter((m) => (m.states.bank.on.INPUT_ERROR = ['bank', 'contact']))).toEqual(['state "bank" on INPUT_ERROR must name one stage, without a guard']);
  });

  it('refuses an INPUT_ERROR to a stage that is no form: another provider stage, a final state, the stage itself without a form', () => {
    expect(
      problemsAfter((m) => {
        m.states.other = { meta: { stage: 'provider', provider: 'attestr', params: { flow: 'X' } }, on: { DONE: 'done', ERROR: 'failed' } };
        m.states.bank.on.INPUT_ERROR = 'other';
      }),
    ).toEqual(['state "bank" on INPUT_ERROR targets "other", which is a provider stage: it must go back to an input stage, or to "bank" itself when it takes the form (meta.schema with properties)']);
    expect(problemsAfter((m) => (m.states.bank.on.INPUT_ERROR = 'failed'))).toEqual([
      'state "bank" on INPUT_ERROR targets "failed", which is a final state: it must go back to an input stage, or to "bank" itself when it takes the form (meta.schema with properties)',
    ]);
    expect(problemsAfter((m) => (m.states.bank.meta.schema = { type: 'object' }))[0]).toBe(
      'state "bank" on INPUT_ERROR targets "bank", which is the stage itself without a form: it must go back to an input stage, or to "bank" itself when it takes the form (meta.schema with properties)',
    );
  });

  it('refuses a code marking a field the target form does not have', () => {
    expect(problemsAfter((m) => (m.states.bank.meta.inputErrors.account_not_found = 'acount'))).toEqual([
      'state "bank" meta.inputErrors.account_not_found marks "acount", which is not a field of "bank" (its fields: accountNumber, ifsc)',
    ]);
    expect(problemsAfter((m) => (m.states.bank.on.INPUT_ERROR = 'contact'))).toEqual([
      'state "bank" meta.inputErrors.account_not_found marks "accountNumber", which is not a field of "contact" (its fields: email)',
    ]);
  });

  it('refuses a code whose message lacks a translation the flow declares', () => {
    expect(
      problemsAfter((m) => {
        m.states.name.meta.translations = { hi: {} };
        m.states.contact.meta.translations = { hi: {} };
        m.states.bank.meta.translations = { hi: {} };
      }),
    ).toEqual(['state "bank" meta.translations.hi lacks "providerErrors.account_not_found"']);
  });
});

describe('ways back: BACK', () => {
  it('refuses a BACK that crosses a provider stage', () => {
    expect(
      problemsAfter((m) => {
        m.states.bank.on.DONE = 'review';
        m.states.review = { meta: { stage: 'input', schema: { type: 'object' } }, on: { SUBMIT: 'done', BACK: 'contact' } };
      }),
    ).toEqual(['state "review" on BACK to "contact" crosses "bank" (provider): every way from "contact" to "review" must pass input stages only, so going back never runs a provider again']);
  });

  it('refuses a BACK when one of several ways between the stages passes a wait stage', () => {
    expect(
      problemsAfter((m) => {
        m.states.name.on.SUBMIT = [{ target: 'contact', guard: { type: 'exists', params: { path: 'input.name' } } }, 'hold'];
        m.states.hold = { meta: { stage: 'wait' }, on: { EVENT: 'contact' } };
      }),
    ).toEqual(['state "contact" on BACK to "name" crosses "hold" (wait): every way from "name" to "contact" must pass input stages only, so going back never runs a provider again']);
  });

  it('refuses BACK from a provider, wait or review stage', () => {
    expect(problemsAfter((m) => (m.states.bank.on.BACK = 'contact'))).toEqual(['state "bank" on BACK: only an input stage may go back, and this is a provider stage']);
    expect(
      problemsAfter((m) => {
        m.states.contact.on.SUBMIT = 'hold';
        m.states.hold = { meta: { stage: 'wait' }, on: { EVENT: 'bank', BACK: 'contact' } };
      }),
    ).toEqual(['state "hold" on BACK: only an input stage may go back, and this is a wait stage']);
  });

  it('refuses a BACK to a stage that is not an input stage, to itself, or to a stage that does not lead to it', () => {
    expect(problemsAfter((m) => (m.states.contact.on.BACK = 'failed'))).toEqual(['state "contact" on BACK targets "failed", which is a final state: BACK must go to an input stage']);
    expect(
      problemsAfter((m) => {
        m.states.bank.on.DONE = 'review';
        m.states.review = { meta: { stage: 'input', schema: { type: 'object' } }, on: { SUBMIT: 'done', BACK: 'bank' } };
      }),
    ).toEqual(['state "review" on BACK targets "bank", which is a provider stage: BACK must go to an input stage']);
    expect(problemsAfter((m) => (m.states.contact.on.BACK = 'contact'))).toEqual(['state "contact" on BACK targets the stage itself: BACK goes to an earlier input stage']);
    expect(
      problemsAfter((m) => {
        m.states.name.on.BACK = 'contact';
      }),
    ).toEqual(['state "name" on BACK targets "contact", which does not lead to "name": BACK goes to an earlier input stage']);
  });

  it('refuses a BACK with a guard or several targets', () => {
    expect(problemsAfter((m) => (m.states.contact.on.BACK = ['name', 'name']))).toEqual(['state "contact" on BACK must name one stage, without a guard']);
    expect(problemsAfter((m) => (m.states.contact.on.BACK = { target: 'name', guard: { type: 'exists', params: { path: 'input.x' } } }))).toEqual([
      'state "contact" on BACK must name one stage, without a guard',
    ]);
  });
});

describe('ways back: the progress indicator', () => {
  it('counts neither BACK nor INPUT_ERROR: each stage keeps its own step', () => {
    expect(stageProgress(base() as FlowMachine)).toEqual({ name: [1, 3], contact: [2, 3], bank: [3, 3] });
  });
});
