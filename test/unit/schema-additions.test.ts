/**
 * The keywords added to the validation subset for real inputs: `format` (date as DD-MM-YYYY,
 * email), `minAge`/`maxAge` computed from the workflow's time in UTC, `oneOf` of `{ const,
 * title }`; every problem code; and the loader's refusal of malformed additions and `meta.fields`.
 */
import { lintSchema, PROBLEM_CODES, validateAgainstSchema, type SchemaProblem } from '../../src/flows/core/schema';
import type { JsonSchema } from '../../src/flows/core/types';
import { validateFlowMachine } from '../../src/flows/validate';
import { DISTINCTIVE, sampleDraft } from './fixtures';

/** The workflow's time in these tests: 6 December 2026, 05:00 UTC. */
const NOW = Date.UTC(2026, 11, 6, 5, 0, 0);
const validate = (schema: JsonSchema, value: unknown, now = NOW) => validateAgainstSchema(schema, value, { now });
const DATE: JsonSchema = { type: 'string', format: 'date' };
const ADULT: JsonSchema = { type: 'string', format: 'date', minAge: 18, maxAge: 120 };

describe('format: date (DD-MM-YYYY, a real calendar date)', () => {
  it.each(['26-12-1985', '29-02-1996', '29-02-2000', '31-12-2099', '01-01-0001'])('accepts %s', (value) => {
    expect(validate(DATE, value)).toEqual([]);
  });

  it.each(['31-02-1990', '30-02-2024', '29-02-1900', '29-02-2023', '31-04-1990', '00-01-1990', '32-01-1990', '01-13-1990', '01-00-1990', '01-01-0000', '1990-02-01', '1-2-1990', '01/02/1990', ' 01-02-1990', '01-02-1990 ', ''])(
    'refuses %p with the code format and no other problem',
    (value) => {
      expect(validate(ADULT, value)).toEqual([{ path: '', code: 'format', params: { format: 'date' } }]);
    },
  );
});

describe('minAge and maxAge: whole years to the workflow time, in UTC', () => {
  it('accepts an 18th birthday today and refuses the day after', () => {
    expect(validate(ADULT, '06-12-2008')).toEqual([]);
    expect(validate(ADULT, '07-12-2008')).toEqual([{ path: '', code: 'minAge', params: { limit: 18 } }]);
  });

  it('accepts an age of 120 and refuses 121', () => {
    expect(validate(ADULT, '07-12-1905')).toEqual([]);
    expect(validate(ADULT, '06-12-1905')).toEqual([{ path: '', code: 'maxAge', params: { limit: 120 } }]);
  });

  it('counts the day in UTC: 04:30 in India on the birthday is still the day before', () => {
    const lateEveningUtc = Date.UTC(2026, 11, 5, 23, 0, 0);
    expect(validate(ADULT, '06-12-2008', lateEveningUtc)).toEqual([{ path: '', code: 'minAge', params: { limit: 18 } }]);
  });

  it('lets someone born on 29 February come of age on 1 March in a common year', () => {
    expect(validate(ADULT, '29-02-2008', Date.UTC(2026, 1, 28, 12))).toEqual([{ path: '', code: 'minAge', params: { limit: 18 } }]);
    expect(validate(ADULT, '29-02-2008', Date.UTC(2026, 2, 1, 0))).toEqual([]);
  });

  it('refuses a date after today with minAge 0', () => {
    const past: JsonSchema = { type: 'string', format: 'date', minAge: 0 };
    expect(validate(past, '06-12-2026')).toEqual([]);
    expect(validate(past, '07-12-2026')).toEqual([{ path: '', code: 'minAge', params: { limit: 0 } }]);
  });

  it('depends only on the time it is given', () => {
    expect(validate(ADULT, '07-12-2008', NOW + 24 * 3600 * 1000)).toEqual([]);
  });
});

describe('format: email', () => {
  it.each(['a@b.co', 'name.surname+tag@example.co.in', 'x_y@sub.domain.example'])('accepts %s', (value) => {
    expect(validate({ type: 'string', format: 'email' }, value)).toEqual([]);
  });

  it.each(['a', 'a@b', 'a@@b.co', 'a b@c.de', '@b.co', 'a@b..co', 'a@.b.co', 'a@b.co.', `${'x'.repeat(65)}@b.co`, `a@${'b'.repeat(250)}.co`])('refuses %p', (value) => {
    expect(validate({ type: 'string', format: 'email' }, value)).toEqual([{ path: '', code: 'format', params: { format: 'email' } }]);
  });
});

