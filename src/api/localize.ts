/**
 * Stage definitions in the language the api answers in. The workflow's prompt carries the
 * flow's English strings and its translations (the flow's own text, never the chosen
 * language); this picks the table of the request's language, words a provider error from the
 * flow's messages, and removes what is internal, so every client reads the same words.
 */
import type { InputErrorPrompt, StepPrompt } from '../contract/session';
import { stringsFor, type Language } from '../browser/languages';
import { translateParts } from '../flows/translations';

/** A provider error a device may try again after, as the workflow reports it. */
interface PromptError {
  type?: string;
  code?: string;
  message?: string;
  [detail: string]: unknown;
}

/** The prompt's texts in `lang` (English where the flow has no table for it), its provider error worded, its internals removed. */
export function localizePrompt<P extends StepPrompt | undefined | null>(prompt: P, lang: Language): P {
  if (!prompt || typeof prompt !== 'object') return prompt;
  const { translations, providerErrors, inputError, ...rest } = prompt as StepPrompt;
  const translated = translateParts({ ...rest, providerErrors }, translations?.[lang]);
  const { providerErrors: words, ...out }: StepPrompt = translated;
  const error = out.error as PromptError | undefined;
  if (error && typeof error === 'object') {
    // The provider's own text cannot be translated: the flow's message for its code (or the
    // failure type) takes its place for people, the page's own words when the flow has none.
    const own = (error.code !== undefined && words?.[error.code]) || (error.type !== undefined && words?.[error.type]) || undefined;
    out.error = { ...error, text: own ?? stringsFor(lang).strings.providerRetryable };
  }
  if (inputError) out.fieldErrors = [routedFieldError(inputError, lang)];
  return out as P;
}

/**
 * The provider error the flow routed back to this form, as invalid_data words a refused field
 * (`param`, `rule`, `message`), so a page shows both alike: `rule` is `provider`, `code` the
 * provider's, `message` the flow's words in `lang` (English when the flow has no table for it).
 */
function routedFieldError(error: InputErrorPrompt, lang: Language) {
  const message = error.translations && Object.hasOwn(error.translations, lang) ? error.translations[lang] : error.text;
  return { param: `/${error.field.replace(/~/g, '~0').replace(/\//g, '~1')}`, rule: 'provider', code: error.code, message };
}

/** An answer whose `data` is a prompt, localized. */
export function localizeAnswer<A extends { data?: StepPrompt | null }>(answer: A, lang: Language): A {
  return answer.data ? { ...answer, data: localizePrompt(answer.data, lang) } : answer;
}
