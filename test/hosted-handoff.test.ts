/**
 * Continuing on another device, end to end: headless Chromium against the api and a worker each
 * run as their own OS process (so their logs are theirs, captured here at LOG_LEVEL=debug),
 * Temporal and the sandboxes. A desktop hands a session to a 360 px phone, which finishes it;
 * the desktop follows and returns to the tenant; the link works once, and not after its time
 * (a second api with HANDOFF_TTL_SECONDS=5); a re-issued link works on a new device while the old
 * one is refused; every new page passes axe-core in English and Hindi; and no token is in a log,
 * a request URL, or the session's history (decoded). Screenshots as in hosted-flow.test.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../scripts/chromium';
import { nonceHash, sessionWorkflowId } from '../src/session-secret';
import { basic, DEVICE_TOKEN_SECRET, rawCall, spawnApi, type RunningApi } from './helpers/api';
import { KESTREL_BRAND } from './helpers/brand';
import { historyText } from './helpers/history-text';
import { accessible, DESKTOP, heading, PHONE, screenshot, SCREENSHOTS, STEP_TIMEOUT_MS } from './helpers/pages';
import { useStack } from './helpers/use-stack';

const RETURN_URL = 'https://tenant.example/back/done';
const TENANT = { id: 'handoff-tenant', secret: 'handoff-tenant-secret-0123456789', perSecond: 1000, perDay: 1_000_000, redirectUrls: ['https://tenant.example/back'], brand: KESTREL_BRAND };
/** The tenant's Basic auth (TENANT is its registry JSON, loaded by the api process). */
const AUTHORIZATION = basic({ id: TENANT.id, secret: TENANT.secret, perSecond: TENANT.perSecond, perDay: TENANT.perDay });
const SHORT_TTL_SECONDS = 5;

// The worker runs as its own process below, so its logs can be read.
const { stack } = useStack('hosted-handoff', { worker: false });
let browser: Browser;
let main: RunningApi;
let shortLived: RunningApi;
let worker: ChildProcess;
let workerLog = '';
const contexts: BrowserContext[] = [];
/** Every token a test saw: none may be in a log. */
const tokens: string[] = [];

/** The stack's own configuration (its key store included), this test's tenant, and every log line. */
function apiEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...stack.env, LOG_LEVEL: 'debug', SESSIONFLOW_CLIENTS: JSON.stringify([TENANT]), DEVICE_TOKEN_SECRET, ...extra } as NodeJS.ProcessEnv;
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  worker = await stack.spawnWorker({ LOG_LEVEL: 'debug' });
  for (const stream of [worker.stdout, worker.stderr]) stream?.on('data', (chunk: Buffer) => (workerLog += chunk.toString()));
  [main, shortLived] = await Promise.all([spawnApi(apiEnv()), spawnApi(apiEnv({ HANDOFF_TTL_SECONDS: String(SHORT_TTL_SECONDS) }))]);
  browser = await launchChromium();
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  for (const api of [main, shortLived]) {
    api?.child.kill('SIGTERM');
    await api?.exited;
  }
});

async function createSession(api: RunningApi, tag: string): Promise<{ id: string; url: string }> {
  const body = JSON.stringify({ flow: 'consent-only', snapshot: null, tag, returnUrl: RETURN_URL });
  const created = await rawCall(api.url, 'POST', '/api/v1/public/flowx/handshake', { authorization: AUTHORIZATION, 'content-type': 'application/json' }, body);
  expect(created.status).toBe(200);
  return { id: created.body._id, url: created.body.url };
}

/** A fresh browser profile at that size (and language), with the tenant's return page played by the test. */
async function browse(viewport: { width: number; height: number }, locale?: string): Promise<{ page: Page; requests: string[] }> {
  const context = await browser.newContext({ viewport, ...(locale ? { locale } : {}) });
  contexts.push(context);
  await context.route('https://tenant.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Tenant</title><p>Back at the tenant</p>' }));
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  return { page, requests };
}

/** Opens the session and starts it, up to its consent stage. */
async function started(page: Page, url: string, words = { start: 'Start', consent: 'Accept the terms' }): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: words.start }).click();
  await heading(page, words.consent);
}

