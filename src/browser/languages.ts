/**
 * The languages the hosted page and the api's words come in: English, the fallback, and each
 * translation of strings.ts. Adding a language is one file like strings-hi.ts and one line here.
 */
import { FIELD_PROBLEMS, STRINGS, type FieldProblems, type Strings } from './strings';
import { FIELD_PROBLEMS_HI, STRINGS_HI } from './strings-hi';

export interface PageLanguage {
  strings: Strings;
  problems: FieldProblems;
}

export const PAGE_LANGUAGES = {
  en: { strings: STRINGS, problems: FIELD_PROBLEMS },
  hi: { strings: STRINGS_HI, problems: FIELD_PROBLEMS_HI },
} as const satisfies Record<string, PageLanguage>;

export type Language = keyof typeof PAGE_LANGUAGES;
export const DEFAULT_LANGUAGE: Language = 'en';
export const LANGUAGES = Object.keys(PAGE_LANGUAGES) as Language[];

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(PAGE_LANGUAGES, value);
}

/** The strings of a language; English for any other value. */
export function stringsFor(lang: unknown): PageLanguage {
  return isLanguage(lang) ? PAGE_LANGUAGES[lang] : PAGE_LANGUAGES[DEFAULT_LANGUAGE];
}
