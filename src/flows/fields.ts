/**
 * Checks of a stage's `meta.fields` (UI hints and messages per property, see FieldMeta), run
 * when flows are loaded: each names a property of the stage's schema, an input kind that fits
 * it, an autofill token browsers know, and messages only for rules the property has.
 */
import { PROBLEM_CODES } from './core/schema';
import { INPUT_KINDS, type JsonSchema } from './core/types';
import { isObject } from '../util/json';

/** HTML's autofill field names (WHATWG, "Autofill"), and `on`/`off`; section and shipping/billing prefixes are not taken. */
const AUTOCOMPLETE_TOKENS: ReadonlySet<string> = new Set([
  'on', 'off', 'name', 'honorific-prefix', 'given-name', 'additional-name', 'family-name', 'honorific-suffix', 'nickname',
  'username', 'new-password', 'current-password', 'one-time-code', 'organization-title', 'organization', 'street-address',
  'address-line1', 'address-line2', 'address-line3', 'address-level4', 'address-level3', 'address-level2', 'address-level1',
  'country', 'country-name', 'postal-code', 'cc-name', 'cc-given-name', 'cc-additional-name', 'cc-family-name', 'cc-number',
  'cc-exp', 'cc-exp-month', 'cc-exp-year', 'cc-csc', 'cc-type', 'transaction-currency', 'transaction-amount', 'language',
  'bday', 'bday-day', 'bday-month', 'bday-year', 'sex', 'url', 'photo', 'tel', 'tel-country-code', 'tel-national',
  'tel-area-code', 'tel-local', 'tel-extension', 'email', 'impp',
]);

/** The rules that can refuse a property: those its schema states, its type, and `required` when the stage requires it. */
function rulesOf(property: JsonSchema, required: boolean): Set<string> {
  const rules = new Set<string>(Object.keys(property).filter((key) => (PROBLEM_CODES as readonly string[]).includes(key)));
  if (required) rules.add('required');
  return rules;
}

function inputProblems(input: unknown, property: JsonSchema, where: string): string[] {
  if (input === undefined) return [];
  if (!INPUT_KINDS.includes(input as never)) return [`${where}.input must be one of ${INPUT_KINDS.join(', ')}`];
  if (property.type !== 'string') return [`${where}.input "${String(input)}" needs a property of "type": "string"`];
  if ((input === 'date') !== (property.format === 'date')) return [`${where}.input "date" and "format": "date" go together`];
  return [];
}

function messagesProblems(messages: unknown, rules: Set<string>, where: string): string[] {
  if (messages === undefined) return [];
  if (!isObject(messages)) return [`${where}.messages must be an object of rule: message`];
  const problems: string[] = [];
  for (const [rule, text] of Object.entries(messages)) {
    if (!rules.has(rule)) problems.push(`${where}.messages.${rule}: the property has no rule "${rule}" (it has ${[...rules].join(', ') || 'none'})`);
    if (typeof text !== 'string' || text.trim() === '') problems.push(`${where}.messages.${rule} must be a non-empty string`);
  }
  return problems;
}

/** Every problem of a stage's `meta.fields` against its schema, each naming where. */
export function fieldsProblems(fields: unknown, schema: JsonSchema | undefined): string[] {
  if (fields === undefined) return [];
  if (!isObject(fields)) return ['meta.fields must be an object keyed by property'];
  const properties = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const problems: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const where = `meta.fields.${name}`;
    const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
    if (!property) {
      problems.push(`${where} names no property of meta.schema`);
      continue;
    }
    if (!isObject(field)) {
      problems.push(`${where} must be an object (input, autocomplete, messages)`);
      continue;
    }
    for (const key of Object.keys(field)) {
      if (!['input', 'autocomplete', 'messages'].includes(key)) problems.push(`${where} has unsupported key "${key}"`);
    }
    problems.push(...inputProblems(field.input, property, where));
    if (field.autocomplete !== undefined && !AUTOCOMPLETE_TOKENS.has(field.autocomplete as string)) {
      problems.push(`${where}.autocomplete must be an HTML autofill token (for example name, email, tel, bday)`);
    }
    problems.push(...messagesProblems(field.messages, rulesOf(property, required.has(name)), where));
  }
  return problems;
}