/** Presses "Continue on your phone" and reads the link the page shows. */
async function offerLink(page: Page, words = { offer: 'Continue on your phone' }): Promise<string> {
  await page.getByRole('button', { name: words.offer }).click();
  await heading(page, words.offer);
  const link = (await page.locator('.handoff-link a').getAttribute('href')) ?? '';
  tokens.push(link.split('#handoff=')[1]);
  return link;
}

test('a desktop hands the session to a 360 px phone, which finishes it; the desktop follows, then returns to returnUrl; the link works once', async () => {
  const session = await createSession(main, 'REF-handoff-e2e');
  const desktop = await browse(DESKTOP);
  await started(desktop.page, session.url);
  const link = await offerLink(desktop.page);
  expect(link.startsWith(`${main.url}/flow/${session.id}#handoff=`)).toBe(true);
  // The QR code is markup in the page, named for screen readers: no image from anywhere, no data: URL.
  const qr = desktop.page.getByRole('img', { name: 'QR code of the link to continue on your phone' });
  expect(await qr.evaluate((element) => element.tagName)).toBe('svg');
  expect(await desktop.page.getByText('The link works once, for 10 minutes.').count()).toBe(1);
  await accessible(desktop.page, 'handoff offer');
  await screenshot(desktop.page, 'handoff-1-offer');

  const phone = await browse(PHONE);
  await phone.page.goto(link);
  await heading(phone.page, 'Continue on this device');
  await accessible(phone.page, 'claim');
  await screenshot(phone.page, 'handoff-2-claim');
  await phone.page.getByRole('button', { name: 'Continue here' }).click();
  await heading(phone.page, 'Accept the terms');
  // Spent, the token left the address bar.
  expect(phone.page.url()).toBe(`${main.url}/flow/${session.id}`);
  await heading(desktop.page, 'Continuing on your other device');
  await accessible(desktop.page, 'continuing on your other device');
  await screenshot(desktop.page, 'handoff-3-following');

  // A second use, from yet another device: refused, with a page that says how to go on.
  const late = await browse(PHONE);
  await late.page.goto(link);
  await late.page.getByRole('button', { name: 'Continue here' }).click();
  await heading(late.page, 'This link has been used already');
  await accessible(late.page, 'used link');

  await phone.page.getByRole('radio', { name: 'Yes' }).check();
  await phone.page.getByRole('button', { name: 'Continue', exact: true }).click();
  await heading(phone.page, 'All done');
  await heading(desktop.page, 'Finished on your other device');
  await desktop.page.waitForURL(RETURN_URL, { timeout: STEP_TIMEOUT_MS });

  // The token went in no request URL (the fragment never leaves the browser), only in bodies.
  for (const url of [...desktop.requests, ...phone.requests, ...late.requests]) expect(url).not.toContain(tokens.at(-1));
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(session.id));
  const history = await historyText(stack.encryption.codec, await handle.fetchHistory());
  // Decoded, history holds the token's hash, and never the token.
  expect(history).toContain(nonceHash(tokens.at(-1)!));
  expect(history).not.toContain(tokens.at(-1));
});

