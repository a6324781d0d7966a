/**
 * The tenant's brand as the page's HTML carries it (src/api/hosted/page.ts): its name for the
 * title, its links for the footer, and "Step N of M" for each stage of the session's flow.
 */
import { h } from './dom';
import { S } from './page-strings';

export interface Brand {
  name: string;
  termsUrl?: string;
  privacyUrl?: string;
  supportUrl?: string;
  progress: Record<string, [number, number]>;
  /** Per stage, which of the links above it shows beside its text. */
  links: Record<string, Array<'terms' | 'privacy' | 'support'>>;
}

/** JSON from the page's data, or an empty table rather than a broken page. */
function parsed<T>(json: string | undefined): Record<string, T> {
  try {
    return JSON.parse(json ?? '{}') as Record<string, T>;
  } catch {
    return {};
  }
}

/** The one place the page's brand data is read. */
export function readBrand(): Brand {
  const data = document.getElementById('brand')?.dataset ?? {};
  return {
    name: data.name ?? S.documentTitle,
    termsUrl: data.terms,
    privacyUrl: data.privacy,
    supportUrl: data.support,
    progress: parsed<[number, number]>(data.progress),
    links: parsed<Array<'terms' | 'privacy' | 'support'>>(data.links),
  };
}

/** "Step N of M" for a stage, or null when its flow gives none. */
export function progressText(brand: Brand, step: string | null): string | null {
  const place = step !== null && Object.hasOwn(brand.progress, step) ? brand.progress[step] : undefined;
  return place ? S.progress(place[0], place[1]) : null;
}

/** The tenant's pages as links; a new tab, so the flow stays where it is (said to screen readers too). */
function tenantLinks(brand: Brand, which: ReadonlyArray<'terms' | 'privacy' | 'support'>): HTMLElement[] {
  const pages = { terms: [brand.termsUrl, S.termsLink], privacy: [brand.privacyUrl, S.privacyLink], support: [brand.supportUrl, S.supportLink] } as const;
  return which
    .map((name) => pages[name])
    .filter((link): link is readonly [string, string] => link[0] !== undefined)
    .map(([href, text]) => h('li', {}, h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text, h('span', { class: 'visually-hidden' }, ` ${S.opensInNewTab}`))));
}

/** The footer under the page: the tenant's terms, privacy notice and support, those it gives. */
export function brandFooter(brand: Brand): HTMLElement | null {
  const links = tenantLinks(brand, ['terms', 'privacy', 'support']);
  return links.length > 0 ? h('footer', { class: 'page-footer' }, h('ul', {}, ...links)) : null;
}

/** Beside a stage's text, the tenant's pages its flow names for it (a consent stage's terms), those the tenant gives. */
export function stageLinkList(brand: Brand, step: string | null): HTMLElement | null {
  const which = step !== null && Object.hasOwn(brand.links, step) ? brand.links[step] : [];
  const links = tenantLinks(brand, which);
  return links.length > 0 ? h('ul', { class: 'stage-links' }, ...links) : null;
}
