/**
 * A small JSON Schema validator for stage inputs. It runs inside the workflow's update
 * validator, so it is synchronous, deterministic and free of code generation (its only clock is
 * the `now` it is given); flows may use only the keywords listed in SUPPORTED_KEYWORDS, and the
 * loader refuses any other. Every problem is found at once, each as a code with parameters and
 * no text: the api and the page word them (no language enters the workflow), and none carries
 * the submitted value (it may be personal data) or a pattern.
 */
import { ageAt, FORMATS, isEmailAddress, parseWireDate } from './formats';
import type { JsonSchema } from './types';

/** What a problem says was refused: the keyword of the rule, or `additionalProperties` for a field the schema does not name. */
export const PROBLEM_CODES = [
  'type',
  'required',
  'additionalProperties',
  'const',
  'enum',
  'oneOf',
  'pattern',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minAge',
  'maxAge',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface SchemaProblem {
  /** JSON Pointer to the offending value, '' for the root. */
  path: string;
  code: ProblemCode;
  /** What the rule asks for (its limit, type or format); never the submitted value. */
  params?: { limit?: number; type?: string; format?: string };
}

export interface ValidationContext {
  /** The time ages are computed at (ms since the epoch): the workflow's time, never the wall clock. */
  now: number;
}

export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'title',
  'description',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'oneOf',
  'pattern',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minAge',
  'maxAge',
]);

const TYPES = ['object', 'string', 'number', 'integer', 'boolean', 'array', 'null'];

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

type Report = (code: ProblemCode, params?: SchemaProblem['params']) => void;

function checkString(schema: JsonSchema, value: string, report: Report, context: ValidationContext): void {
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) report('minLength', { limit: schema.minLength });
  if (schema.maxLength !== undefined && length > schema.maxLength) report('maxLength', { limit: schema.maxLength });
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) report('pattern');
  if (schema.format === 'email' && !isEmailAddress(value)) report('format', { format: 'email' });
  if (schema.format === 'date') {
    const date = parseWireDate(value);
    if (!date) {
      report('format', { format: 'date' });
      return;
    }
    const age = ageAt(date, context.now);
    if (schema.minAge !== undefined && age < schema.minAge) report('minAge', { limit: schema.minAge });
    if (schema.maxAge !== undefined && age > schema.maxAge) report('maxAge', { limit: schema.maxAge });
  }
}

function checkNumber(schema: JsonSchema, value: number, report: Report): void {
  if (schema.minimum !== undefined && value < schema.minimum) report('minimum', { limit: schema.minimum });
  if (schema.maximum !== undefined && value > schema.maximum) report('maximum', { limit: schema.maximum });
}

function checkObject(schema: JsonSchema, object: Record<string, unknown>, path: string, problems: SchemaProblem[], context: ValidationContext): void {
  for (const name of schema.required ?? []) {
    if (!Object.prototype.hasOwnProperty.call(object, name)) problems.push({ path: pointer(path, name), code: 'required' });
  }
  for (const [name, item] of Object.entries(object)) {
    // Own properties only: `constructor` or `__proto__` must not find Object.prototype's members.
    const propertySchema = schema.properties && Object.hasOwn(schema.properties, name) ? schema.properties[name] : undefined;
    if (propertySchema) check(propertySchema, item, pointer(path, name), problems, context);
    else if (schema.additionalProperties === false) problems.push({ path: pointer(path, name), code: 'additionalProperties' });
  }
}

function check(schema: JsonSchema, value: unknown, path: string, problems: SchemaProblem[], context: ValidationContext): void {
  const report: Report = (code, params) => problems.push({ path, code, ...(params ? { params } : {}) });
  if (schema.type && !matchesType(value, schema.type)) {
    report('type', { type: schema.type });
    return;
  }
  if (schema.const !== undefined && !sameJson(schema.const, value)) report('const');
  if (schema.enum && !schema.enum.some((option) => sameJson(option, value))) report('enum');
  if (schema.oneOf && !schema.oneOf.some((option) => sameJson(option.const, value))) report('oneOf');
  if (typeof value === 'string') checkString(schema, value, report, context);
  if (typeof value === 'number') checkNumber(schema, value, report);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) report('minItems', { limit: schema.minItems });
    if (schema.maxItems !== undefined && value.length > schema.maxItems) report('maxItems', { limit: schema.maxItems });
    if (schema.items) value.forEach((item, index) => check(schema.items!, item, pointer(path, index), problems, context));
  }
  if (typeOf(value) === 'object') checkObject(schema, value as Record<string, unknown>, path, problems, context);
}

/** Every problem of `value` against `schema`, in the order of the schema's rules; an empty list means valid. */
export function validateAgainstSchema(schema: JsonSchema, value: unknown, context: ValidationContext): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  check(schema, value, '', problems, context);
  return problems;
}

/** The highest age a date bound may name; a larger one is a typo, not a rule. */
const MAX_AGE_LIMIT = 200;