describe('oneOf of { const, title }', () => {
  const country: JsonSchema = { type: 'string', oneOf: [{ const: 'IN', title: 'India' }, { const: 'GB', title: 'United Kingdom' }] };

  it('accepts an option and refuses anything else, titles included', () => {
    expect(validate(country, 'IN')).toEqual([]);
    expect(validate(country, 'India')).toEqual([{ path: '', code: 'oneOf' }]);
    expect(validate(country, 'US')).toEqual([{ path: '', code: 'oneOf' }]);
  });
});

describe('every problem code, each with its parameters and nothing else', () => {
  const cases: Array<[JsonSchema, unknown, SchemaProblem]> = [
    [{ type: 'string' }, 1, { path: '', code: 'type', params: { type: 'string' } }],
    [{ type: 'object', required: ['a'] }, {}, { path: '/a', code: 'required' }],
    [{ type: 'object', additionalProperties: false }, { a: 1 }, { path: '/a', code: 'additionalProperties' }],
    [{ const: true }, false, { path: '', code: 'const' }],
    [{ enum: ['a'] }, 'b', { path: '', code: 'enum' }],
    [{ oneOf: [{ const: 'a', title: 'A' }] }, 'b', { path: '', code: 'oneOf' }],
    [{ type: 'string', pattern: '^[0-9]+$' }, 'x', { path: '', code: 'pattern' }],
    [DATE, '31-02-1990', { path: '', code: 'format', params: { format: 'date' } }],
    [{ type: 'string', minLength: 2 }, 'x', { path: '', code: 'minLength', params: { limit: 2 } }],
    [{ type: 'string', maxLength: 1 }, 'xy', { path: '', code: 'maxLength', params: { limit: 1 } }],
    [{ type: 'number', minimum: 1 }, 0, { path: '', code: 'minimum', params: { limit: 1 } }],
    [{ type: 'number', maximum: 1 }, 2, { path: '', code: 'maximum', params: { limit: 1 } }],
    [{ type: 'array', minItems: 1 }, [], { path: '', code: 'minItems', params: { limit: 1 } }],
    [{ type: 'array', maxItems: 0 }, [1], { path: '', code: 'maxItems', params: { limit: 0 } }],
    [ADULT, '01-01-2020', { path: '', code: 'minAge', params: { limit: 18 } }],
    [ADULT, '01-01-1900', { path: '', code: 'maxAge', params: { limit: 120 } }],
  ];

  it.each(cases)('%j refuses %j', (schema, value, problem) => {
    expect(validate(schema, value)).toEqual([problem]);
  });

  it('covers every code', () => {
    expect(cases.map(([, , problem]) => problem.code).sort()).toEqual([...PROBLEM_CODES].sort());
  });
});

describe("kyc-basic's identity form", () => {
  const identity = sampleDraft('kyc-basic').states.identity.meta as { schema: JsonSchema };

  it('answers an empty form with every error at once', () => {
    expect(validate(identity.schema, {})).toEqual([
      { path: '/name', code: 'required' },
      { path: '/birthDate', code: 'required' },
    ]);
  });

  it('refuses 31-02-1990 and an under-age date, and accepts a real adult date', () => {
    expect(validate(identity.schema, { name: 'A', birthDate: '31-02-1990' })).toEqual([{ path: '/birthDate', code: 'format', params: { format: 'date' } }]);
    expect(validate(identity.schema, { name: 'A', birthDate: '01-01-2020' })).toEqual([{ path: '/birthDate', code: 'minAge', params: { limit: 18 } }]);
    expect(validate(identity.schema, { name: 'A', birthDate: '26-12-1985' })).toEqual([]);
  });

  it('reports several fields at once without any submitted value or pattern', () => {
    const problems = validate(identity.schema, { name: '', birthDate: DISTINCTIVE, extra: DISTINCTIVE });
    expect(problems.map((p) => `${p.path} ${p.code}`)).toEqual(['/name minLength', '/birthDate format', '/extra additionalProperties']);
    expect(JSON.stringify(problems)).not.toContain('Zebediah');
    expect(JSON.stringify(problems)).not.toMatch(/\^|\$|\[0-9\]/);
  });
});

