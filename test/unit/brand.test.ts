/** A client's brand: WCAG 2.x contrast, and what the registry refuses at load, with the key named. */
import { ACCENT_BACKGROUND, contrastRatio, darker, MAX_LOGO_BYTES, relativeLuminance } from '../../src/tenants/brand';
import { parseClients } from '../../src/tenants/registry';
import { ConfigError } from '../../src/config';
import { KESTREL_BRAND, KESTREL_LOGO_SVG } from '../helpers/brand';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const SECRET = 'Brand-Test-Secret-0123456789';

function load(brand: Json) {
  return parseClients(JSON.stringify([{ id: 'kestrel', secret: SECRET, brand }]), 'SESSIONFLOW_CLIENTS')[0];
}

function refusal(brand: Json): string {
  try {
    load(brand);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).not.toContain(SECRET);
    return message;
  }
  throw new Error('expected a ConfigError');
}

/** The eight bytes every PNG file starts with. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const svg = (text: string) => `data:image/svg+xml;base64,${Buffer.from(text).toString('base64')}`;

describe('contrast (WCAG 2.x)', () => {
  test.each([
    ['#000000', '#ffffff', 21],
    ['#ffffff', '#ffffff', 1],
    ['#767676', '#ffffff', 4.54],
    ['#777777', '#ffffff', 4.48],
    ['#ff0000', '#ffffff', 4.0],
    ['#0000ff', '#ffffff', 8.59],
    ['#ffffff', '#0000ff', 8.59],
  ])('%s against %s is %d:1', (a, b, ratio) => {
    expect(contrastRatio(a, b)).toBeCloseTo(ratio, 2);
  });

  test('relative luminance: black 0, white 1, a mid grey between; upper and lower case alike', () => {
    expect(relativeLuminance('#000000')).toBe(0);
    expect(relativeLuminance('#ffffff')).toBeCloseTo(1, 10);
    expect(relativeLuminance('#808080')).toBeCloseTo(0.2159, 4);
    expect(relativeLuminance('#0B57D0')).toBe(relativeLuminance('#0b57d0'));
    expect(() => relativeLuminance('red')).toThrow();
  });

  test('the hover shade is darker, so its contrast with white only grows', () => {
    expect(darker('#0f6b5c')).toBe('#0c564a');
    expect(contrastRatio(darker('#767676'), ACCENT_BACKGROUND)).toBeGreaterThan(contrastRatio('#767676', ACCENT_BACKGROUND));
  });
});

describe('a client brand at configuration', () => {
  test('a whole brand loads: name, logo served as given, accent in lower case, https links', () => {
    const client = load({ ...KESTREL_BRAND, accentColor: '#0F6B5C' });
    expect(client.brand).toMatchObject({ name: 'Kestrel Bank', accentColor: '#0f6b5c', termsUrl: KESTREL_BRAND.termsUrl, supportUrl: KESTREL_BRAND.supportUrl });
    expect(client.brand?.logo?.type).toBe('image/svg+xml');
    expect(client.brand?.logo?.body.toString('utf8')).toBe(KESTREL_LOGO_SVG);
    expect(client.brand?.logo?.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(load({}).brand).toEqual({});
  });

  test('a low-contrast accent is refused, naming the key, the ratio and the rule, never the value', () => {
    const message = refusal({ accentColor: '#00897b' });
    expect(message).toBe(
      'SESSIONFLOW_CLIENTS client 1 ("kestrel"): brand.accentColor has a contrast of 4.31:1 with white, below WCAG AA\'s 4.5:1 (buttons put white text on it, links put it on white): choose a darker colour',
    );
    expect(message).not.toContain('00897b');
    expect(refusal({ accentColor: '#777777' })).toContain('4.47:1');
    expect(load({ accentColor: '#767676' }).brand?.accentColor).toBe('#767676');
    expect(refusal({ accentColor: 'teal' })).toContain('brand.accentColor must be a colour written #rrggbb');
    expect(refusal({ accentColor: '#fff' })).toContain('brand.accentColor must be a colour written #rrggbb');
  });

  test.each([
    ['termsUrl', 'http://kestrel.example/terms'],
    ['privacyUrl', 'javascript:alert(1)'],
    ['supportUrl', 'https://user:pass@kestrel.example/help'],
    ['termsUrl', '/terms'],
    ['privacyUrl', 42],
  ])('%s %p is refused', (key, value) => {
    expect(refusal({ [key]: value })).toBe(`SESSIONFLOW_CLIENTS client 1 ("kestrel"): brand.${key} must be an absolute https URL without credentials`);
  });

  test('logos: PNG or SVG data URLs within the size limit; active SVG content and mislabelled files refused', () => {
    const png = Buffer.concat([PNG_SIGNATURE, Buffer.alloc(16)]);
    expect(load({ logo: `data:image/png;base64,${png.toString('base64')}` }).brand?.logo?.type).toBe('image/png');
    expect(refusal({ logo: 'https://cdn.example/logo.png' })).toContain('brand.logo must be a data URL');
    expect(refusal({ logo: 'data:image/gif;base64,R0lGODlh' })).toContain('brand.logo must be a data URL');
    expect(refusal({ logo: svg('<svg><script>alert(1)</script></svg>') })).toContain('brand.logo is an SVG with scripts');
    expect(refusal({ logo: svg('<svg onload="alert(1)"></svg>') })).toContain('brand.logo is an SVG with scripts');
    expect(refusal({ logo: svg('<svg><foreignObject></foreignObject></svg>') })).toContain('brand.logo is an SVG with scripts');
    expect(refusal({ logo: `data:image/png;base64,${Buffer.from('<svg></svg>').toString('base64')}` })).toContain('brand.logo says image/png but is not a PNG file');
    expect(refusal({ logo: svg('hello') })).toContain('brand.logo says image/svg+xml but holds no <svg> element');
    expect(refusal({ logo: svg(`<svg>${' '.repeat(MAX_LOGO_BYTES)}</svg>`) })).toContain(`brand.logo must be a file of 1 to ${MAX_LOGO_BYTES} bytes`);
  });

  test('names and keys: text of 1 to 64 characters; unknown keys named', () => {
    expect(load({ name: '  Kestrel Bank ' }).brand?.name).toBe('Kestrel Bank');
    expect(refusal({ name: '' })).toContain('brand.name must be 1 to 64 characters of text');
    expect(refusal({ name: 'x'.repeat(65) })).toContain('brand.name must be 1 to 64 characters of text');
    expect(refusal({ name: 'Kestrel\nBank' })).toContain('brand.name must be 1 to 64 characters of text');
    expect(refusal({ colour: '#000000' })).toContain('brand has unknown key "colour"');
    expect(refusal('Kestrel')).toContain('brand must be an object');
  });
});
