/**
 * The tenant's brand on the hosted page: what the page's HTML carries (name, links, the URLs
 * of its logo and stylesheet) and the files the api serves for it. A file's name is the hash
 * of its content, never the client id: its URL tells nothing about which clients exist, and a
 * changed brand is a new URL, so each file can be cached for good.
 */
import { createHash } from 'node:crypto';
import type { FlowMachine, StageMeta, TenantLink } from '../../flows/core/types';
import type { TenantClient } from '../../tenants/registry';
import { darker } from '../../tenants/brand';
import { HOSTED_ASSETS } from './urls';

export const BRAND_PATH = `${HOSTED_ASSETS}/brand`;
/** With no brand: the product's name, no logo, hosted.css's own accent. */
export const DEFAULT_BRAND_NAME = 'sessionflow';

/** Per stage, the tenant's pages it links (a consent stage's terms and privacy notice). */
export type StageLinks = Record<string, TenantLink[]>;

/** What the page shows of a tenant; every value is the tenant's data, never a string to translate. */
export interface PageBrand {
  name: string;
  logoUrl?: string;
  cssUrl?: string;
  termsUrl?: string;
  privacyUrl?: string;
  supportUrl?: string;
}

export interface BrandFile {
  type: string;
  body: string | Buffer;
}

/** Only custom properties, which hosted.css reads: the CSP allows no inline style. */
function accentCss(accent: string): string {
  return `:root { --accent: ${accent}; --accent-dark: ${darker(accent)}; }\n`;
}

function cssName(accent: string): string {
  return `${createHash('sha256').update(accentCss(accent)).digest('hex').slice(0, 16)}.css`;
}

function logoName(tenant: TenantClient): string | undefined {
  const logo = tenant.brand?.logo;
  return logo ? `${logo.hash}.${logo.type === 'image/png' ? 'png' : 'svg'}` : undefined;
}

/** Every brand file of these clients, by file name under BRAND_PATH. */
export function brandFiles(clients: readonly TenantClient[]): Map<string, BrandFile> {
  const files = new Map<string, BrandFile>();
  for (const tenant of clients) {
    const brand = tenant.brand;
    if (brand?.accentColor) files.set(cssName(brand.accentColor), { type: 'text/css; charset=utf-8', body: accentCss(brand.accentColor) });
    const logo = logoName(tenant);
    if (logo && brand?.logo) files.set(logo, { type: brand.logo.type, body: brand.logo.body });
  }
  return files;
}

/** The brand a session's page shows: its tenant's, or the defaults when there is none (or no session). */
export function pageBrand(tenant: TenantClient | undefined): PageBrand {
  const brand = tenant?.brand ?? {};
  const logo = tenant ? logoName(tenant) : undefined;
  return {
    name: brand.name ?? DEFAULT_BRAND_NAME,
    ...(logo ? { logoUrl: `${BRAND_PATH}/${logo}` } : {}),
    ...(brand.accentColor ? { cssUrl: `${BRAND_PATH}/${cssName(brand.accentColor)}` } : {}),
    ...(brand.termsUrl ? { termsUrl: brand.termsUrl } : {}),
    ...(brand.privacyUrl ? { privacyUrl: brand.privacyUrl } : {}),
    ...(brand.supportUrl ? { supportUrl: brand.supportUrl } : {}),
  };
}

/**
 * A brand file's headers. An SVG shown by <img> never runs scripts or loads anything; opened
 * by itself, this CSP (no script, nothing fetched, a sandbox) and nosniff keep it an inert
 * image. Cached for good: its name changes with its content.
 */
export const BRAND_FILE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'public, max-age=31536000, immutable',
};

/** The stages of a flow that link the tenant's pages beside their text (meta.links), for the page. */
export function stageLinks(machine: FlowMachine): StageLinks {
  const links: StageLinks = {};
  for (const [id, state] of Object.entries(machine.states)) {
    const meta = state.meta as StageMeta | undefined;
    if (state.type !== 'final' && meta?.links?.length) links[id] = meta.links;
  }
  return links;
}
