import { lintSchema, validateAgainstSchema, type ValidationContext } from '../../src/flows/core/schema';
import type { JsonSchema } from '../../src/flows/core/types';
import { DISTINCTIVE } from './fixtures';

/** The workflow's time in these tests: 6 December 2026, 05:00 UTC. */
const NOW = Date.UTC(2026, 11, 6, 5, 0, 0);
const validate = (schema: JsonSchema, value: unknown, context: ValidationContext = { now: NOW }) => validateAgainstSchema(schema, value, context);
const paths = (schema: JsonSchema, value: unknown) => validate(schema, value).map((p) => p.path);

describe('validateAgainstSchema: type', () => {
  it.each([
    ['string', 'x'],
    ['number', 1.5],
    ['number', 2],
    ['integer', 2],
    ['integer', 2.0],
    ['integer', -7],
    ['boolean', false],
    ['array', []],
    ['object', {}],
    ['null', null],
  ] as const)('accepts a %s value (%p)', (type, value) => {
    expect(validate({ type }, value)).toEqual([]);
  });

  it.each([
    ['string', 1],
    ['number', '1'],
    ['integer', 1.5],
    ['integer', '3'],
    ['boolean', 'true'],
    ['array', {}],
    ['object', []],
    ['object', null],
    ['null', 0],
    ['string', undefined],
  ] as const)('refuses for type %s the value %p, at the root', (type, value) => {
    expect(validate({ type }, value)).toEqual([{ path: '', code: 'type', params: { type } }]);
  });

  it('stops at a type mismatch instead of applying the other keywords', () => {
    const problems = validate({ type: 'string', minLength: 5, enum: ['abcdef'] }, 42);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toEqual({ path: '', code: 'type', params: { type: 'string' } });
  });

  it('accepts anything when the schema is empty', () => {
    for (const value of [null, 0, 'x', [], {}, { a: [1] }]) expect(validate({}, value)).toEqual([]);
  });
});

describe('validateAgainstSchema: objects', () => {
  const person: JsonSchema = {
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer' } },
    required: ['name'],
    additionalProperties: false,
  };

  it('accepts a conforming object, with optional fields absent or present', () => {
    expect(validate(person, { name: 'A' })).toEqual([]);
    expect(validate(person, { name: 'A', age: 3 })).toEqual([]);
  });

  it('reports a missing required field at its pointer', () => {
    const problems = validate(person, { age: 3 });
    expect(problems).toEqual([{ path: '/name', code: 'required' }]);
  });

  it('reports every missing required field', () => {
    expect(paths({ type: 'object', required: ['a', 'b', 'c'] }, { b: 1 })).toEqual(['/a', '/c']);
  });

  it('treats a field present with value null as present for required', () => {
    expect(validate({ type: 'object', required: ['a'] }, { a: null })).toEqual([]);
  });

  it('refuses an extra field when additionalProperties is false', () => {
    expect(validate(person, { name: 'A', nickname: 'B' })).toEqual([
      { path: '/nickname', code: 'additionalProperties' },
    ]);
  });

  it('allows extra fields when additionalProperties is absent or true', () => {
    const open: JsonSchema = { type: 'object', properties: { name: { type: 'string' } } };
    expect(validate(open, { name: 'A', nickname: 'B' })).toEqual([]);
    expect(validate({ ...open, additionalProperties: true }, { name: 'A', nickname: 'B' })).toEqual([]);
  });

  it('refuses every field when additionalProperties is false and no properties are declared', () => {
    expect(paths({ type: 'object', additionalProperties: false }, { a: 1, b: 2 })).toEqual(['/a', '/b']);
    expect(validate({ type: 'object', additionalProperties: false }, {})).toEqual([]);
  });

  it('checks the declared properties and reports their problems at their pointer', () => {
    expect(validate(person, { name: 7, age: 1.5 })).toEqual([
      { path: '/name', code: 'type', params: { type: 'string' } },
      { path: '/age', code: 'type', params: { type: 'integer' } },
    ]);
  });

  it('builds JSON Pointers through nested objects and arrays', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        address: {
          type: 'object',
          properties: { lines: { type: 'array', items: { type: 'string' } } },
          required: ['city'],
        },
      },
    };
    expect(paths(schema, { address: { lines: ['ok', 3, 'ok', false] } })).toEqual([
      '/address/city',
      '/address/lines/1',
      '/address/lines/3',
    ]);
  });

  it('escapes ~ as ~0 and / as ~1 in pointers (~ first, so a literal "~1" key becomes "~01")', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        'a/b': { type: 'string' },
        'm~n': { type: 'string' },
        '~1': { type: 'string' },
        outer: { type: 'object', additionalProperties: false },
      },
    };
    expect(paths(schema, { 'a/b': 1, 'm~n': 1, '~1': 1, outer: { 'x/~y': 1 } })).toEqual(['/a~1b', '/m~0n', '/~01', '/outer/x~1~0y']);
  });
});

