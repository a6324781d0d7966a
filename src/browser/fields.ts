/**
 * One form control per property of a stage's schema: yes/no radios for booleans, a choice for
 * `oneOf` (its titles as labels) and `enum`, day/month/year boxes for `format: "date"`, and an
 * input of the type the flow's hints or the format name (text, email, tel) with its autofill
 * token. The page checks nothing itself: the api, which runs the session's own validator,
 * answers every refusal, so the page can never accept what the session refuses.
 */
import { h } from './dom';
import type { FieldHints, FieldSchema } from './sdk';
import { S } from './page-strings';
import { labelFromName } from './strings';

export interface FieldView {
  name: string;
  label: string;
  /** What the error summary links to and focus goes to: the first input of the field. */
  control: HTMLElement;
  /** The inputs marked aria-invalid when the field is refused. */
  inputs: HTMLElement[];
  /** The element whose aria-describedby names the help text, and the error when there is one. */
  described: HTMLElement;
  describedBy: string[];
  error: HTMLElement;
  read(): unknown;
}

interface FieldParts {
  name: string;
  id: string;
  label: string;
  required: boolean;
  schema: FieldSchema;
  hints: FieldHints;
  help: HTMLElement | null;
  error: HTMLElement;
}

export type BuiltField = { view: FieldView; element: HTMLElement };

function idOf(name: string): string {
  return `field-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function labelText(label: string, required: boolean): Array<Node | string> {
  return required ? [label, ' ', h('span', { class: 'required' }, S.requiredMark)] : [label];
}

function describedBy(parts: FieldParts): string | undefined {
  return parts.help ? parts.help.id : undefined;
}

function view(parts: FieldParts, control: HTMLElement, inputs: HTMLElement[], described: HTMLElement, read: () => unknown): FieldView {
  return { name: parts.name, label: parts.label, control, inputs, described, describedBy: parts.help ? [parts.help.id] : [], error: parts.error, read };
}

function booleanField(parts: FieldParts): BuiltField {
  const option = (value: boolean, text: string) => {
    const input = h('input', { type: 'radio', name: parts.name, id: `${parts.id}-${value}`, value: String(value) });
    return { input, element: h('div', { class: 'choice' }, input, h('label', { for: input.id }, text)) };
  };
  const yes = option(true, S.yes);
  const no = option(false, S.no);
  const fieldset = h('fieldset', { id: parts.id, 'aria-describedby': describedBy(parts) }, h('legend', {}, ...labelText(parts.label, parts.required)), parts.help, parts.error, yes.element, no.element);
  const read = () => (yes.input.checked ? true : no.input.checked ? false : undefined);
  return { view: view(parts, yes.input, [yes.input, no.input], fieldset, read), element: fieldset };
}

function choiceField(parts: FieldParts): BuiltField {
  // oneOf options show their titles; enum values have no label but themselves.
  const options = parts.schema.oneOf ? parts.schema.oneOf.map((option) => ({ value: option.const, text: option.title })) : (parts.schema.enum ?? []).map((value) => ({ value, text: String(value) }));
  const select = h('select', { id: parts.id, name: parts.name, required: parts.required, autocomplete: parts.hints.autocomplete, 'aria-describedby': describedBy(parts) }, h('option', { value: '' }, S.chooseOne), ...options.map((option, index) => h('option', { value: String(index) }, option.text)));
  const read = () => (select.value === '' ? undefined : options[Number(select.value)].value);
  const element = h('div', { class: 'field' }, h('label', { for: parts.id }, ...labelText(parts.label, parts.required)), parts.help, parts.error, select);
  return { view: view(parts, select, [select], select, read), element };
}

/** Day, month and year boxes, sent as the wire form DD-MM-YYYY; a one-digit day or month gets its zero. */
function dateField(parts: FieldParts): BuiltField {
  const part = (key: 'day' | 'month' | 'year', text: string) => {
    const input = h('input', {
      type: 'text',
      id: `${parts.id}-${key}`,
      name: `${parts.name}-${key}`,
      class: `date-${key}`,
      inputmode: 'numeric',
      maxlength: key === 'year' ? '4' : '2',
      autocomplete: parts.hints.autocomplete === 'bday' ? `bday-${key}` : 'off',
    });
    return { input, element: h('div', { class: 'date-part' }, h('label', { for: input.id }, text), input) };
  };
  const [day, month, year] = [part('day', S.dateDay), part('month', S.dateMonth), part('year', S.dateYear)];
  const fieldset = h('fieldset', { id: parts.id, 'aria-describedby': describedBy(parts) }, h('legend', {}, ...labelText(parts.label, parts.required)), parts.help, parts.error, h('div', { class: 'date-input' }, day.element, month.element, year.element));
  const read = () => {
    const [d, m, y] = [day, month, year].map((p) => p.input.value.trim());
    if (d === '' && m === '' && y === '') return undefined;
    const two = (text: string) => (/^\d$/.test(text) ? `0${text}` : text);
    return `${two(d)}-${two(m)}-${y}`;
  };
  return { view: view(parts, day.input, [day.input, month.input, year.input], fieldset, read), element: fieldset };
}

function inputField(parts: FieldParts): BuiltField {
  const { schema, hints } = parts;
  const numeric = schema.type === 'number' || schema.type === 'integer';
  const type = hints.input === 'email' || hints.input === 'tel' ? hints.input : schema.format === 'email' ? 'email' : 'text';
  const input = h('input', {
    type,
    id: parts.id,
    name: parts.name,
    required: parts.required,
    inputmode: numeric ? (schema.type === 'integer' ? 'numeric' : 'decimal') : undefined,
    maxlength: schema.maxLength !== undefined ? String(schema.maxLength) : undefined,
    autocomplete: hints.autocomplete ?? 'off',
    spellcheck: type === 'text' ? undefined : 'false',
    'aria-describedby': describedBy(parts),
  });
  const read = () => {
    const text = input.value.trim();
    if (text === '') return undefined;
    // A number that does not parse is sent as typed: the api's answer names the field.
    return numeric && Number.isFinite(Number(text)) ? Number(text) : text;
  };
  const element = h('div', { class: 'field' }, h('label', { for: parts.id }, ...labelText(parts.label, parts.required)), parts.help, parts.error, input);
  return { view: view(parts, input, [input], input, read), element };
}

/** The control for one property, or null for what a form does not ask (arrays, nested objects). */
export function buildField(name: string, schema: FieldSchema, required: boolean, hints: FieldHints = {}): BuiltField | null {
  const id = idOf(name);
  const isDate = hints.input === 'date' || schema.format === 'date';
  const helpText = schema.description ?? (isDate ? S.dateHint : undefined);
  const parts: FieldParts = {
    name,
    id,
    label: schema.title ?? labelFromName(name),
    required,
    schema,
    hints,
    help: helpText ? h('p', { class: 'help', id: `${id}-help` }, helpText) : null,
    error: h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
  };
  if (schema.type === 'boolean') return booleanField(parts);
  if (schema.oneOf || Array.isArray(schema.enum)) return choiceField(parts);
  if (isDate) return dateField(parts);
  if (schema.type === 'string' || schema.type === 'number' || schema.type === 'integer' || schema.type === undefined) return inputField(parts);
  return null;
}
