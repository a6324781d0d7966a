/**
 * A form generated from a stage's JSON Schema subset and the flow's hints for it (fields.ts
 * builds each control; consts are sent as they are). The api validates; the form shows its
 * answer the GOV.UK way: an error summary at the top, focused, linking to each refused field,
 * and each message at its field.
 */
import { h } from './dom';
import { buildField, type FieldView } from './fields';
import type { FieldError, FieldHints, FieldSchema } from './sdk';
import { S } from './page-strings';

export interface GeneratedForm {
  form: HTMLFormElement;
  summary: HTMLElement;
  read(): Record<string, unknown>;
  /** Shows every field the api refused (the first message of each at its field), or `message` alone when none is a field of this form. */
  showErrors(errors: readonly FieldError[], message: string): void;
  clearErrors(): void;
}

/** The property a JSON Pointer is about: its first segment, unescaped. */
function propertyOf(param: string): string {
  return (param.split('/')[1] ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
}

function markInvalid(field: FieldView, message: string): void {
  field.error.replaceChildren(h('span', { class: 'visually-hidden' }, S.errorPrefix, ' '), message);
  field.error.hidden = false;
  for (const input of field.inputs) input.setAttribute('aria-invalid', 'true');
  field.described.setAttribute('aria-describedby', [...field.describedBy, field.error.id].join(' '));
}

function clearField(field: FieldView): void {
  field.error.hidden = true;
  field.error.replaceChildren();
  for (const input of field.inputs) input.removeAttribute('aria-invalid');
  if (field.describedBy.length > 0) field.described.setAttribute('aria-describedby', field.describedBy.join(' '));
  else field.described.removeAttribute('aria-describedby');
}

/** A summary link moves focus to its field, with the field's label in view (not just the input). */
function summaryLink(field: FieldView, message: string): HTMLElement {
  const link = h('a', { href: `#${field.control.id}` }, message);
  link.addEventListener('click', (event) => {
    event.preventDefault();
    field.control.focus();
    (field.control.closest('fieldset, .field') ?? field.control).scrollIntoView({ block: 'start' });
  });
  return h('li', {}, link);
}

export function generateForm(schema: FieldSchema | undefined, hints: Record<string, FieldHints> | undefined, submitLabel: string, onSubmit: (form: GeneratedForm) => Promise<void>): GeneratedForm {
  const properties = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const fields: FieldView[] = [];
  const constants: Record<string, unknown> = {};
  const summaryTitle = h('h2', { id: 'error-summary-title' }, S.errorSummaryHeading);
  const summaryList = h('ul', {});
  const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', 'aria-labelledby': summaryTitle.id, hidden: true }, summaryTitle, summaryList);
  const form = h('form', { novalidate: true }, summary);
  for (const [name, property] of Object.entries(properties)) {
    if (property.const !== undefined) {
      constants[name] = property.const;
      continue;
    }
    const field = buildField(name, property, required.has(name), hints && Object.hasOwn(hints, name) ? hints[name] : {});
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
      summaryList.replaceChildren();
      for (const field of fields) clearField(field);
    },
    showErrors(errors, message) {
      generated.clearErrors();
      const shown = new Set<FieldView>();
      for (const error of errors) {
        const field = fields.find((f) => f.name === propertyOf(error.param));
        // One message a field, the first: the one to fix first.
        if (!field || shown.has(field)) continue;
        shown.add(field);
        markInvalid(field, error.message);
        summaryList.append(summaryLink(field, error.message));
      }
      if (shown.size === 0) summaryList.append(h('li', {}, message));
      summary.hidden = false;
      summary.focus();
    },
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void onSubmit(generated);
  });
  return generated;
}
