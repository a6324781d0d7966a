import { LANGUAGES, PAGE_LANGUAGES } from '../../src/browser/languages';
import { FIELD_PROBLEMS, STRINGS } from '../../src/browser/strings';

const wording = { label: 'Full name', kind: 'text' as const, params: { limit: 3, type: 'number', format: 'date' } };

describe('the hosted page in every language', () => {
  it('has English and Hindi', () => {
    expect(LANGUAGES).toEqual(['en', 'hi']);
  });

  it.each(LANGUAGES.filter((lang) => lang !== 'en'))('%s has an entry for every page string and every field problem, none empty', (lang) => {
    const { strings, problems } = PAGE_LANGUAGES[lang];
    // A key added to strings.ts without its translation is named here (and fails to compile).
    expect(Object.keys(strings).filter((key) => !Object.hasOwn(STRINGS, key))).toEqual([]);
    expect(Object.keys(STRINGS).filter((key) => !Object.hasOwn(strings, key))).toEqual([]);
    expect(Object.keys(FIELD_PROBLEMS).filter((key) => !Object.hasOwn(problems, key))).toEqual([]);
    expect(strings.lang).toBe(lang);
    for (const [key, value] of Object.entries(strings)) {
      if (typeof value === 'string') expect([key, value.trim()]).not.toEqual([key, '']);
      if (typeof value === 'object') expect(Object.keys(value).sort()).toEqual(Object.keys(STRINGS[key as 'statusNames']).sort());
    }
    for (const code of Object.keys(FIELD_PROBLEMS) as Array<keyof typeof FIELD_PROBLEMS>) expect(problems[code](wording)).toContain('Full name');
  });

  it('Hindi texts are in Devanagari, not English left in place', () => {
    const { strings } = PAGE_LANGUAGES.hi;
    const untranslated = Object.entries(strings).filter(([key, value]) => typeof value === 'string' && key !== 'lang' && !/[\u0900-\u097F]/.test(value));
    expect(untranslated).toEqual([]);
    expect(strings.waitStatus('x')).toMatch(/[\u0900-\u097F]/);
  });
});
