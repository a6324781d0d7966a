/**
 * The hosted page's files: the page script, the SDK for tenants' own pages, the styles, the icon. Built
 * ahead into dist/browser-bundle/ for production images (scripts/bundle-browser.ts); when
 * running from source (make start, tests) bundled once at first use with esbuild.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Asset {
  type: string;
  body: string;
}

/** File name served under /hosted/ -> where it comes from in src/browser. */
export const ASSET_SOURCES = {
  'hosted.js': { entry: 'hosted.ts', type: 'text/javascript; charset=utf-8' },
  'sessionflow.js': { entry: 'sdk-global.ts', type: 'text/javascript; charset=utf-8', globalName: 'Sessionflow' },
  'hosted.css': { file: 'hosted.css', type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
} as const satisfies Record<string, { type: string; entry?: string; file?: string; globalName?: string }>;

const BROWSER_SOURCE = join(__dirname, '..', '..', 'browser');
const PREBUILT = process.env.BROWSER_BUNDLE_DIR || join(__dirname, '..', '..', 'browser-bundle');

/** Bundles src/browser with esbuild (a dev dependency: production images carry the result). */
export async function bundleBrowser(): Promise<Map<string, Asset>> {
  const esbuild = await import('esbuild');
  const assets = new Map<string, Asset>();
  for (const [name, source] of Object.entries(ASSET_SOURCES)) {
    if ('file' in source) {
      assets.set(name, { type: source.type, body: readFileSync(join(BROWSER_SOURCE, source.file), 'utf8') });
      continue;
    }
    const built = await esbuild.build({
      entryPoints: [join(BROWSER_SOURCE, source.entry)],
      bundle: true,
      write: false,
      format: 'iife',
      ...('globalName' in source ? { globalName: source.globalName } : {}),
      target: ['es2020'],
      platform: 'browser',
      legalComments: 'none',
      logLevel: 'silent',
    });
    assets.set(name, { type: source.type, body: built.outputFiles[0].text });
  }
  return assets;
}

function readPrebuilt(): Map<string, Asset> {
  return new Map(Object.entries(ASSET_SOURCES).map(([name, source]) => [name, { type: source.type, body: readFileSync(join(PREBUILT, name), 'utf8') }]));
}

let loading: Promise<Map<string, Asset>> | null = null;

export function hostedAssets(): Promise<Map<string, Asset>> {
  loading ??= existsSync(join(PREBUILT, 'hosted.js')) ? Promise.resolve(readPrebuilt()) : bundleBrowser();
  return loading;
}
