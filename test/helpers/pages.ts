/** What the Chromium tests of the hosted page do alike: its forms, its headings, axe-core, screenshots. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';

/** Where screenshots go: .data/test-logs/hosted/, or SCREENSHOTS_DIR (docs/screenshots refreshes the README's). */
export const SCREENSHOTS = resolve(process.env.SCREENSHOTS_DIR ?? join(__dirname, '..', '..', '.data', 'test-logs', 'hosted'));
export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };
/** A provider step runs while the page waits: generous under a loaded machine, never a timing assertion. */
export const STEP_TIMEOUT_MS = 45_000;

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor({ timeout: STEP_TIMEOUT_MS });
}

/** axe-core on the page as it is, at a desktop's width and at a 360 px phone's: no serious or critical violation at either. */
export async function accessible(page: Page, what: string): Promise<void> {
  const size = page.viewportSize() ?? DESKTOP;
  await page.evaluate(axeSource);
  for (const viewport of [DESKTOP, PHONE]) {
    await page.setViewportSize(viewport);
    // Strings, not functions: this file is compiled without the DOM's types.
    const violations = (await page.evaluate('axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact })))')) as Array<{
      id: string;
      impact: string | null;
    }>;
    const where = `${what} at ${viewport.width} px`;
    expect({ where, violations: violations.filter((v) => v.impact === 'serious' || v.impact === 'critical') }).toEqual({ where, violations: [] });
  }
  await page.setViewportSize(size);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The identity form: a full name, and a DD-MM-YYYY date typed into its day, month and year boxes. */
export async function fillIdentity(page: Page, name: string, date: string): Promise<void> {
  await page.getByLabel('Full name').fill(name);
  const [day, month, year] = date.split('-');
  const birthDate = page.getByRole('group', { name: /Date of birth/ });
  await birthDate.getByLabel('Day').fill(day);
  await birthDate.getByLabel('Month').fill(month);
  await birthDate.getByLabel('Year').fill(year);
}
