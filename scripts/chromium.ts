/**
 * Headless Chromium for the Temporal UI test and the benchmark chart: Debian's `chromium` package,
 * which scripts/install-chromium.sh installs (`make test` runs it), driven by playwright-core.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: run scripts/install-chromium.sh (make test does) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    // Tests run as root in containers: no sandbox, no GPU, a small /dev/shm, no calls home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
}
