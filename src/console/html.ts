/**
 * The console's HTML, built as strings on the server: every value goes through `escapeHtml`
 * (text and attributes alike), and no page has script. Headers are the hosted page's
 * (src/api/hosted/page.ts): the same CSP, so nothing inline runs and nothing from another
 * origin loads.
 */
import { HOSTED_HEADERS } from '../api/hosted/page';
import type { Operator } from '../operators/registry';
import { CONSOLE_STRINGS as S } from './strings';

export const CONSOLE_PREFIX = '/console';
export const CONSOLE_STYLES = `${CONSOLE_PREFIX}/console.css`;
/**
 * The hosted page's headers, but for the referrer policy: with `no-referrer` Chromium sends
 * `Origin: null` on a form's POST, which the console's Origin check must refuse.
 * `same-origin` sends nothing to another origin (the Temporal UI link), as before.
 */
export const CONSOLE_HEADERS = { ...HOSTED_HEADERS, 'referrer-policy': 'same-origin' };

/** Text or an attribute's value, safe anywhere in HTML. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** HTML already escaped: pages compose these, never raw strings. */
export interface Html {
  readonly html: string;
}

export const raw = (html: string): Html => ({ html });

/** A template tag: interpolated values are escaped, unless they are Html (or lists of it). */
export function html(strings: TemplateStringsArray, ...values: Array<string | number | Html | Html[] | null | undefined>): Html {
  let out = strings[0];
  values.forEach((value, i) => {
    if (Array.isArray(value)) out += value.map((part) => part.html).join('');
    else if (value && typeof value === 'object') out += value.html;
    else if (value !== null && value !== undefined) out += escapeHtml(value);
    out += strings[i + 1];
  });
  return raw(out);
}

export type NavKey = keyof typeof S.nav;

const NAV_PATHS: Record<NavKey, string> = { find: '/find', sessions: '/sessions', funnel: '/funnel', reviews: '/reviews' };

export const consolePath = (path: string): string => `${CONSOLE_PREFIX}${path}`;

export interface PageOptions {
  title: string;
  body: Html;
  /** Signed-in pages show the navigation and who is signed in. */
  operator?: Operator;
  current?: NavKey;
}

export function renderPage({ title, body, operator, current }: PageOptions): string {
  const nav = operator
    ? html`<nav aria-label="${S.navigation}"><ul>${(Object.keys(NAV_PATHS) as NavKey[]).map(
        (key) => html`<li><a href="${consolePath(NAV_PATHS[key])}"${raw(key === current ? ' aria-current="page"' : '')}>${S.nav[key]}</a></li>`,
      )}</ul></nav><p class="who">${S.signedInAs(operator.name, operator.role)}</p>`
    : raw('');
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${S.product}</title><link rel="stylesheet" href="${CONSOLE_STYLES}"></head>
<body><a class="skip" href="#main">${S.skipToContent}</a>
<header><p class="product">${S.product}</p>${nav}</header>
<main id="main"><h1>${title}</h1>${body}</main></body></html>`.html;
}

/** A table in a region that scrolls sideways on a phone, reachable by keyboard. */
export function scrollingTable(label: string, headings: string[], rows: Html[]): Html {
  return html`<div class="table" role="region" aria-label="${label}" tabindex="0"><table><caption>${label}</caption><thead><tr>${headings.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** A date and time as operators compare them: UTC, to the second. */
export function formatTime(at: Date | number | null | undefined): string {
  if (at === null || at === undefined) return S.none;
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A duration in its two largest units: 3 d 4 h, 5 min 2 s. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return S.none;
  const seconds = Math.max(0, Math.round(ms / 1000));
  const units: Array<[string, number]> = [['d', 86_400], ['h', 3_600], ['min', 60], ['s', 1]];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (parts.length === 0 && unit === 's')) parts.push(`${count} ${unit}`);
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** A hidden form field. */
export const hidden = (name: string, value: string): Html => html`<input type="hidden" name="${name}" value="${value}">`;