describe('lintSchema: the additions', () => {
  it('accepts them well formed', () => {
    expect(lintSchema({ type: 'object', properties: { d: ADULT, e: { type: 'string', format: 'email' }, c: { type: 'string', oneOf: [{ const: 'IN', title: 'India' }] } } })).toEqual([]);
  });

  test.each([
    [{ type: 'string', format: 'phone' }, 'schema.format must be one of date, email'],
    [{ type: 'number', format: 'date' }, 'schema.format needs "type": "string"'],
    [{ type: 'string', minAge: 18 }, 'schema.minAge needs "format": "date"'],
    [{ ...DATE, minAge: -1 }, 'schema.minAge must be a whole number of years from 0 to 200'],
    [{ ...DATE, maxAge: 1.5 }, 'schema.maxAge must be a whole number of years from 0 to 200'],
    [{ ...DATE, maxAge: 1000 }, 'schema.maxAge must be a whole number of years from 0 to 200'],
    [{ ...DATE, minAge: 30, maxAge: 20 }, 'schema.minAge must not be above maxAge'],
    [{ oneOf: [] }, 'schema.oneOf must be a non-empty list of { "const", "title" }'],
    [{ oneOf: 'IN' }, 'schema.oneOf must be a non-empty list of { "const", "title" }'],
    [{ oneOf: ['IN'] }, 'schema.oneOf[0] must be { "const", "title" }'],
    [{ oneOf: [{ const: 'IN' }] }, 'schema.oneOf[0] needs a title (a non-empty string)'],
    [{ oneOf: [{ const: 'IN', title: ' ' }] }, 'schema.oneOf[0] needs a title (a non-empty string)'],
    [{ oneOf: [{ title: 'India' }] }, 'schema.oneOf[0] needs const'],
    [{ oneOf: [{ const: 'IN', title: 'India', type: 'string' }] }, 'schema.oneOf[0] has unsupported key "type" (only const and title)'],
    [{ oneOf: [{ const: 'IN', title: 'India' }, { const: 'IN', title: 'Bharat' }] }, 'schema.oneOf[1] repeats the const of an earlier option'],
    [{ enum: ['IN'], oneOf: [{ const: 'IN', title: 'India' }] }, 'schema has both enum and oneOf: keep oneOf, whose options have titles'],
  ])('%j is refused', (schema, message) => {
    expect(lintSchema(schema)).toEqual([message]);
  });
});

describe('meta.fields: UI hints and messages, checked at load', () => {
  function machineWith(fields: unknown, schema: unknown = { type: 'object', properties: { birthDate: ADULT, email: { type: 'string', format: 'email' }, accepted: { type: 'boolean' } }, required: ['birthDate'] }): unknown {
    return {
      id: 'fields',
      initial: 'ask',
      states: { ask: { meta: { stage: 'input', schema, fields }, on: { SUBMIT: 'done' } }, done: { type: 'final', meta: { outcome: 'success' } } },
    };
  }

  it('accepts hints and messages that fit the schema', () => {
    const fields = {
      birthDate: { input: 'date', autocomplete: 'bday', messages: { required: 'Enter your date of birth', format: 'Enter a real date', minAge: 'You must be 18 or older', type: 'x' } },
      email: { input: 'email', autocomplete: 'email', messages: { format: 'Enter an email address like name@example.com' } },
    };
    expect(validateFlowMachine(machineWith(fields))).toEqual([]);
  });

  test.each([
    [{ nickname: {} }, 'meta.fields.nickname names no property of meta.schema'],
    [{ email: 'email' }, 'meta.fields.email must be an object (input, autocomplete, messages)'],
    [{ email: { label: 'E' } }, 'meta.fields.email has unsupported key "label"'],
    [{ email: { input: 'color' } }, 'meta.fields.email.input must be one of text, email, tel, date'],
    [{ email: { input: 'date' } }, 'meta.fields.email.input "date" and "format": "date" go together'],
    [{ birthDate: { input: 'text' } }, 'meta.fields.birthDate.input "date" and "format": "date" go together'],
    [{ accepted: { input: 'tel' } }, 'meta.fields.accepted.input "tel" needs a property of "type": "string"'],
    [{ email: { autocomplete: 'e-mail' } }, 'meta.fields.email.autocomplete must be an HTML autofill token (for example name, email, tel, bday)'],
    [{ email: { messages: { required: 'Enter it' } } }, 'meta.fields.email.messages.required: the property has no rule "required" (it has type, format)'],
    [{ birthDate: { messages: { minAge: '' } } }, 'meta.fields.birthDate.messages.minAge must be a non-empty string'],
    [{ birthDate: { messages: ['x'] } }, 'meta.fields.birthDate.messages must be an object of rule: message'],
  ])('%j is refused', (fields, message) => {
    expect(validateFlowMachine(machineWith(fields))).toEqual([`state "ask" ${message}`]);
  });

  it('refuses fields that are not an object', () => {
    expect(validateFlowMachine(machineWith(['birthDate']))).toEqual(['state "ask" meta.fields must be an object keyed by property']);
  });
});
