/**
 * The operator console in headless Chromium against the real stack (issue 30, item 1): the
 * codec server with the console and the reviewers' routes, signed in with operator tokens.
 * Sessions found by id, number and tag; the review queue oldest first, decided from the page
 * (the session ends by its own transition, as the backend API says); a viewer refused; forms
 * without the CSRF cookie or Origin refused; a decode audited; the FlowVersion filter; the
 * funnel from a FunnelSource this file passes in; axe on every page; screenshots for the docs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../scripts/chromium';
import type { FunnelQuery, FunnelReport, FunnelSource } from '../src/funnel/report';
import { CONTENT_SECURITY_POLICY } from '../src/api/hosted/page';
import { ClientIdKey, FlowVersionKey, SessionReviewKey, SessionStatusKey } from '../src/contract/session-search';
import { encryptPayload } from '../src/keys/codec';
import { namespaceKeyId } from '../src/keys/key-ids';
import { sessionRef, sessionWorkflowId } from '../src/session-secret';
import type { TenantClient } from '../src/tenants/registry';
import { CONSOLE_OPERATORS, formTokenOf, signIn, startConsole, TEMPORAL_UI, type ConsoleOperator, type ConsoleServer } from './helpers/console';
import { inlineFlow, reviewed } from './helpers/flows';
import { eventually } from './helpers/stack';
import { useStack } from './helpers/use-stack';
import { accessible, DESKTOP, heading, screenshot, SCREENSHOTS } from './helpers/pages';
import { temporalUiQueries } from '../scripts/running-block';

const TENANT: TenantClient = { id: 'console-tenant', secret: 'console-tenant-secret-0123456789', perSecond: 1000, perDay: 1_000_000 };
const RUN = randomBytes(4).toString('hex');

/** The review-stage tests' flow: a note typed by the device, then a review that shows it. */
const REVIEWED = reviewed(undefined, 'console-reviewed');

/** What the in-test funnel source answers (it stands for the store of session ends), and the queries it was asked. */
const asked: FunnelQuery[] = [];
const FUNNEL: FunnelSource = {
  async funnel(query) {
    asked.push(query);
    const report: FunnelReport = {
      query,
      sessions: 120,
      stages: [
        { stage: 'details', entered: 120, wentOn: 96, endedHere: { completed: 0, expired: 14, declined: 4, provider_error: 0, review_rejected: 0, abandoned: 6 }, timeInStage: { p50: 48_000, p90: 260_000 } },
        { stage: 'check', entered: 96, wentOn: 0, endedHere: { completed: 81, expired: 0, declined: 0, provider_error: 0, review_rejected: 15, abandoned: 0 }, timeInStage: { p50: 1_900_000, p90: 14_400_000 } },
      ],
    };
    return report;
  },
};

const { api, stack } = useStack('console', { api: { clients: [TENANT] } });
let browser: Browser;
let server: ConsoleServer;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  server = await startConsole(stack, FUNNEL);
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await server?.close();
  await browser?.close();
});

interface Browsing {
  context: BrowserContext;
  page: Page;
  /** Every URL the page asked for: all must be the console's own. */
  requests: string[];
}

async function signedIn(as: ConsoleOperator, path?: string): Promise<Browsing> {
  const context = await browser.newContext({ viewport: DESKTOP });
  contexts.push(context);
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await signIn(page, server.url, as, path);
  return { context, page, requests };
}

/** axe-core on the page as it is, at 1280 and 360 px: no serious or critical violation. */
/** A session of REVIEWED (its version `snapshotId`, or the draft) past its details step: waiting in review. */
async function inReview(tag: string, snapshotId: string | null = null) {
  const definition = { ...inlineFlow(REVIEWED), snapshotId };
  const created = await stack.gateway.create({ tenantId: TENANT.id, tag, definition });
  const launch = await stack.gateway.launch(created.sessionId);
  await stack.gateway.submitStep(created.sessionId, { nonce: launch.nonce!, step: 'details', input: { note: `note of ${tag}` } });
  return { ...created, workflowId: sessionWorkflowId(created.sessionId) };
}

/** Visibility is a moment behind: wait until a query finds `count` sessions. */
async function visible(query: string, count: number): Promise<void> {
  await eventually(async () => ((await stack.client.workflow.count(query)).count === count ? true : undefined), 30_000, `${count} session(s) for ${query}`);
}

const backendStatus = async (sessionId: string) => (await api.call('GET', `/api/v1/public/flowx/handshake/${sessionId}`, { as: TENANT })).body;

