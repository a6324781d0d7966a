/** What the Chromium tests of the hosted page do alike on its forms. */
import type { Page } from 'playwright-core';

/** The identity form: a full name, and a DD-MM-YYYY date typed into its day, month and year boxes. */
export async function fillIdentity(page: Page, name: string, date: string): Promise<void> {
  await page.getByLabel('Full name').fill(name);
  const [day, month, year] = date.split('-');
  const birthDate = page.getByRole('group', { name: /Date of birth/ });
  await birthDate.getByLabel('Day').fill(day);
  await birthDate.getByLabel('Month').fill(month);
  await birthDate.getByLabel('Year').fill(year);
}
