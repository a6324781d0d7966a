/**
 * A flow's translations. Each stage may carry `meta.translations.<lang>`: a flat map from the
 * key of each of the stage's English strings to its text in that language. The keys:
 *   title, description                     the stage's heading and help text
 *   <property>.title, <property>.description   a field's label and hint (meta.schema)
 *   <property>.oneOf.<const>                  an option's label
 *   <property>.messages.<rule>                the flow's message for a refused rule (meta.fields)
 *   providerErrors.<code>                     the flow's message for a provider error (meta.providerErrors)
 * A language any stage declares must cover every key of every stage: the loader names what
 * is missing. The api picks the table of the language it answers in; the workflow only carries
 * the tables as part of the flow, never the language chosen.
 */
import type { JsonSchema, StageMeta } from './core/types';
import { isObject } from '../util/json';

/** A BCP 47 tag as flows and Accept-Language use it: `hi`, `en-GB`. */
export const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
/** Provider error codes and failure types a flow may word: `ProviderResultPending`, `E_INVALID_IFSC`. */
export const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

export type TranslationTable = Record<string, string>;

/** The stage parts that hold text, as the workflow's prompt and the loader both see them. */
export interface TextParts {
  title?: string;
  description?: string;
  schema?: JsonSchema;
  fields?: StageMeta['fields'];
  providerErrors?: Record<string, string>;
}

/** Every English string of a stage, by its translation key. */
export function translatableStrings(stage: TextParts): TranslationTable {
  const strings: TranslationTable = {};
  if (stage.title) strings.title = stage.title;
  if (stage.description) strings.description = stage.description;
  for (const [name, property] of Object.entries(stage.schema?.properties ?? {})) {
    if (property.title) strings[`${name}.title`] = property.title;
    if (property.description) strings[`${name}.description`] = property.description;
    for (const option of property.oneOf ?? []) strings[`${name}.oneOf.${String(option.const)}`] = option.title;
  }
  for (const [name, field] of Object.entries(stage.fields ?? {})) {
    for (const [rule, text] of Object.entries(field.messages ?? {})) if (text) strings[`${name}.messages.${rule}`] = text;
  }
  for (const [code, text] of Object.entries(stage.providerErrors ?? {})) strings[`providerErrors.${code}`] = text;
  return strings;
}

/** The stage's text parts with each string the table has replaced; absent keys stay English. */
export function translateParts<T extends TextParts>(stage: T, table: TranslationTable | undefined): T {
  if (!table) return stage;
  const pick = (key: string, english: string | undefined) => (english !== undefined && Object.hasOwn(table, key) ? table[key] : english);
  const out: T = { ...stage };
  if (stage.title !== undefined) out.title = pick('title', stage.title);
  if (stage.description !== undefined) out.description = pick('description', stage.description);
  if (stage.schema?.properties) {
    const properties = Object.fromEntries(
      Object.entries(stage.schema.properties).map(([name, property]) => {
        const copy: JsonSchema = { ...property };
        if (property.title !== undefined) copy.title = pick(`${name}.title`, property.title);
        if (property.description !== undefined) copy.description = pick(`${name}.description`, property.description);
        if (property.oneOf) copy.oneOf = property.oneOf.map((option) => ({ ...option, title: pick(`${name}.oneOf.${String(option.const)}`, option.title) ?? option.title }));
        return [name, copy];
      }),
    );
    out.schema = { ...stage.schema, properties };
  }
  if (stage.fields) {
    out.fields = Object.fromEntries(
      Object.entries(stage.fields).map(([name, field]) => {
        const messages = field.messages && Object.fromEntries(Object.entries(field.messages).map(([rule, text]) => [rule, pick(`${name}.messages.${rule}`, text)]));
        return [name, messages ? { ...field, messages } : field];
      }),
    );
  }
  if (stage.providerErrors) {
    out.providerErrors = Object.fromEntries(Object.entries(stage.providerErrors).map(([code, text]) => [code, pick(`providerErrors.${code}`, text) ?? text]));
  }
  return out;
}

function providerErrorsProblems(errors: unknown, where: string): string[] {
  if (errors === undefined) return [];
  if (!isObject(errors)) return [`${where} meta.providerErrors must be an object of provider code: message`];
  return Object.entries(errors).flatMap(([code, text]) => [
    ...(ERROR_CODE.test(code) ? [] : [`${where} meta.providerErrors "${code}" is not a provider code (letters, digits, _ . -)`]),
    ...(typeof text === 'string' && text.trim() !== '' ? [] : [`${where} meta.providerErrors.${code} must be a non-empty string`]),
  ]);
}

function tableProblems(table: unknown, source: TranslationTable, where: string): string[] {
  if (!isObject(table)) return [`${where} must be an object of key: text`];
  const problems: string[] = [];
  const missing = Object.keys(source).filter((key) => !Object.hasOwn(table, key));
  if (missing.length > 0) problems.push(`${where} lacks ${missing.map((key) => `"${key}"`).join(', ')}`);
  for (const [key, text] of Object.entries(table)) {
    if (!Object.hasOwn(source, key)) problems.push(`${where} has "${key}", which the stage has no English string for`);
    else if (typeof text !== 'string' || text.trim() === '') problems.push(`${where}.${key} must be a non-empty string`);
  }
  return problems;
}

/**
 * Every problem of a machine's translations and provider error messages: a language one stage
 * declares must be complete in every stage, with no key the stage does not have.
 */
export function translationProblems(stages: Array<{ name: string; meta: StageMeta }>): string[] {
  const problems: string[] = [];
  const languages = new Set<string>();
  for (const { name, meta } of stages) {
    problems.push(...providerErrorsProblems(meta.providerErrors, `state "${name}"`));
    if (meta.translations === undefined) continue;
    if (!isObject(meta.translations)) problems.push(`state "${name}" meta.translations must be an object of language: table`);
    else for (const lang of Object.keys(meta.translations)) languages.add(lang);
  }
  for (const lang of languages) {
    if (!LANGUAGE_TAG.test(lang)) {
      problems.push(`meta.translations "${lang}" is not a language tag (like hi or en-GB)`);
      continue;
    }
    for (const { name, meta } of stages) {
      const source = isObject(meta.providerErrors) ? translatableStrings(meta) : translatableStrings({ ...meta, providerErrors: undefined });
      const tables = isObject(meta.translations) ? meta.translations : {};
      const where = `state "${name}" meta.translations.${lang}`;
      if (!Object.hasOwn(tables, lang)) {
        if (Object.keys(source).length > 0) problems.push(`${where} is missing (the flow declares ${lang}): it lacks ${Object.keys(source).map((key) => `"${key}"`).join(', ')}`);
        continue;
      }
      problems.push(...tableProblems(tables[lang], source, where));
    }
  }
  return problems;
}