test('a public id, a number and a tag each land on the session; a tag of several lists them; the session page shows status, stage, timeline and the Temporal UI link', async () => {
  const tag = `REF-find-${RUN}`;
  const one = await inReview(tag);
  const shared = `REF-shared-${RUN}`;
  await inReview(shared);
  await inReview(shared);
  await visible(`SessionTag = '${tag}' OR SessionTag = '${shared}'`, 3);

  const { page, requests } = await signedIn('vic');
  await accessible(page, 'find');
  const sessionUrl = `${server.url}/console/sessions/${one.workflowId}`;
  for (const q of [one.sessionId, one.number, tag]) {
    await page.goto(`${server.url}/console/find`);
    await page.getByLabel('Session id, number or tag').fill(q);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL(sessionUrl);
    await heading(page, `Session ${one.number}`);
  }
  const facts = await page.locator('dl.facts').innerText();
  expect(facts).toMatch(/Status\s+in_progress/);
  expect(facts).toMatch(/Stage\s+check/);
  expect(facts).toMatch(/Review\s+on time/);
  expect(facts).toMatch(/Flow version\s+draft/);
  // The timeline: stage names and times, nothing the person typed.
  const timeline = await page.getByRole('region', { name: 'Stage changes' }).innerText();
  expect(timeline).toMatch(/details\s+created/);
  expect(timeline).toMatch(/check\s+in_progress/);
  expect(await page.content()).not.toContain(`note of ${tag}`);
  expect(await page.getByRole('link', { name: 'Open the workflow in the Temporal UI' }).getAttribute('href')).toBe(
    `${TEMPORAL_UI}/namespaces/${stack.config.temporal.namespace}/workflows/${one.workflowId}`,
  );
  await accessible(page, 'session');
  await screenshot(page, 'console-session');

  await page.goto(`${server.url}/console/find?q=${shared}`);
  expect(await page.locator('tbody tr').count()).toBe(2);
  await accessible(page, 'find with several matches');
  await page.goto(`${server.url}/console/find?q=REF-nobody-${RUN}`);
  expect(await page.getByRole('alert').innerText()).toContain(`No session matches “REF-nobody-${RUN}”.`);
  await accessible(page, 'find with no match');
  expect(requests.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([]);
});

test('the pages are signed in, carry the hosted page CSP, and a wrong token goes back to sign-in saying so', async () => {
  const answer = await fetch(`${server.url}/console/reviews`, { redirect: 'manual' });
  expect(answer.status).toBe(303);
  expect(answer.headers.get('location')).toBe('/console/sign-in?next=%2Fconsole%2Freviews');
  const context = await browser.newContext({ viewport: DESKTOP });
  contexts.push(context);
  const page = await context.newPage();
  const signInPage = await page.goto(`${server.url}/console/sessions`);
  expect(signInPage!.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  await heading(page, 'Sign in to the console');
  await accessible(page, 'sign-in');
  await page.getByLabel('Operator token').fill(`sfo_${'x'.repeat(43)}`);
  await page.getByLabel('Operator token').press('Enter');
  await heading(page, 'Sign in to the console');
  expect(await page.getByRole('alert').innerText()).toContain('That operator token is not valid.');
  await accessible(page, 'sign-in with its error');
  await page.getByLabel('Operator token').fill(CONSOLE_OPERATORS.ada.token);
  await page.getByLabel('Operator token').press('Enter');
  await page.waitForURL(`${server.url}/console/sessions`);
  await heading(page, 'Sessions');
});

test('the review queue lists the oldest first; a reviewer approves one and rejects another from the console: each session ends by its own transition, audited', async () => {
  const first = await inReview(`REF-queue-1-${RUN}`);
  const second = await inReview(`REF-queue-2-${RUN}`);
  await visible(`SessionTag IN ('REF-queue-1-${RUN}', 'REF-queue-2-${RUN}') AND SessionReview = 'pending'`, 2);

  const { page, context } = await signedIn('rita', '/console/reviews');
  const numbers = await page.locator('tbody tr td:nth-child(2)').allInnerTexts();
  expect(numbers.indexOf(first.number)).toBeGreaterThanOrEqual(0);
  expect(numbers.indexOf(first.number)).toBeLessThan(numbers.indexOf(second.number));
  await accessible(page, 'review queue');
  await screenshot(page, 'console-reviews');

  const firstRow = page.locator('tbody tr', { hasText: first.number });
  await firstRow.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(/\/console\/reviews\?done=approve/);
  expect(await page.getByRole('status').innerText()).toBe(`Approved session ${first.number}.`);
  await accessible(page, 'review queue after a decision');
  expect(await backendStatus(first.sessionId)).toMatchObject({ status: 'consumed', outcome: 'success' });
  // A late decision (a queue page left open): the operator API's refusal, as a page.
  await submitForm(page, `/console/reviews/${first.workflowId}/decision`, { csrf: await formTokenOf(context), decisionId: `console-${RUN}-late`, decision: 'approve' });
  await heading(page, 'That did not work');
  expect(await page.locator('main').innerText()).toContain('Code: review_not_waiting');
  expect(page.url()).toBe(`${server.url}/console/reviews/${first.workflowId}/decision`);
  await accessible(page, 'decision refused');

  await page.goto(`${server.url}/console/reviews/${second.workflowId}`);
  await heading(page, `Review of session ${second.number}`);
  expect(await page.locator('dl.facts').nth(1).innerText()).toContain(`note of REF-queue-2-${RUN}`);
  await accessible(page, 'review case');
  await page.getByRole('radio', { name: 'other' }).check();
  await page.getByRole('button', { name: 'Reject' }).click();
  await page.waitForURL(/\/console\/reviews\?done=reject/);
  expect(await backendStatus(second.sessionId)).toMatchObject({ status: 'consumed', outcome: 'error' });
  const result = (await api.call('GET', `/api/v1/public/flowx/handshake/${second.sessionId}`, { as: TENANT })).body;
  expect(result.result).toMatchObject({ check: { output: { decision: 'reject', reason: 'other' } } });

  // The same audit records as the JSON route's: the case viewed, each decision, by rita.
  const trail = async (ref: string) => (await server.audit.query({ ref })).map((r) => [r.action, r.phase, r.outcome, r.actor].filter(Boolean).join(' '));
  // The late one is recorded as refused, as the JSON route records it.
  expect(await trail(sessionRef(first.sessionId))).toEqual([
    'review.decision intent operator:rita',
    'review.decision outcome ok operator:rita',
    'review.decision intent operator:rita',
    'review.decision outcome refused operator:rita',
  ]);
  expect(await trail(sessionRef(second.sessionId))).toEqual([
    'review.view intent operator:rita',
    'review.view outcome ok operator:rita',
    'review.decision intent operator:rita',
    'review.decision outcome ok operator:rita',
  ]);
});

/** Submits a form built in the page (as one of its own forms would post: same origin, its cookies). */
async function submitForm(page: Page, action: string, fields: Record<string, string>): Promise<void> {
  const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`).join('');
  await page.evaluate(`(() => { const form = document.createElement('form'); form.method = 'post'; form.action = ${JSON.stringify(action)}; form.innerHTML = ${JSON.stringify(inputs)}; document.body.append(form); form.submit(); })()`);
}

/** POSTs a decision form from this browser's context (its cookies), with the given field and headers. */
async function postDecision(context: BrowserContext, workflowId: string, form: Record<string, string>, origin: string | null) {
  const answer = await context.request.post(`${server.url}/console/reviews/${workflowId}/decision`, {
    form: { decisionId: `console-${randomBytes(8).toString('hex')}`, decision: 'approve', number: '0000-000000-0000', ...form },
    headers: origin === null ? {} : { origin },
    maxRedirects: 0,
  });
  return { status: answer.status(), text: await answer.text() };
}

test('a viewer is refused a decision (403 operator_role_refused), and forms without the CSRF cookie, its token or the Origin are refused; the session still waits', async () => {
  const waiting = await inReview(`REF-refused-${RUN}`);
  await visible(`SessionTag = 'REF-refused-${RUN}' AND SessionReview = 'pending'`, 1);

  const viewer = await signedIn('vic', '/console/reviews');
  expect(await viewer.page.getByText('Your role (viewer) may view the queue but not decide reviews.').count()).toBe(1);
  expect(await viewer.page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
  // The viewer's own browser posting the form, as a page of the console would: the refusal page.
  await submitForm(viewer.page, `/console/reviews/${waiting.workflowId}/decision`, { csrf: await formTokenOf(viewer.context), decisionId: `console-${RUN}-viewer`, decision: 'approve' });
  await heading(viewer.page, 'You may not do this');
  expect(await viewer.page.locator('main').innerText()).toContain('Code: operator_role_refused');
  await accessible(viewer.page, 'role refused');

  const reviewer = await signedIn('rita', '/console/reviews');
  const token = await formTokenOf(reviewer.context);
  for (const [form, origin] of [
    [{ csrf: token }, null],
    [{ csrf: token }, 'http://evil.example'],
    [{}, server.url],
    [{ csrf: 'x'.repeat(43) }, server.url],
  ] as Array<[Record<string, string>, string | null]>) {
    const answer = await postDecision(reviewer.context, waiting.workflowId, form, origin);
    expect({ form, origin, status: answer.status, code: /Code: (\w+)/.exec(answer.text)?.[1] }).toEqual({ form, origin, status: 403, code: 'console_form_refused' });
  }
  // Without the cookie: a fresh browser signed in by its own session cookie only.
  await reviewer.context.clearCookies({ name: 'sessionflow_console_csrf' });
  const cookieless = await postDecision(reviewer.context, waiting.workflowId, { csrf: token }, server.url);
  expect({ status: cookieless.status, code: /Code: (\w+)/.exec(cookieless.text)?.[1] }).toEqual({ status: 403, code: 'console_form_refused' });

  const { typedSearchAttributes } = await stack.client.workflow.getHandle(waiting.workflowId).describe();
  expect(typedSearchAttributes.get(SessionReviewKey)).toBe('pending');
  expect(await server.audit.query({ ref: sessionRef(waiting.sessionId), action: 'review.decision' })).toEqual([]);

  // A queue page whose form outlived its cookie: the refusal page, in the browser.
  await reviewer.page.goto(`${server.url}/console/reviews`);
  await reviewer.context.clearCookies({ name: 'sessionflow_console_csrf' });
  await reviewer.page.locator('tbody tr', { hasText: waiting.number }).getByRole('button', { name: 'Approve' }).click();
  await heading(reviewer.page, 'This form has expired');
  await accessible(reviewer.page, 'form refused');
  expect(typedSearchAttributes.get(SessionReviewKey)).toBe('pending');
});

test('a decode from the session page shows the stage data and leaves its audit record under the operator', async () => {
  const session = await inReview(`REF-decode-${RUN}`);
  const { page } = await signedIn('vic', `/console/sessions/${session.workflowId}`);
  expect(await server.audit.query({ ref: sessionRef(session.sessionId), action: 'codec.decode' })).toEqual([]);
  await page.getByRole('button', { name: 'Decode the stage data' }).click();
  const decoded = page.getByRole('region', { name: 'Decoded stage data' });
  await decoded.waitFor();
  expect(await decoded.innerText()).toContain(`note of REF-decode-${RUN}`);
  await accessible(page, 'session with decoded stage data');
  const records = await server.audit.query({ ref: sessionRef(session.sessionId), action: 'codec.decode' });
  expect(records.map((r) => ({ actor: r.actor, phase: r.phase, outcome: r.outcome, detail: r.detail }))).toEqual([
    { actor: 'operator:vic', phase: 'intent', outcome: undefined, detail: { via: 'console' } },
    { actor: 'operator:vic', phase: 'outcome', outcome: 'ok', detail: { via: 'console', stages: 1 } },
  ]);
});

test('the version filter finds a session by FlowVersion; stuck, status and bad filters', async () => {
  const version = `console-v-${RUN}`;
  const versioned = await inReview(`REF-version-${RUN}`, version);
  await inReview(`REF-version-draft-${RUN}`);
  await visible(`SessionTag IN ('REF-version-${RUN}', 'REF-version-draft-${RUN}')`, 2);
  const { typedSearchAttributes } = await stack.client.workflow.getHandle(versioned.workflowId).describe();
  expect(typedSearchAttributes.get(FlowVersionKey)).toBe(version);

  const { page } = await signedIn('ada', '/console/sessions');
  await accessible(page, 'sessions');
  await page.getByLabel('Tenant').fill(TENANT.id);
  await page.getByLabel('Flow version').fill(version);
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/version=/);
  expect(await page.locator('tbody tr td:first-child').allInnerTexts()).toEqual([versioned.number]);
  expect(await page.locator('tbody tr').innerText()).toMatch(/in_progress/);
  await accessible(page, 'sessions filtered');
  // Stuck: in one stage longer than a minute; these sessions entered theirs just now.
  await page.goto(`${server.url}/console/sessions?tenant=${TENANT.id}&version=${version}&stuck=on&threshold=1440`);
  expect(await page.getByText('No session matches these filters.').count()).toBe(1);
  const bad = await page.goto(`${server.url}/console/sessions?tenant=${encodeURIComponent("x' OR 1=1")}`);
  expect(bad!.status()).toBe(400);
  expect(await page.getByRole('alert').innerText()).toContain('That tenant is not valid.');
  await accessible(page, 'sessions with a bad filter');
});

test('the sessions list, the session page and Find stand a session whose memo this codec cannot read (another namespace key): they need search attributes only', async () => {
  const tenant = `console-foreign-${RUN}`;
  const keyword = (value: string) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) });
  // A memo value sealed under the namespace key's id with some other key, as another store would have.
  const memo = encryptPayload(keyword('0000-000000-0000'), namespaceKeyId(stack.config.temporal.namespace), randomBytes(32));
  const workflowId = `session-${randomBytes(16).toString('hex')}`;
  await stack.client.workflowService.startWorkflowExecution({
    namespace: stack.config.temporal.namespace,
    workflowId,
    workflowType: { name: 'sessionWorkflow' },
    taskQueue: { name: `console-unpolled-${RUN}` },
    requestId: randomUUID(),
    memo: { fields: { number: memo } },
    searchAttributes: { indexedFields: { [ClientIdKey.name]: keyword(tenant), [SessionStatusKey.name]: keyword('in_progress') } },
  });
  try {
    await visible(`ClientId = '${tenant}'`, 1);
    const { page } = await signedIn('ada', `/console/sessions?tenant=${tenant}`);
    await heading(page, 'Sessions');
    expect(await page.locator('tbody tr').innerText()).toMatch(/in_progress/);
    // Its own page and Find by its workflow id stand it too: neither needs the memo.
    const own = await page.goto(`${server.url}/console/sessions/${workflowId}`);
    expect(own?.status()).toBe(200);
    expect(await page.locator('main').innerText()).toMatch(/in_progress/);
    const found = await page.goto(`${server.url}/console/find?q=${workflowId}`);
    expect(found?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe(`/console/sessions/${workflowId}`);
  } finally {
    await stack.client.workflow.getHandle(workflowId).terminate('the console test is done with it');
  }
});

test('the funnel draws the source’s report (table and SVG) and the live count per stage from visibility', async () => {
  const version = `console-funnel-${RUN}`;
  await inReview(`REF-funnel-1-${RUN}`, version);
  await inReview(`REF-funnel-2-${RUN}`, version);
  await visible(`FlowVersion = '${version}' AND SessionStage = 'check'`, 2);
  const { page, requests } = await signedIn('vic', '/console/funnel');
  expect(await page.getByText('Choose a tenant, a flow and a version to see its funnel.').count()).toBe(1);
  await accessible(page, 'funnel, nothing chosen');
  await page.getByLabel('Tenant').fill(TENANT.id);
  await page.getByLabel('Flow', { exact: true }).fill(REVIEWED.id);
  await page.getByLabel('Flow version').fill(version);
  await page.getByLabel('Window').selectOption('7');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/window=7/);
  expect(asked.at(-1)).toMatchObject({ clientId: TENANT.id, flowId: REVIEWED.id, flowVersion: version });
  expect(asked.at(-1)!.to - asked.at(-1)!.from).toBe(7 * 86_400_000);
  const funnel = await page.getByRole('region', { name: 'Funnel' }).innerText();
  expect(funnel).toMatch(/details\s+120\s+96\s+24 \(expired 14, declined 4, abandoned 6\)\s+48 s\s+4 min 20 s/);
  expect(funnel).toMatch(/check\s+96\s+0\s+96 \(completed 81, rejected in review 15\)\s+31 min 40 s\s+4 h/);
  expect(await page.getByRole('img', { name: 'Sessions per stage' }).count()).toBe(1);
  expect(await page.getByRole('region', { name: 'In this stage now' }).innerText()).toMatch(/check\s+2/);
  await accessible(page, 'funnel');
  await screenshot(page, 'console-funnel');
  expect(requests.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([]);
});

test("make start's Temporal UI saved queries are queries visibility takes: in review finds a waiting session, failures a rejected one, stuck none of these", async () => {
  await inReview(`REF-saved-${RUN}`);
  const rejected = await inReview(`REF-saved-rejected-${RUN}`);
  // Decided through the JSON route (the console's own path, the ReviewDesk).
  const decision = await fetch(`${server.url}/reviews/${rejected.workflowId}/decision`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CONSOLE_OPERATORS.rita.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ decisionId: `saved-${RUN}`, decision: 'reject', reason: 'doubt' }),
  });
  expect(decision.status).toBe(200);
  const [failures, stuck, inReviewQuery] = temporalUiQueries(TEMPORAL_UI, stack.config.temporal.namespace, Date.now()).map((q) => q.query);
  const mine = (query: string, tag: string) => `${query} AND SessionTag = '${tag}'`;
  await visible(mine(inReviewQuery, `REF-saved-${RUN}`), 1);
  await visible(mine(failures, `REF-saved-rejected-${RUN}`), 1);
  await visible(mine(inReviewQuery, `REF-saved-rejected-${RUN}`), 0);
  expect((await stack.client.workflow.count(mine(stuck, `REF-saved-${RUN}`))).count).toBe(0);
});
