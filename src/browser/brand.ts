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
}

/** The one place the page's brand data is read. */
export function readBrand(): Brand {
  const data = document.getElementById('brand')?.dataset ?? {};
  let progress: Brand['progress'] = {};
  try {
    progress = JSON.parse(data.progress ?? '{}') as Brand['progress'];
  } catch {
    // No indicator rather than a broken page.
  }
  return { name: data.name ?? S.documentTitle, termsUrl: data.terms, privacyUrl: data.privacy, supportUrl: data.support, progress };
}

/** "Step N of M" for a stage, or null when its flow gives none. */
export function progressText(brand: Brand, step: string | null): string | null {
  const place = step !== null && Object.hasOwn(brand.progress, step) ? brand.progress[step] : undefined;
  return place ? S.progress(place[0], place[1]) : null;
}

/** The footer under the page: the tenant's terms, privacy notice and support, those it gives. */
export function brandFooter(brand: Brand): HTMLElement | null {
  const links = (
    [
      [brand.termsUrl, S.termsLink],
      [brand.privacyUrl, S.privacyLink],
      [brand.supportUrl, S.supportLink],
    ] as Array<[string | undefined, string]>
  )
    .filter((link): link is [string, string] => link[0] !== undefined)
    // A new tab, so the flow stays where it is; said to screen readers too.
    .map(([href, text]) => h('li', {}, h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text, h('span', { class: 'visually-hidden' }, ` ${S.opensInNewTab}`))));
  return links.length > 0 ? h('footer', { class: 'page-footer' }, h('ul', {}, ...links)) : null;
}
