import { nameWords, namesMatch } from '../../src/flows/core/names';
import { validateFlowMachine } from '../../src/flows/validate';
import { CompiledFlow } from '../../src/flows/core/engine';
import { sampleDraft } from './fixtures';

test('names are normalised: case, accents, punctuation and whitespace', () => {
  expect(nameWords("  José  D'Souza-Pinto ")).toEqual(['jose', 'd', 'souza', 'pinto']);
  expect(namesMatch('RAJESH   kumar sharma', 'Rajesh Kumar Sharma')).toBe(true);
  expect(namesMatch('Zoë Ångström', 'zoe angstrom')).toBe(true);
  expect(namesMatch('R.K. Sharma', 'Rajesh Kumar Sharma')).toBe(true);
});

test('order and initials are tolerated', () => {
  expect(namesMatch('R. Kumar Sharma', 'Sharma Rajesh Kumar')).toBe(true);
  expect(namesMatch('Sharma Rajesh Kumar', 'R. Kumar Sharma')).toBe(true);
  expect(namesMatch('Rajesh Sharma', 'Rajesh Kumar Sharma')).toBe(true); // a middle name left out
});

test('different names, initials alone, one word against several, and non-strings do not match', () => {
  expect(namesMatch('Rajesh Kumar Sharma', 'Suresh Kumar Verma')).toBe(false);
  expect(namesMatch('Test Person', 'Sandbox Test User')).toBe(false);
  expect(namesMatch('R. K.', 'Rajesh Kumar')).toBe(false);
  expect(namesMatch('Sharma', 'Rajesh Kumar Sharma')).toBe(false);
  expect(namesMatch('P. Kumar Sharma', 'Sharma Rajesh Kumar')).toBe(false);
  expect(namesMatch('', 'Rajesh')).toBe(false);
  expect(namesMatch(undefined, 'Rajesh')).toBe(false);
});

test('kyc-basic is valid, and its namesMatch guard reads the identity stage recorded earlier', () => {
  const kyc = sampleDraft('kyc-basic');
  expect(validateFlowMachine(kyc)).toEqual([]);
  const flow = new CompiledFlow(kyc);
  const done = (name: string) => ({ type: 'DONE', output: { verified: true, result: { FSaadhaar: { input: {}, output: { name } } } } });
  const recorded = { identity: { input: { name: 'R. Kumar Sharma', birthDate: '01-01-1990' }, output: {} } };
  expect(flow.advance('aadhaar', done('Sharma Rajesh Kumar'), recorded)?.state).toBe('bank');
  expect(flow.advance('aadhaar', done('Suresh Verma'), recorded)?.state).toBe('review');
  expect(flow.advance('review', { type: 'APPROVED' })?.state).toBe('bank');
  expect(flow.advance('review', { type: 'REJECTED' })?.state).toBe('failed');
});

test('a review stage needs its reasons and both decisions; sla must be a duration', () => {
  const machine = {
    id: 'r',
    initial: 'check',
    states: {
      check: { meta: { stage: 'review', sla: 'soon', reasons: [] }, on: { APPROVED: 'done' } },
      done: { type: 'final', meta: { outcome: 'success' } },
    },
  };
  expect(validateFlowMachine(machine)).toEqual([
    'state "check" needs meta.reasons: a list of distinct reason codes (lower case letters, digits and _)',
    'state "check" meta.sla must be a duration such as "30m", "4h" or "2d"',
    'state "check" is a review stage and needs both APPROVED and REJECTED transitions',
  ]);
});
