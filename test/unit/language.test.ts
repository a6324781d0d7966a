import { chooseLanguage, parseAcceptLanguage } from '../../src/api/language';

describe('Accept-Language parsing', () => {
  it('orders ranges by q-value, ties in the order sent, and lower-cases them', () => {
    expect(parseAcceptLanguage('fr;q=0.5, HI-IN, en;q=0.8, de')).toEqual([
      { range: 'hi-in', q: 1 },
      { range: 'de', q: 1 },
      { range: 'en', q: 0.8 },
      { range: 'fr', q: 0.5 },
    ]);
  });

  it('skips malformed entries and q-values instead of refusing the header', () => {
    expect(parseAcceptLanguage('hi;q=2, en;q=abc, ;q=1, 12, ta;q=0.123, te;q=0.1234, *;q=0.1')).toEqual([
      { range: 'ta', q: 0.123 },
      { range: '*', q: 0.1 },
    ]);
    expect(parseAcceptLanguage(undefined)).toEqual([]);
    expect(parseAcceptLanguage('')).toEqual([]);
  });
});

describe('the language the api answers in', () => {
  it.each([
    ['hi', 'hi'],
    ['hi-IN,hi;q=0.9,en-US;q=0.8,en;q=0.7', 'hi'],
    ['en-GB,en;q=0.9,hi;q=0.8', 'en'],
    ['en;q=0.4, hi;q=0.6', 'hi'],
    ['fr, hi;q=0.3', 'hi'],
    ['fr, de', 'en'],
    ['hi;q=0, *', 'en'],
    ['en;q=0, *', 'hi'],
    ['*', 'en'],
    ['hi;q=0', 'en'],
    ['hi-Deva-IN', 'hi'],
    ['garbage;;;,,', 'en'],
    [undefined, 'en'],
  ])('%s -> %s', (header, lang) => {
    expect(chooseLanguage(header)).toBe(lang);
  });
});