/** Problems of the keywords added to JSON Schema's subset: `format`, `minAge`/`maxAge` and `oneOf` of `{ const, title }`. */
function lintAdditions(node: Record<string, unknown>, where: string): string[] {
  const problems: string[] = [];
  if (node.format !== undefined) {
    if (!FORMATS.includes(node.format as never)) problems.push(`${where}.format must be one of ${FORMATS.join(', ')}`);
    else if (node.type !== 'string') problems.push(`${where}.format needs "type": "string"`);
  }
  for (const keyword of ['minAge', 'maxAge']) {
    const value = node[keyword];
    if (value === undefined) continue;
    if (!(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_AGE_LIMIT)) problems.push(`${where}.${keyword} must be a whole number of years from 0 to ${MAX_AGE_LIMIT}`);
    if (node.format !== 'date') problems.push(`${where}.${keyword} needs "format": "date"`);
  }
  if (typeof node.minAge === 'number' && typeof node.maxAge === 'number' && node.minAge > node.maxAge) problems.push(`${where}.minAge must not be above maxAge`);
  if (node.oneOf !== undefined) problems.push(...lintOneOf(node.oneOf, node.enum !== undefined, where));
  return problems;
}

function lintOneOf(oneOf: unknown, withEnum: boolean, where: string): string[] {
  if (!Array.isArray(oneOf) || oneOf.length === 0) return [`${where}.oneOf must be a non-empty list of { "const", "title" }`];
  const problems: string[] = withEnum ? [`${where} has both enum and oneOf: keep oneOf, whose options have titles`] : [];
  const seen = new Set<string>();
  oneOf.forEach((option, index) => {
    const at = `${where}.oneOf[${index}]`;
    if (typeOf(option) !== 'object') {
      problems.push(`${at} must be { "const", "title" }`);
      return;
    }
    const entry = option as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (key !== 'const' && key !== 'title') problems.push(`${at} has unsupported key "${key}" (only const and title)`);
    if (entry.const === undefined) problems.push(`${at} needs const`);
    if (typeof entry.title !== 'string' || entry.title.trim() === '') problems.push(`${at} needs a title (a non-empty string)`);
    const key = JSON.stringify(entry.const);
    if (seen.has(key)) problems.push(`${at} repeats the const of an earlier option`);
    seen.add(key);
  });
  return problems;
}

/** Problems of a schema itself (unsupported keywords, wrong shapes); used when loading flows. */
export function lintSchema(schema: unknown, path = ''): string[] {
  const where = path === '' ? 'schema' : `schema${path}`;
  if (typeOf(schema) !== 'object') return [`${where} must be an object`];
  const problems: string[] = [];
  const node = schema as Record<string, unknown>;
  for (const keyword of Object.keys(node)) {
    if (!SUPPORTED_KEYWORDS.has(keyword)) problems.push(`${where} uses unsupported keyword "${keyword}"`);
  }
  if (node.type !== undefined && !TYPES.includes(node.type as string)) {
    problems.push(`${where}.type must be one of ${TYPES.join(', ')}`);
  }
  for (const keyword of ['minLength', 'maxLength', 'minItems', 'maxItems']) {
    const value = node[keyword];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) problems.push(`${where}.${keyword} must be a whole number`);
  }
  for (const keyword of ['minimum', 'maximum']) {
    if (node[keyword] !== undefined && typeof node[keyword] !== 'number') problems.push(`${where}.${keyword} must be a number`);
  }
  for (const keyword of ['title', 'description']) {
    if (node[keyword] !== undefined && typeof node[keyword] !== 'string') problems.push(`${where}.${keyword} must be a string`);
  }
  if (node.enum !== undefined && !(Array.isArray(node.enum) && node.enum.length > 0)) problems.push(`${where}.enum must be a non-empty list`);
  if (node.additionalProperties !== undefined && typeof node.additionalProperties !== 'boolean') {
    problems.push(`${where}.additionalProperties must be true or false`);
  }
  if (node.pattern !== undefined && typeof node.pattern !== 'string') problems.push(`${where}.pattern must be a string`);
  else if (node.pattern !== undefined) {
    try {
      new RegExp(node.pattern as string, 'u');
    } catch {
      problems.push(`${where}.pattern is not a valid regular expression`);
    }
  }
  if (node.required !== undefined && !(Array.isArray(node.required) && node.required.every((r) => typeof r === 'string'))) {
    problems.push(`${where}.required must be a list of field names`);
  }
  problems.push(...lintAdditions(node, where));
  if (node.properties !== undefined) {
    if (typeOf(node.properties) !== 'object') problems.push(`${where}.properties must be an object`);
    else {
      for (const [name, child] of Object.entries(node.properties as Record<string, unknown>)) {
        problems.push(...lintSchema(child, `${path}.properties.${name}`));
      }
    }
  }
  if (node.items !== undefined) problems.push(...lintSchema(node.items, `${path}.items`));
  return problems;
}
