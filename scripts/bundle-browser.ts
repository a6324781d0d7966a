/**
 * Bundles the hosted page and the browser SDK (src/browser) into one directory the api serves
 * them from (dist/browser-bundle/ in the image; see src/api/hosted/assets.ts). From source the
 * api bundles them itself at first use, so only the image build runs this.
 *   tsx scripts/bundle-browser.ts <dir>
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleBrowser } from '../src/api/hosted/assets';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx scripts/bundle-browser.ts <dir>');
  mkdirSync(dir, { recursive: true });
  for (const [name, asset] of await bundleBrowser()) writeFileSync(join(dir, name), asset.body);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
