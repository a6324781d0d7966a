/**
 * The hosted page's HTML: a static shell, the same for every session, so opening it reads
 * and changes nothing. The script renders the stages; the headers forbid everything else
 * (no inline script, nothing from another origin, no Referer sent to the tenant or anyone).
 */
import { STRINGS } from '../../browser/strings';
import { DEFAULT_BRAND_NAME, type PageBrand } from './brand';
import type { StageProgress } from './progress';
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
  /** The session's tenant's brand; the defaults when absent (no session, or an unknown one). */
  brand?: PageBrand;
  /** "Step N of M" for each stage of the session's flow. */
  progress?: StageProgress;
}

/** The brand as the page's data (read by src/browser/brand.ts), and its logo and name as the page's header. */
function brandHeader(brand: PageBrand, progress: StageProgress): string {
  const data = [
    ['name', brand.name],
    ['terms', brand.termsUrl],
    ['privacy', brand.privacyUrl],
    ['support', brand.supportUrl],
    ['progress', JSON.stringify(progress)],
  ]
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => ` data-${key}="${escapeHtml(value)}"`)
    .join('');
  // The logo goes with the name shown beside it, so it is decorative (alt="") rather than read twice.
  const logo = brand.logoUrl ? `<img class="brand-logo" src="${escapeHtml(brand.logoUrl)}" alt="">` : '';
  return `<header id="brand" class="brand"${data}>${logo}<span class="brand-name">${escapeHtml(brand.name)}</span></header>`;
}

export function hostedPageHtml(options: HostedPageOptions = {}): string {
  const brand = options.brand ?? { name: DEFAULT_BRAND_NAME };
  const title = escapeHtml(STRINGS.documentTitle);
  const accent = brand.cssUrl ? `\n<link rel="stylesheet" href="${escapeHtml(brand.cssUrl)}">` : '';
  return `<!doctype html>
<html lang="${escapeHtml(STRINGS.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(brand.name)} · ${title}</title>
<link rel="stylesheet" href="${HOSTED_ASSETS}/hosted.css">${accent}
<script src="${HOSTED_ASSETS}/hosted.js" defer></script>
</head>
<body>
${brandHeader(brand, options.progress ?? {})}
<main id="app">
<h1 id="stage-heading" tabindex="-1">${title}</h1>
<noscript><p>${escapeHtml(STRINGS.noScript)}</p></noscript>
</main>
</body>
</html>
`;
}
