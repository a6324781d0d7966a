/**
 * Refused step data in plain language: the session's update validator refuses with problem
 * codes (no language enters the workflow), and this turns each into the text the hosted page
 * and API clients show, from the strings in src/browser/strings.ts, or from the flow's own
 * message for that property and rule (`meta.fields.<property>.messages.<rule>`).
 */
import { stringsFor, type Language } from '../browser/languages';
import { labelFromName, type FieldKind, type ProblemWording } from '../browser/strings';
import type { InputProblems } from '../contract/session';
import type { ProblemCode, SchemaProblem } from '../flows/core/schema';
import type { FieldMeta, JsonSchema } from '../flows/core/types';
import { translateParts } from '../flows/translations';

/** One refused field of a step, as the device API answers it (`errors` of invalid_data). */
export interface FieldError {
  /** The value refused, as a JSON Pointer into the step's `data`. */
  param: string;
  /** The rule refused: the schema keyword (`required`, `format`, `minAge`...). */
  rule: ProblemCode;
  message: string;
  /** What the rule asks for, for clients that word it themselves. */
  params?: SchemaProblem['params'];
}

/** Every code has its default wording in every language: this fails to compile when a code is added without one. */
const wording = (lang: Language): Record<ProblemCode, (wording: ProblemWording) => string> => stringsFor(lang).problems;

/** The stage property a pointer is about (its first segment, unescaped); '' for the data as a whole. */
function propertyOf(path: string): string {
  const first = path.split('/')[1] ?? '';
  return first.replace(/~1/g, '/').replace(/~0/g, '~');
}

function kindOf(schema: JsonSchema | undefined, field: FieldMeta | undefined): FieldKind {
  if (field?.input) return field.input;
  if (schema?.format) return schema.format;
  if (schema?.oneOf || schema?.enum) return 'choice';
  if (schema?.type === 'boolean') return 'boolean';
  if (schema?.type === 'number' || schema?.type === 'integer') return 'number';
  return 'text';
}

/** The text for each problem of a refused step, in the validator's order, in `lang` (the flow's translation, else English). */
export function fieldErrors(details: InputProblems, lang: Language): FieldError[] {
  const { problems } = details;
  const { schema, fields } = translateParts({ schema: details.schema, fields: details.fields }, details.translations?.[lang]);
  const { strings } = stringsFor(lang);
  return problems.map((problem) => {
    const name = propertyOf(problem.path);
    const properties = schema?.properties ?? {};
    const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
    const field = fields && Object.hasOwn(fields, name) ? fields[name] : undefined;
    const own = field?.messages?.[problem.code];
    const label = property?.title ?? (name === '' ? strings.answersLabel : labelFromName(name));
    const message = own ?? wording(lang)[problem.code]({ label, kind: kindOf(property, field), params: problem.params ?? {} });
    return { param: problem.path, rule: problem.code, message, ...(problem.params ? { params: problem.params } : {}) };
  });
}
