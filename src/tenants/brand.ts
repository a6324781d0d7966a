/**
 * A client's brand on the hosted page (its `brand` key): a display name, a logo the api serves
 * itself, an accent colour and links to its terms, privacy notice and support. Checked when
 * the clients load, so a page never shows an unreadable colour or a link that is not https.
 * Messages name the key and the problem, never the value (it comes from the registry).
 */
import { createHash } from 'node:crypto';
import { isObject } from '../util/json';

export interface TenantLogo {
  type: 'image/png' | 'image/svg+xml';
  body: Buffer;
  /** The first 16 hex digits of the SHA-256 of the file: its URL, so a new logo is a new URL. */
  hash: string;
}

export interface TenantBrand {
  name?: string;
  logo?: TenantLogo;
  /** `#rrggbb`, lower case. */
  accentColor?: string;
  termsUrl?: string;
  privacyUrl?: string;
  supportUrl?: string;
}

/** A logo is drawn at most 40 px high: 32 KB is plenty for an SVG mark or a 2x PNG. */
export const MAX_LOGO_BYTES = 32 * 1024;
export const MAX_BRAND_NAME_LENGTH = 64;
/** WCAG 2.x AA for normal text. */
export const MIN_ACCENT_CONTRAST = 4.5;
/** The page's surface: white text on accent buttons, accent links on white. */
export const ACCENT_BACKGROUND = '#ffffff';

const BRAND_KEYS: ReadonlySet<string> = new Set(['name', 'logo', 'accentColor', 'termsUrl', 'privacyUrl', 'supportUrl']);
const URL_KEYS = ['termsUrl', 'privacyUrl', 'supportUrl'] as const;
const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const LOGO_DATA_URL = /^data:(image\/png|image\/svg\+xml);base64,([A-Za-z0-9+/]+={0,2})$/;
/** Active content an image never needs: refused as a second line behind the CSP the logo is served with. */
const SVG_ACTIVE = /<script|<foreignObject|\son[a-z]+\s*=|javascript:/i;

/** One sRGB channel (0-255) as linear light, per WCAG 2.x's relative luminance. */
function linear(channel: number): number {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** The relative luminance of `#rrggbb` (WCAG 2.x): 0 for black, 1 for white. */
export function relativeLuminance(hex: string): number {
  if (!HEX_COLOR.test(hex)) throw new Error('not a #rrggbb colour');
  const [r, g, b] = [1, 3, 5].map((i) => linear(parseInt(hex.slice(i, i + 2), 16)));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The contrast ratio of two `#rrggbb` colours (WCAG 2.x), from 1 to 21, in either order. */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

/** The accent's hover shade: 80% of each channel, so its contrast with white only grows. */
export function darker(hex: string): string {
  return `#${[1, 3, 5].map((i) => Math.round(parseInt(hex.slice(i, i + 2), 16) * 0.8).toString(16).padStart(2, '0')).join('')}`;
}

function isHttpsUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !/^https:\/\//i.test(value) || value.length > 2048) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

function parseLogo(value: unknown, fail: (problem: string) => never): TenantLogo {
  const match = typeof value === 'string' ? LOGO_DATA_URL.exec(value) : null;
  if (!match) return fail('brand.logo must be a data URL: data:image/png;base64,… or data:image/svg+xml;base64,…');
  const type = match[1] as TenantLogo['type'];
  const body = Buffer.from(match[2], 'base64');
  if (body.length === 0 || body.length > MAX_LOGO_BYTES) fail(`brand.logo must be a file of 1 to ${MAX_LOGO_BYTES} bytes`);
  if (type === 'image/png' && !body.subarray(0, 8).equals(PNG_SIGNATURE)) fail('brand.logo says image/png but is not a PNG file');
  if (type === 'image/svg+xml') {
    const text = body.toString('utf8');
    if (!/<svg[\s>]/.test(text)) fail('brand.logo says image/svg+xml but holds no <svg> element');
    if (SVG_ACTIVE.test(text)) fail('brand.logo is an SVG with scripts, event handlers or foreignObject; a logo needs none');
  }
  return { type, body, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) };
}

function parseAccent(value: unknown, fail: (problem: string) => never): string {
  if (typeof value !== 'string' || !HEX_COLOR.test(value)) return fail('brand.accentColor must be a colour written #rrggbb');
  const ratio = contrastRatio(value, ACCENT_BACKGROUND);
  if (ratio < MIN_ACCENT_CONTRAST) {
    fail(
      `brand.accentColor has a contrast of ${(Math.floor(ratio * 100) / 100).toFixed(2)}:1 with white, below WCAG AA's ${MIN_ACCENT_CONTRAST}:1 ` +
        '(buttons put white text on it, links put it on white): choose a darker colour',
    );
  }
  return value.toLowerCase();
}

/** Checks a client's `brand`; `fail` throws the registry's ConfigError for that client. */
export function parseBrand(raw: unknown, fail: (problem: string) => never): TenantBrand {
  if (!isObject(raw)) return fail('brand must be an object');
  for (const key of Object.keys(raw)) {
    if (!BRAND_KEYS.has(key)) fail(/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(key) ? `brand has unknown key "${key}"` : 'brand has an unknown key');
  }
  const brand: TenantBrand = {};
  if (raw.name !== undefined) {
    const name = typeof raw.name === 'string' ? raw.name.trim() : '';
    // No control characters: the name goes into the page's title and heading as text.
    if (name === '' || name.length > MAX_BRAND_NAME_LENGTH || /\p{Cc}/u.test(name)) {
      fail(`brand.name must be 1 to ${MAX_BRAND_NAME_LENGTH} characters of text`);
    }
    brand.name = name;
  }
  if (raw.logo !== undefined) brand.logo = parseLogo(raw.logo, fail);
  if (raw.accentColor !== undefined) brand.accentColor = parseAccent(raw.accentColor, fail);
  for (const key of URL_KEYS) {
    if (raw[key] === undefined) continue;
    if (!isHttpsUrl(raw[key])) fail(`brand.${key} must be an absolute https URL without credentials`);
    brand[key] = raw[key] as string;
  }
  return brand;
}
