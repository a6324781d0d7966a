/**
 * The api's wording of refused step data: every problem code has a plain-language default that
 * names the field by its label and shows no pattern and no submitted value; the flow's own
 * message for a property and rule (meta.fields) replaces it.
 */
import { fieldErrors } from '../../src/api/field-errors';
import type { InputProblems } from '../../src/contract/session';
import { PROBLEM_CODES, validateAgainstSchema, type SchemaProblem } from '../../src/flows/core/schema';
import type { FlowMachine, JsonSchema, StageMeta } from '../../src/flows/core/types';
import { DISTINCTIVE, sampleDraft } from './fixtures';

const NOW = Date.UTC(2026, 11, 6, 5, 0, 0);

/** What the update validator refuses a stage's data with, worded by the api. */
function refused(machine: FlowMachine, stage: string, data: unknown) {
  const meta = machine.states[stage].meta as StageMeta;
  const schema = meta.schema as JsonSchema;
  const details: InputProblems = { problems: validateAgainstSchema(schema, data, { now: NOW }), schema, ...(meta.fields ? { fields: meta.fields } : {}) };
  return fieldErrors(details, 'en');
}

const kyc = sampleDraft('kyc-basic');
const consent = sampleDraft('consent-only');
/** Anything a pattern or a template placeholder would leave in a message. */
const NOT_PLAIN = /[\^$\\[\]{}]|undefined|NaN|\/[a-zA-Z]/;

describe("kyc-basic's identity form", () => {
  it('answers an empty form with every error at once, in plain language', () => {
    expect(refused(kyc, 'identity', {})).toEqual([
      { param: '/name', rule: 'required', message: 'Enter your full name' },
      { param: '/birthDate', rule: 'required', message: 'Enter your date of birth, for example 24 01 1990' },
    ]);
  });

  it('refuses 31-02-1990 as not a real date', () => {
    expect(refused(kyc, 'identity', { name: 'A', birthDate: '31-02-1990' })).toEqual([
      { param: '/birthDate', rule: 'format', message: 'Date of birth must be a real date, for example 24 01 1990', params: { format: 'date' } },
    ]);
  });

  it("uses the flow's own message for a property and rule", () => {
    expect(refused(kyc, 'identity', { name: 'A', birthDate: '01-01-2020' })).toEqual([
      { param: '/birthDate', rule: 'minAge', message: 'You must be 18 or older to continue', params: { limit: 18 } },
    ]);
  });

  it('names fields by their labels, never by a pattern or the value sent', () => {
    const errors = refused(kyc, 'identity', { name: '', birthDate: DISTINCTIVE, nickname: DISTINCTIVE });
    expect(errors.map((e) => e.message)).toEqual(['Enter your full name', 'Date of birth must be a real date, for example 24 01 1990', 'Nickname is not asked for in this step']);
    expect(JSON.stringify(errors)).not.toContain('Zebediah');
  });
});

describe('other sample stages', () => {
  it("words the bank stage's patterns with the flow's messages", () => {
    const messages = refused(kyc, 'bank', { accountNumber: '12', ifsc: 'x' }).map((e) => e.message);
    expect(messages).toEqual([
      'Enter your account number as 6 to 18 digits, with no spaces',
      'Enter your IFSC code as 4 capital letters, a zero, then 6 letters or digits, like HDFC0001234',
    ]);
  });

  it('words a missing yes/no answer', () => {
    expect(refused(consent, 'consent', {})[0].message).toBe('Choose Yes to accept the terms, or No to stop here');
  });
});

describe('the defaults, for every code', () => {
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      ifscCode: { type: 'string', title: 'IFSC code', pattern: '^[A-Z]{4}0[A-Z0-9]{6}$' },
      accepted: { type: 'boolean', title: 'Do you accept the terms?' },
      country: { type: 'string', title: 'Country', oneOf: [{ const: 'IN', title: 'India' }] },
    },
  };
  const cases: Array<[SchemaProblem, string]> = [
    [{ path: '/accepted', code: 'required' }, 'Choose Yes or No for “Do you accept the terms?”'],
    [{ path: '/country', code: 'required' }, 'Select your country'],
    [{ path: '/ifscCode', code: 'required' }, 'Enter your IFSC code'],
    [{ path: '/ifscCode', code: 'type', params: { type: 'string' } }, 'Enter your IFSC code'],
    [{ path: '/age', code: 'type', params: { type: 'integer' } }, 'Enter your age as a whole number'],
    [{ path: '/age', code: 'type', params: { type: 'number' } }, 'Enter your age as a number'],
    [{ path: '/tags', code: 'type', params: { type: 'array' } }, 'Tags is not in the form this step asks for'],
    [{ path: '/extraField', code: 'additionalProperties' }, 'Extra field is not asked for in this step'],
    [{ path: '/accepted', code: 'const' }, 'Check your answer to “Do you accept the terms?”'],
    [{ path: '/country', code: 'enum' }, 'Select your country from the list'],
    [{ path: '/country', code: 'oneOf' }, 'Select your country from the list'],
    [{ path: '/ifscCode', code: 'pattern' }, 'Enter your IFSC code in the right format'],
    [{ path: '/birthDate', code: 'format', params: { format: 'date' } }, 'Birth date must be a real date, for example 24 01 1990'],
    [{ path: '/email', code: 'format', params: { format: 'email' } }, 'Enter your email in the right format, like name@example.com'],
    [{ path: '/ifscCode', code: 'minLength', params: { limit: 1 } }, 'Enter your IFSC code'],
    [{ path: '/ifscCode', code: 'minLength', params: { limit: 11 } }, 'IFSC code must be 11 characters or more'],
    [{ path: '/ifscCode', code: 'maxLength', params: { limit: 11 } }, 'IFSC code must be 11 characters or fewer'],
    [{ path: '/age', code: 'minimum', params: { limit: 18 } }, 'Age must be 18 or more'],
    [{ path: '/age', code: 'maximum', params: { limit: 120 } }, 'Age must be 120 or less'],
    [{ path: '/tags', code: 'minItems', params: { limit: 1 } }, 'Tags needs at least 1 answer'],
    [{ path: '/tags', code: 'maxItems', params: { limit: 3 } }, 'Tags takes at most 3 answers'],
    [{ path: '/birthDate', code: 'minAge', params: { limit: 18 } }, 'Birth date must be at least 18 years ago'],
    [{ path: '/birthDate', code: 'minAge', params: { limit: 0 } }, 'Birth date must be today or in the past'],
    [{ path: '/birthDate', code: 'maxAge', params: { limit: 120 } }, 'Birth date must be less than 121 years ago'],
  ];

  it.each(cases)('%j reads %p', (problem, message) => {
    expect(fieldErrors({ problems: [problem], schema }, 'en')[0].message).toBe(message);
  });

  it('covers every code, and no message shows a pattern or a placeholder', () => {
    expect(new Set(cases.map(([problem]) => problem.code))).toEqual(new Set(PROBLEM_CODES));
    for (const [problem] of cases) expect(fieldErrors({ problems: [problem], schema }, 'en')[0].message).not.toMatch(NOT_PLAIN);
  });

  it('keeps the problem as param, rule and params', () => {
    expect(fieldErrors({ problems: [{ path: '/a~1b', code: 'maxLength', params: { limit: 3 } }], schema: {} }, 'en')).toEqual([
      { param: '/a~1b', rule: 'maxLength', message: 'A/b must be 3 characters or fewer', params: { limit: 3 } },
    ]);
  });
});