test('in Hindi: the offer, the claim and the page that follows; a link past its time is refused as expired, in Hindi and in English', async () => {
  const hindi = { start: 'शुरू करें', consent: 'शर्तें स्वीकार करें' };
  const session = await createSession(shortLived, 'REF-handoff-hi');
  const desktop = await browse(DESKTOP, 'hi-IN');
  await started(desktop.page, session.url, hindi);
  const expiring = await offerLink(desktop.page, { offer: 'अपने फ़ोन पर जारी रखें' });
  await accessible(desktop.page, 'handoff offer (hi)');
  // Past its time (the api was given 5 s): waited out, not raced.
  await new Promise((resolve) => setTimeout(resolve, (SHORT_TTL_SECONDS + 1) * 1000));
  for (const [locale, claimButton, expired] of [
    ['hi-IN', 'यहाँ जारी रखें', 'इस लिंक की समय-सीमा समाप्त हो गई है'],
    ['en-GB', 'Continue here', 'This link has expired'],
  ]) {
    const phone = await browse(PHONE, locale);
    await phone.page.goto(expiring);
    await heading(phone.page, locale === 'hi-IN' ? 'इस डिवाइस पर जारी रखें' : 'Continue on this device');
    await accessible(phone.page, `claim (${locale})`);
    await phone.page.getByRole('button', { name: claimButton }).click();
    await heading(phone.page, expired);
    await accessible(phone.page, `expired link (${locale})`);
  }

  await desktop.page.getByRole('button', { name: 'इसके बजाय इसी डिवाइस पर जारी रखें' }).click();
  await heading(desktop.page, hindi.consent);

  // A link claimed in time, from the api with the default lifetime (10 minutes), so no claim races
  // the short one: the desktop follows in Hindi.
  const later = await createSession(main, 'REF-handoff-hi-in-time');
  const follower = await browse(DESKTOP, 'hi-IN');
  await started(follower.page, later.url, hindi);
  const fresh = await offerLink(follower.page, { offer: 'अपने फ़ोन पर जारी रखें' });
  // Opened in English, switched to Hindi on the claim page: the link keeps its token.
  const phone = await browse(PHONE);
  await phone.page.goto(fresh);
  await heading(phone.page, 'Continue on this device');
  await phone.page.getByRole('link', { name: 'हिन्दी' }).click();
  await phone.page.getByRole('button', { name: 'यहाँ जारी रखें' }).click();
  await heading(phone.page, hindi.consent);
  await heading(follower.page, 'आपके दूसरे डिवाइस पर जारी है');
  await accessible(follower.page, 'continuing on your other device (hi)');
  // A reload of the desktop says the same: it handed the session on.
  await follower.page.reload();
  await heading(follower.page, 'आपके दूसरे डिवाइस पर जारी है');
  const used = await browse(PHONE, 'hi-IN');
  await used.page.goto(fresh);
  await used.page.getByRole('button', { name: 'यहाँ जारी रखें' }).click();
  await heading(used.page, 'यह लिंक पहले ही इस्तेमाल हो चुका है');
  await accessible(used.page, 'used link (hi)');
});

test('a re-issued link works on a new device, while the old device is refused and told how to go on', async () => {
  const session = await createSession(main, 'REF-reissue-e2e');
  const old = await browse(DESKTOP);
  await started(old.page, session.url);
  const reissued = await rawCall(main.url, 'POST', `/api/v1/public/flowx/handshake/${session.id}/reissue`, { authorization: AUTHORIZATION });
  expect(reissued.status).toBe(200);
  tokens.push(reissued.body.url.split('#handoff=')[1]);

  // The old device: its next step is refused, and the page says where the session is and how to go on.
  await old.page.getByRole('radio', { name: 'Yes' }).check();
  await old.page.getByRole('button', { name: 'Continue', exact: true }).click();
  await heading(old.page, 'This session is open on another device');
  expect(await old.page.getByText(/ask the organisation that sent you here for a new link/).count()).toBe(1);
  await accessible(old.page, 'open elsewhere, after a re-issue');
  await screenshot(old.page, 'elsewhere');

  const fresh = await browse(PHONE);
  await fresh.page.goto(reissued.body.url);
  await fresh.page.getByRole('button', { name: 'Continue here' }).click();
  await heading(fresh.page, 'Accept the terms');
  await fresh.page.getByRole('radio', { name: 'Yes' }).check();
  await fresh.page.getByRole('button', { name: 'Continue', exact: true }).click();
  await heading(fresh.page, 'All done');
  await fresh.page.waitForURL(RETURN_URL, { timeout: STEP_TIMEOUT_MS });
});

test('no token is in any log the api and the worker wrote', async () => {
  const logs = `${main.output()}${shortLived.output()}${workerLog}`;
  // The processes did log this run's requests (at debug), so the search below has something to search.
  expect(logs).toContain('/claim');
  expect(tokens.length).toBeGreaterThanOrEqual(4);
  for (const token of tokens) {
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{16}$/);
    expect(logs).not.toContain(token);
  }
});