describe('validateAgainstSchema: arrays', () => {
  const list: JsonSchema = { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 3 };

  it('accepts arrays within the bounds whose items conform', () => {
    expect(validate(list, [0])).toEqual([]);
    expect(validate(list, [1, 2, 3])).toEqual([]);
  });

  it('enforces minItems and maxItems', () => {
    expect(validate(list, [])).toEqual([{ path: '', code: 'minItems', params: { limit: 1 } }]);
    expect(validate(list, [1, 2, 3, 4])).toEqual([{ path: '', code: 'maxItems', params: { limit: 3 } }]);
  });

  it('checks each item at its index', () => {
    expect(validate(list, [1, -1, 'x'])).toEqual([
      { path: '/1', code: 'minimum', params: { limit: 0 } },
      { path: '/2', code: 'type', params: { type: 'integer' } },
    ]);
  });
});

describe('validateAgainstSchema: enum and const', () => {
  it('accepts only a listed enum value, comparing JSON values', () => {
    const schema: JsonSchema = { enum: ['red', 2, null, { a: [1] }] };
    for (const value of ['red', 2, null, { a: [1] }]) expect(validate(schema, value)).toEqual([]);
    for (const value of ['blue', '2', 3, { a: [2] }, [], false]) {
      expect(validate(schema, value)).toEqual([{ path: '', code: 'enum' }]);
    }
  });

  it('accepts only the const value', () => {
    expect(validate({ const: true }, true)).toEqual([]);
    expect(validate({ const: true }, 'true')).toEqual([{ path: '', code: 'const' }]);
    expect(validate({ const: { k: 'v' } }, { k: 'v' })).toEqual([]);
    expect(validate({ const: { k: 'v' } }, { k: 'w' })).toHaveLength(1);
  });

  it('treats const: null as a constraint (only null passes)', () => {
    expect(validate({ const: null }, null)).toEqual([]);
    expect(validate({ const: null }, 0)).toHaveLength(1);
  });
});

describe('validateAgainstSchema: strings', () => {
  it('applies pattern as an unanchored search', () => {
    expect(validate({ type: 'string', pattern: 'b' }, 'abc')).toEqual([]);
    expect(validate({ type: 'string', pattern: '^b' }, 'abc')).toEqual([
      { path: '', code: 'pattern' },
    ]);
  });

  it('applies pattern with Unicode semantics (one astral character is one ".")', () => {
    expect(validate({ type: 'string', pattern: '^.$' }, '😀')).toEqual([]);
  });

  it('counts minLength and maxLength in code points, not UTF-16 units', () => {
    const twoEmoji = '😀😀'; // 2 code points, 4 UTF-16 units
    expect(twoEmoji.length).toBe(4);
    expect(validate({ type: 'string', maxLength: 2 }, twoEmoji)).toEqual([]);
    expect(validate({ type: 'string', minLength: 3 }, twoEmoji)).toEqual([
      { path: '', code: 'minLength', params: { limit: 3 } },
    ]);
    expect(validate({ type: 'string', maxLength: 1 }, twoEmoji)).toEqual([
      { path: '', code: 'maxLength', params: { limit: 1 } },
    ]);
  });

  it('has inclusive length bounds', () => {
    const schema: JsonSchema = { type: 'string', minLength: 2, maxLength: 3 };
    expect(validate(schema, 'ab')).toEqual([]);
    expect(validate(schema, 'abc')).toEqual([]);
    expect(validate(schema, 'a')).toHaveLength(1);
    expect(validate(schema, 'abcd')).toHaveLength(1);
  });

  it('ignores string keywords for non-strings when no type is given', () => {
    expect(validate({ minLength: 3, pattern: '^x' }, 5)).toEqual([]);
  });
});

describe('validateAgainstSchema: numbers', () => {
  const schema: JsonSchema = { type: 'number', minimum: 1.5, maximum: 10 };

  it('has inclusive bounds', () => {
    expect(validate(schema, 1.5)).toEqual([]);
    expect(validate(schema, 10)).toEqual([]);
    expect(validate(schema, 1.4)).toEqual([{ path: '', code: 'minimum', params: { limit: 1.5 } }]);
    expect(validate(schema, 10.01)).toEqual([{ path: '', code: 'maximum', params: { limit: 10 } }]);
  });
});

describe('validateAgainstSchema: problems leave the submitted value out', () => {
  it('reports every problem without quoting any submitted value', () => {
    const schema: JsonSchema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 5, pattern: '^[0-9]+$' },
        title: { enum: ['Mr', 'Ms'] },
        accepted: { const: true },
        age: { type: 'integer' },
        tags: { type: 'array', items: { type: 'number' } },
      },
      required: ['name', 'missing'],
      additionalProperties: false,
    };
    const problems = validate(schema, {
      name: DISTINCTIVE,
      title: DISTINCTIVE,
      accepted: DISTINCTIVE,
      age: DISTINCTIVE,
      tags: [DISTINCTIVE],
      extra: DISTINCTIVE,
    });
    // name: maxLength + pattern; title: enum; accepted: const; age: type; tags/0: type; extra; missing.
    expect(problems.map((p) => p.path).sort()).toEqual(
      ['/missing', '/name', '/name', '/title', '/accepted', '/age', '/tags/0', '/extra'].sort(),
    );
    expect(JSON.stringify(problems)).not.toContain('Zebediah');
    expect(JSON.stringify(problems)).not.toContain('Quixotefield');
  });
});

