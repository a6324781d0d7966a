/**
 * A small JSON Schema validator for stage inputs. It runs inside the workflow's update
 * validator, so it is synchronous, deterministic and free of code generation; flows may use
 * only the keywords listed in SUPPORTED_KEYWORDS, and the loader refuses any other.
 * Messages name the field and the rule, never the submitted value (it may be personal data).
 */
import type { JsonSchema } from './types';

export interface SchemaProblem {
  /** JSON Pointer to the offending value, '' for the root. */
  path: string;
  message: string;
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
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
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

function check(schema: JsonSchema, value: unknown, path: string, problems: SchemaProblem[]): void {
  const where = path === '' ? 'input' : path;
  if (schema.type && !matchesType(value, schema.type)) {
    problems.push({ path, message: `${where} must be of type ${schema.type}` });
    return;
  }
  if (schema.const !== undefined && !sameJson(schema.const, value)) {
    problems.push({ path, message: `${where} must equal ${JSON.stringify(schema.const)}` });
  }
  if (schema.enum && !schema.enum.some((option) => sameJson(option, value))) {
    problems.push({ path, message: `${where} must be one of ${JSON.stringify(schema.enum)}` });
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < schema.minLength) {
      problems.push({ path, message: `${where} must have at least ${schema.minLength} characters` });
    }
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) {
      problems.push({ path, message: `${where} must have at most ${schema.maxLength} characters` });
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      problems.push({ path, message: `${where} must match the pattern ${schema.pattern}` });
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) {
      problems.push({ path, message: `${where} must be at least ${schema.minimum}` });
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      problems.push({ path, message: `${where} must be at most ${schema.maximum}` });
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      problems.push({ path, message: `${where} must have at least ${schema.minItems} items` });
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      problems.push({ path, message: `${where} must have at most ${schema.maxItems} items` });
    }
    if (schema.items) value.forEach((item, index) => check(schema.items!, item, pointer(path, index), problems));
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(object, name)) {
        problems.push({ path: pointer(path, name), message: `${pointer(path, name)} is required` });
      }
    }
    for (const [name, item] of Object.entries(object)) {
      // Own properties only: `constructor` or `__proto__` must not find Object.prototype's members.
      const propertySchema = schema.properties && Object.hasOwn(schema.properties, name) ? schema.properties[name] : undefined;
      if (propertySchema) check(propertySchema, item, pointer(path, name), problems);
      else if (schema.additionalProperties === false) {
        problems.push({ path: pointer(path, name), message: `${pointer(path, name)} is not an allowed field` });
      }
    }
  }
}

/** Problems of `value` against `schema`; an empty list means valid. */
export function validateAgainstSchema(schema: JsonSchema, value: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  check(schema, value, '', problems);
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
