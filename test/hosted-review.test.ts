/**
 * The end user during a review, in headless Chromium against the real stack: kyc-basic with a
 * typed name the national ID's differs from stops at its review stage; the hosted page shows the
 * stage's waiting page, updates by long-poll when a reviewer decides through the codec server's
 * route, and goes on to the outcome (the bank form and success, or the error page).
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TenantClient } from '../src/tenants/registry';
import { sessionWorkflowId } from '../src/session-secret';
import { launchChromium } from '../scripts/chromium';
import { BANK, IDENTITY } from './helpers/flows';
import { fillIdentity } from './helpers/pages';
import { startReviewers, type Reviewers } from './helpers/reviews';
import { useStack } from './helpers/use-stack';

const TENANT: TenantClient = { id: 'hosted-review-tenant', secret: 'hosted-review-tenant-secret-0123', perSecond: 1000, perDay: 1_000_000 };
/** A provider step runs while the page waits: generous under a loaded machine, never a timing assertion. */
const STEP_TIMEOUT_MS = 45_000;
const WAITING = "We're checking your details";

const { api, stack } = useStack('hosted-review', { api: { clients: [TENANT] } });
let browser: Browser;
let reviewers: Reviewers;
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  reviewers = await startReviewers(stack);
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await reviewers?.close();
  await browser?.close();
});

async function heading(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor({ timeout: STEP_TIMEOUT_MS });
}

/** A kyc-basic session opened in a fresh browser, its name not the national ID's, up to the review's waiting page. */
async function atReview(): Promise<{ id: string; page: Page; errors: string[] }> {
  const created = await api.call('POST', '/api/v1/public/flowx/handshake', { as: TENANT, body: { flow: 'kyc-basic', snapshot: null, tag: 'REF-hosted-review' } });
  expect(created.status).toBe(200);
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    // The browser's own favicon.ico request (the api serves none) is not the page's.
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`${response.request().method()} ${new URL(response.url()).pathname} ${response.status()}`);
  });
  await page.goto(created.body.url);
  await page.getByRole('button', { name: 'Start' }).click();
  await heading(page, 'Your name and date of birth');
  await fillIdentity(page, 'Someone Else Entirely', IDENTITY.birthDate);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await heading(page, 'Verify your Aadhaar with Attestr');
  await page.getByRole('button', { name: 'Continue with Attestr' }).click();
  await heading(page, WAITING);
  return { id: created.body._id, page, errors };
}

test('a review shows the waiting page, then moves on by itself when a reviewer approves: bank form, then success', async () => {
  const { id, page, errors } = await atReview();
  expect(await page.getByRole('status').textContent()).toBe('Current status: in progress');
  // No form while a person checks: nothing to submit.
  expect(await page.getByRole('button', { name: 'Continue', exact: true }).count()).toBe(0);
  await page.evaluate(axeSource);
  const violations = (await page.evaluate('axe.run(document).then((r) => r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id))')) as string[];
  expect(violations).toEqual([]);

  const approved = await reviewers.call('POST', `/reviews/${sessionWorkflowId(id)}/decision`, 'reviewer', { decisionId: 'hosted-approve-1', decision: 'approve' });
  expect(approved.body).toMatchObject({ decision: 'approve', next: 'bank' });
  await heading(page, 'Link your bank account');
  await page.getByLabel('Account number').fill(BANK.accountNumber);
  await page.getByLabel('IFSC code').fill(BANK.ifsc);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await heading(page, 'All done');
  expect(errors).toEqual([]);
});

test('a rejection ends the page on the error outcome', async () => {
  const { id, page } = await atReview();
  const rejected = await reviewers.call('POST', `/reviews/${sessionWorkflowId(id)}/decision`, 'reviewer', { decisionId: 'hosted-reject-1', decision: 'reject', reason: 'name_mismatch' });
  expect(rejected.body).toMatchObject({ decision: 'reject', next: null, status: 'consumed' });
  await heading(page, 'We could not complete your verification');
});