describe('lintSchema', () => {
  it('accepts a schema using every supported keyword', () => {
    expect(
      lintSchema({
        type: 'object',
        title: 'T',
        description: 'D',
        properties: {
          s: { type: 'string', minLength: 1, maxLength: 2, pattern: '^[a-z]+$', enum: ['a'], const: 'a' },
          n: { type: 'integer', minimum: 0, maximum: 9 },
          l: { type: 'array', items: { type: 'boolean' }, minItems: 0, maxItems: 4 },
        },
        required: ['s'],
        additionalProperties: false,
      }),
    ).toEqual([]);
  });

  it('accepts the sample flows\' stage schemas', () => {
    expect(lintSchema({ type: 'object', additionalProperties: false })).toEqual([]);
  });

  it.each(['anyOf', 'allOf', '$ref', 'patternProperties', 'exclusiveMinimum', 'formatMinimum'])('refuses the unknown keyword %s', (keyword) => {
    expect(lintSchema({ type: 'string', [keyword]: 'x' })).toEqual([`schema uses unsupported keyword "${keyword}"`]);
  });

  it('refuses unknown keywords inside properties and items, naming where', () => {
    expect(lintSchema({ type: 'object', properties: { email: { type: 'string', anyOf: [] } } })).toEqual([
      'schema.properties.email uses unsupported keyword "anyOf"',
    ]);
    expect(lintSchema({ type: 'array', items: { allOf: [] } })).toEqual(['schema.items uses unsupported keyword "allOf"']);
  });

  it.each([['float'], ['String'], [['string', 'null']], [7]])('refuses the type %p', (type) => {
    const problems = lintSchema({ type });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('schema.type must be one of');
  });

  it('refuses an invalid regular expression', () => {
    expect(lintSchema({ type: 'string', pattern: '([a-z]' })).toEqual(['schema.pattern is not a valid regular expression']);
  });

  it('checks patterns with the same Unicode flag the validator uses', () => {
    // "\a" is a harmless identity escape without the u flag but a syntax error with it.
    expect(lintSchema({ pattern: '\\a' })).toEqual(['schema.pattern is not a valid regular expression']);
  });

  it.each([['name'], [[1, 'a']], [{ 0: 'a' }]])('refuses required = %p', (required) => {
    expect(lintSchema({ type: 'object', required })).toEqual(['schema.required must be a list of field names']);
  });

  it('refuses non-object schemas, properties and items', () => {
    expect(lintSchema('string')).toEqual(['schema must be an object']);
    expect(lintSchema(null)).toEqual(['schema must be an object']);
    expect(lintSchema([])).toEqual(['schema must be an object']);
    expect(lintSchema({ properties: [] })).toEqual(['schema.properties must be an object']);
    expect(lintSchema({ items: [{ type: 'string' }] })).toEqual(['schema.items must be an object']);
    expect(lintSchema({ properties: { a: true } })).toEqual(['schema.properties.a must be an object']);
  });

  it('reports every problem, not only the first', () => {
    expect(lintSchema({ type: 'text', format: 'x', pattern: '(', required: 'a' })).toHaveLength(4);
  });
});

describe('inherited property names are not schema properties', () => {
  const closed: JsonSchema = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false };

  test.each(['constructor', 'hasOwnProperty', 'toString'])('%s is refused as an extra field', (name) => {
    expect(validate(closed, { a: 'x', [name]: 'y' })).toEqual([{ path: `/${name}`, code: 'additionalProperties' }]);
  });

  test('a parsed __proto__ key is refused as an extra field', () => {
    const value = JSON.parse('{"a":"x","__proto__":{"polluted":true}}');
    expect(validate(closed, value)).toEqual([{ path: '/__proto__', code: 'additionalProperties' }]);
  });
});

describe('lintSchema checks keyword values', () => {
  test.each([
    [{ enum: 'abc' }, 'schema.enum must be a non-empty list'],
    [{ enum: [] }, 'schema.enum must be a non-empty list'],
    [{ additionalProperties: { type: 'string' } }, 'schema.additionalProperties must be true or false'],
    [{ minimum: 'abc' }, 'schema.minimum must be a number'],
    [{ minLength: '3' }, 'schema.minLength must be a whole number'],
    [{ maxItems: -1 }, 'schema.maxItems must be a whole number'],
    [{ pattern: 5 }, 'schema.pattern must be a string'],
    [{ title: 7 }, 'schema.title must be a string'],
  ])('%j is refused', (schema, message) => {
    expect(lintSchema(schema)).toEqual([message]);
  });
});
