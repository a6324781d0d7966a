/**
 * The language the api answers in, from the request's Accept-Language (RFC 9110 §12.5.4, with
 * RFC 4647 lookup: `hi-IN` is answered in `hi`): the acceptable language with the highest
 * q-value that the page has strings for, English when none is. A malformed entry is skipped,
 * as HTTP asks of a header a server cannot use, never refused.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_LANGUAGE, isLanguage, LANGUAGES, type Language } from '../browser/languages';
import type { ApiContext } from './context';
import { cookieName, cookieValues, servedOverHttps, setCookie } from './cookies';

export interface LanguageRange {
  /** Lower case; `*` for any. */
  range: string;
  q: number;
}

const RANGE = /^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$/;
const QVALUE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

/** The header's language ranges, highest q first (ties keep their order); malformed entries left out. */
export function parseAcceptLanguage(header: string | undefined): LanguageRange[] {
  if (!header) return [];
  const ranges: Array<LanguageRange & { order: number }> = [];
  header.split(',').forEach((entry, order) => {
    const [rawRange, ...params] = entry.split(';').map((part) => part.trim());
    if (!rawRange || !RANGE.test(rawRange)) return;
    let q = 1;
    for (const param of params) {
      const [name, value = ''] = param.split('=').map((part) => part.trim());
      if (name.toLowerCase() !== 'q') continue;
      if (!QVALUE.test(value)) return;
      q = Number(value);
    }
    ranges.push({ range: rawRange.toLowerCase(), q, order });
  });
  return ranges.sort((a, b) => b.q - a.q || a.order - b.order).map(({ range, q }) => ({ range, q }));
}

/** The supported language a range names: itself, else its prefixes (`hi-latn-in`, `hi-latn`, `hi`). */
function lookup(range: string, refused: Set<string>): Language | undefined {
  if (range === '*') return LANGUAGES.find((lang) => !refused.has(lang));
  const parts = range.split('-');
  for (let n = parts.length; n > 0; n -= 1) {
    const candidate = parts.slice(0, n).join('-');
    if (isLanguage(candidate) && !refused.has(candidate)) return candidate;
  }
  return undefined;
}

/** The language to answer in for this Accept-Language. */
export function chooseLanguage(header: string | undefined): Language {
  const ranges = parseAcceptLanguage(header);
  // q=0 says "not this one": it also keeps `*` from choosing it.
  const refused = new Set(ranges.filter((r) => r.q === 0 && r.range !== '*').map((r) => r.range));
  for (const { range, q } of ranges) {
    if (q === 0) continue;
    const found = lookup(range, refused);
    if (found) return found;
  }
  return DEFAULT_LANGUAGE;
}

/** The request's language: its Accept-Language header, read once (a repeated header is joined, as HTTP allows). */
export function requestLanguage(headers: Record<string, string | string[] | undefined>): Language {
  const value = headers['accept-language'];
  return chooseLanguage(Array.isArray(value) ? value.join(',') : value);
}

/** The language of this request's answer, named in its Content-Language (and Vary, for caches). */
export function answerLanguage(request: { headers: Record<string, string | string[] | undefined> }, reply: { header(name: string, value: string): unknown }): Language {
  const lang = requestLanguage(request.headers);
  reply.header('content-language', lang);
  reply.header('vary', 'accept-language');
  return lang;
}

/** The cookie that keeps the switcher's choice for this browser (a day: longer than a session's link lives). */
export const LANGUAGE_COOKIE = 'sessionflow_lang';
const LANGUAGE_COOKIE_SECONDS = 24 * 60 * 60;

/**
 * The hosted page's language: the switcher's `?lang=` (kept in a cookie for the page's later
 * loads), else that cookie, else Accept-Language. A `lang` the page has no strings for is
 * ignored and sets nothing; the answer is then as without it.
 */
export function pageLanguage(request: FastifyRequest<{ Querystring: { lang?: unknown } }>, reply: FastifyReply, context: ApiContext): Language {
  const secure = servedOverHttps(request, context.config);
  const name = cookieName(LANGUAGE_COOKIE, secure);
  const asked = request.query?.lang;
  if (isLanguage(asked)) {
    setCookie(reply, name, asked, { maxAgeSeconds: LANGUAGE_COOKIE_SECONDS, secure, sameSite: 'Lax' });
    return asked;
  }
  const kept = cookieValues(request.headers.cookie, name).find(isLanguage);
  return kept && isLanguage(kept) ? kept : requestLanguage(request.headers);
}
