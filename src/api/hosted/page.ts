/**
 * The hosted page's HTML: a static shell, the same for every session, so opening it reads
 * and changes nothing. The script renders the stages; the headers forbid everything else
 * (no inline script, nothing from another origin, no Referer sent to the tenant or anyone).
 */
import { LANGUAGES, stringsFor, type Language } from '../../browser/languages';
import { HOSTED_ASSETS } from './urls';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of the page and its files. */
export const HOSTED_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface HostedPageOptions {
  /** The page's language: its strings, its `<html lang>`, and what the page asks the api for. */
  lang: Language;
}

/** Links to the page in each other language: real links, so the choice needs no script and survives a reload. */
function languageSwitcher(lang: Language): string {
  const links = LANGUAGES.filter((other) => other !== lang).map((other) => {
    const name = escapeHtml(stringsFor(other).strings.languageName);
    return `<li><a href="?lang=${other}" hreflang="${other}" lang="${other}">${name}</a></li>`;
  });
  return `<nav class="languages" aria-label="${escapeHtml(stringsFor(lang).strings.languageNav)}"><ul>${links.join('')}</ul></nav>`;
}

export function hostedPageHtml(options: HostedPageOptions): string {
  const { strings } = stringsFor(options.lang);
  const title = escapeHtml(strings.documentTitle);
  return `<!doctype html>
<html lang="${escapeHtml(strings.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<link rel="stylesheet" href="${HOSTED_ASSETS}/hosted.css">
<script src="${HOSTED_ASSETS}/hosted.js" defer></script>
</head>
<body>
${languageSwitcher(options.lang)}
<main id="app">
<h1 id="stage-heading" tabindex="-1">${title}</h1>
<noscript><p>${escapeHtml(strings.noScript)}</p></noscript>
</main>
</body>
</html>
`;
}
