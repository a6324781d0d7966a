/**
 * The hosted page's HTML: a shell that says at once what the link is (start, resume, open on
 * another device, ended, expired, not valid: page-state.ts decides, reading and changing
 * nothing), as data attributes on <main> the script reads, and as text a browser without
 * script shows. The script renders the stages; the headers forbid everything else (no inline
 * script, nothing from another origin, no Referer sent to the tenant or anyone).
 */
import { LANGUAGES, stringsFor, type Language } from '../../browser/languages';
import type { Strings } from '../../browser/strings';
import type { Outcome } from '../../flows/core/types';
import { DEFAULT_BRAND_NAME, type PageBrand, type StageLinks } from './brand';
import type { StageProgress } from './progress';
import { FAVICON, HOSTED_ASSETS } from './urls';

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

/**
 * What the server found the link to be. `recheck`: the bound browser may be the one asking,
 * but its SameSite=Strict key was withheld on a navigation from another site (a link in a
 * mail), so the script loads the page again from this origin, which sends it. `moved`: this
 * browser handed the session on to another device, and follows it there.
 */
export type HostedPage = 'start' | 'resume' | 'elsewhere' | 'moved' | 'ended' | 'expired' | 'invalid' | 'recheck' | 'unavailable';

export interface PageState {
  page: HostedPage;
  /** How the session ended: given to the bound browser only. */
  outcome?: Outcome;
  /** The tenant's return page, offered once the session is over. */
  returnUrl?: string;
}

function ended(strings: Strings, outcome: Outcome): { heading: string; text: string } {
  if (outcome === 'success') return { heading: strings.successHeading, text: strings.successText };
  if (outcome === 'error') return { heading: strings.errorHeading, text: strings.errorText };
  return { heading: strings.skippedHeading, text: strings.skippedText };
}

/** The heading, and for pages that need no script their text, as a browser without script shows them. */
function wording(strings: Strings, state: PageState): { heading: string; text?: string } {
  switch (state.page) {
    case 'elsewhere': return { heading: strings.elsewhereHeading, text: strings.elsewhereText };
    case 'moved': return { heading: strings.movedHeading, text: strings.movedText };
    case 'ended': return state.outcome ? ended(strings, state.outcome) : { heading: strings.endedHeading, text: strings.endedText };
    case 'expired': return { heading: strings.expiredHeading, text: strings.expiredText };
    case 'invalid': return { heading: strings.notFoundHeading, text: strings.notFoundText };
    case 'unavailable': return { heading: strings.failedHeading, text: strings.failedText };
    case 'start': return { heading: strings.startHeading };
    case 'resume': return { heading: strings.resuming };
    default: return { heading: strings.documentTitle };
  }
}

/** The state as attributes of <main>: the page's script reads them (no inline script under the CSP). */
function stateAttributes(state: PageState): string {
  const attributes: Array<[string, string | undefined]> = [['page', state.page], ['outcome', state.outcome], ['return-url', state.returnUrl]];
  return attributes.filter(([, value]) => value !== undefined).map(([name, value]) => ` data-${name}="${escapeHtml(value!)}"`).join('');
}

export interface HostedPageOptions {
  /** The page's language: its strings, its `<html lang>`, and what the page asks the api for. */
  lang: Language;
  /** What the link is, as page-state.ts found it. */
  state: PageState;
  /** The session's tenant's brand; the defaults when absent (no session, or an unknown one). */
  brand?: PageBrand;
  /** "Step N of M" for each stage of the session's flow. */
  progress?: StageProgress;
  /** The stages that link the tenant's pages beside their text. */
  links?: StageLinks;
}

/** The brand as the page's data (read by src/browser/brand.ts), and its logo and name as the page's header. */
function brandHeader(brand: PageBrand, progress: StageProgress, links: StageLinks): string {
  const data = [
    ['name', brand.name],
    ['terms', brand.termsUrl],
    ['privacy', brand.privacyUrl],
    ['support', brand.supportUrl],
    ['progress', JSON.stringify(progress)],
    ['links', JSON.stringify(links)],
  ]
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => ` data-${key}="${escapeHtml(value)}"`)
    .join('');
  // The logo goes with the name shown beside it, so it is decorative (alt="") rather than read twice.
  const logo = brand.logoUrl ? `<img class="brand-logo" src="${escapeHtml(brand.logoUrl)}" alt="">` : '';
  return `<header id="brand" class="brand"${data}>${logo}<span class="brand-name">${escapeHtml(brand.name)}</span></header>`;
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
  const { state } = options;
  const { strings } = stringsFor(options.lang);
  const brand = options.brand ?? { name: DEFAULT_BRAND_NAME };
  const { heading, text } = wording(strings, state);
  const accent = brand.cssUrl ? `\n<link rel="stylesheet" href="${escapeHtml(brand.cssUrl)}">` : '';
  const back = state.returnUrl ? `\n<p><a href="${escapeHtml(state.returnUrl)}">${escapeHtml(strings.returnLinkLater)}</a></p>` : '';
  const body = text === undefined ? `<noscript><p>${escapeHtml(strings.noScript)}</p></noscript>` : `<p>${escapeHtml(text)}</p>${back}`;
  return `<!doctype html>
<html lang="${escapeHtml(strings.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(brand.name)} · ${escapeHtml(heading)}</title>
<link rel="icon" href="${FAVICON}" type="image/svg+xml">
<link rel="stylesheet" href="${HOSTED_ASSETS}/hosted.css">${accent}
<script src="${HOSTED_ASSETS}/hosted.js" defer></script>
</head>
<body>
${brandHeader(brand, options.progress ?? {}, options.links ?? {})}
${languageSwitcher(options.lang)}
<main id="app"${stateAttributes(state)}>
<h1 id="stage-heading" tabindex="-1">${escapeHtml(heading)}</h1>
${body}
</main>
</body>
</html>
`;
}
