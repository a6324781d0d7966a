/**
 * A form generated from a stage's JSON Schema subset: one control per property (text, number,
 * yes/no, a choice for enums; consts are sent as they are), labelled from `title`, helped by
 * `description`. The api validates; the form only shows its answer beside the field it names.
 */
import { h } from './dom';
import type { FieldSchema } from './sdk';
import { STRINGS as S } from './strings';

interface FieldView {
  name: string;
  schema: FieldSchema;
  label: string;
  /** The element focused and marked invalid, and the one errors are read out with. */
  control: HTMLElement;
  error: HTMLElement;
  describedBy: string[];
  read(): unknown;
}

export interface GeneratedForm {
  form: HTMLFormElement;
  summary: HTMLElement;
  read(): Record<string, unknown>;
  /** Shows the api's message at the field `param` (a JSON Pointer) names, or in the summary. */
  showError(param: string | undefined, message: string): void;
  clearErrors(): void;
}

/** A property name as a fallback label: birthDate -> Birth date. */
function labelOf(name: string, schema: FieldSchema): string {
  if (schema.title) return schema.title;
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function idOf(name: string): string {
  return `field-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function labelText(label: string, required: boolean): Array<Node | string> {
  return required ? [label, ' ', h('span', { class: 'required' }, S.requiredMark)] : [label];
}

function fieldOf(name: string, schema: FieldSchema, required: boolean): { view: FieldView; element: HTMLElement } | null {
  const id = idOf(name);
  const label = labelOf(name, schema);
  const help = schema.description ? h('p', { class: 'help', id: `${id}-help` }, schema.description) : null;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const describedBy = help ? [help.id] : [];
  const base = { name, schema, label, error, describedBy };

  if (schema.type === 'boolean') {
    const option = (value: boolean, text: string) => {
      const input = h('input', { type: 'radio', name, id: `${id}-${value}`, value: String(value) });
      return { input, element: h('div', { class: 'choice' }, input, h('label', { for: input.id }, text)) };
    };
    const yes = option(true, S.yes);
    const no = option(false, S.no);
    const fieldset = h('fieldset', { id, 'aria-describedby': describedBy.join(' ') || undefined }, h('legend', {}, ...labelText(label, required)), help, yes.element, no.element, error);
    const read = () => (yes.input.checked ? true : no.input.checked ? false : undefined);
    return { view: { ...base, control: fieldset, read }, element: fieldset };
  }

  if (Array.isArray(schema.enum)) {
    const options = schema.enum;
    const select = h('select', { id, name, required, 'aria-describedby': describedBy.join(' ') || undefined }, h('option', { value: '' }, S.chooseOne), ...options.map((value, index) => h('option', { value: String(index) }, String(value))));
    const read = () => (select.value === '' ? undefined : options[Number(select.value)]);
    return { view: { ...base, control: select, read }, element: h('div', { class: 'field' }, h('label', { for: id }, ...labelText(label, required)), help, select, error) };
  }

  if (schema.type === 'string' || schema.type === 'number' || schema.type === 'integer' || schema.type === undefined) {
    const numeric = schema.type === 'number' || schema.type === 'integer';
    const input = h('input', {
      type: 'text',
      id,
      name,
      required,
      inputmode: numeric ? (schema.type === 'integer' ? 'numeric' : 'decimal') : undefined,
      maxlength: schema.maxLength !== undefined ? String(schema.maxLength) : undefined,
      autocomplete: 'off',
      'aria-describedby': describedBy.join(' ') || undefined,
    });
    const read = () => {
      const text = input.value.trim();
      if (text === '') return undefined;
      // A number that does not parse is sent as typed: the api's answer names the field.
      return numeric && text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    };
    return { view: { ...base, control: input, read }, element: h('div', { class: 'field' }, h('label', { for: id }, ...labelText(label, required)), help, input, error) };
  }
  return null; // arrays, nested objects: not asked in a form
}

export function generateForm(schema: FieldSchema | undefined, submitLabel: string, onSubmit: (form: GeneratedForm) => Promise<void>): GeneratedForm {
  const properties = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const fields: FieldView[] = [];
  const constants: Record<string, unknown> = {};
  const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true });
  const form = h('form', { novalidate: true }, summary);
  for (const [name, property] of Object.entries(properties)) {
    if (property.const !== undefined) {
      constants[name] = property.const;
      continue;
    }
    const field = fieldOf(name, property, required.has(name));
    if (!field) continue;
    fields.push(field.view);
    form.append(field.element);
  }
  form.append(h('button', { type: 'submit', class: 'primary' }, submitLabel));

  const generated: GeneratedForm = {
    form,
    summary,
    read() {
      const data: Record<string, unknown> = { ...constants };
      for (const field of fields) {
        const value = field.read();
        if (value !== undefined) data[field.name] = value;
      }
      return data;
    },
    clearErrors() {
      summary.hidden = true;
      summary.replaceChildren();
      for (const field of fields) {
        field.error.hidden = true;
        field.error.textContent = '';
        field.control.removeAttribute('aria-invalid');
        if (field.describedBy.length > 0) field.control.setAttribute('aria-describedby', field.describedBy.join(' '));
        else field.control.removeAttribute('aria-describedby');
      }
    },
    showError(param, message) {
      generated.clearErrors();
      const name = param?.split('/')[1]?.replace(/~1/g, '/').replace(/~0/g, '~');
      const field = fields.find((f) => f.name === name);
      // The api's message names the field by its pointer; the user knows it by its label.
      const text = field ? messageFor(field, param!, message) : message;
      summary.append(h('h2', {}, S.fixErrorsHeading));
      if (field) {
        field.error.textContent = text;
        field.error.hidden = false;
        field.control.setAttribute('aria-invalid', 'true');
        field.control.setAttribute('aria-describedby', [...field.describedBy, field.error.id].join(' '));
        summary.append(h('p', {}, h('a', { href: `#${field.control.id}` }, field.label), ': ', text));
        summary.hidden = false;
        const focusable = field.control.tagName === 'FIELDSET' ? field.control.querySelector('input') : field.control;
        (focusable as HTMLElement | null)?.focus();
      } else {
        summary.append(h('p', {}, text));
        summary.hidden = false;
        summary.focus();
      }
    },
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void onSubmit(generated);
  });
  return generated;
}

/** The api's problems about this field, with its pointer replaced by the field's label. */
function messageFor(field: FieldView, param: string, message: string): string {
  const detail = message.includes(': ') ? message.slice(message.indexOf(': ') + 2) : message;
  const about = detail.split('; ').filter((problem) => problem.startsWith(param));
  const problems = about.length > 0 ? about : [detail];
  return `${S.fieldRejected} ${problems.map((problem) => problem.replace(param, field.label)).join('; ')}`;
}
