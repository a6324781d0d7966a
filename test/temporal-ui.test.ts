/**
 * What an operator sees: the dev server's own Temporal UI, in headless Chromium, lists the
 * sessions of one status (and only those) through a SessionStatus list query, and shows a
 * session's static summary. Screenshots go to .data/test-logs/ (docs/ holds one for the README).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { TenantClient } from '../src/tenants/registry';
import { launchChromium } from '../scripts/chromium';
import { sessionWorkflowId } from '../src/session-secret';
import { eventually } from './helpers/stack';
import { useStack } from './helpers/use-stack';

/** Its own tenant, so the list query can narrow to this file's sessions on a shared server. */
const TENANT: TenantClient = { id: 'demo-tenant', secret: 'demo-tenant-secret-0123456789', perSecond: 1000, perDay: 1_000_000 };
const SCREENSHOTS = join(__dirname, '..', '.data', 'test-logs');
const UI_TIMEOUT_MS = 30_000;

/**
 * The UI keeps its list columns in localStorage: what the README's Monitoring section tells an
 * operator to configure (Run ID out; SessionStatus, SessionStage, SessionStageSince and
 * SessionOutcome in, after Workflow ID), so the screenshot shows them without scrolling.
 */
const LIST_COLUMNS = {
  default: [
    { label: 'Status', pinned: true },
    { label: 'Workflow ID', pinned: true },
    { label: 'SessionStatus', pinned: false },
    { label: 'SessionStage', pinned: false },
    { label: 'SessionStageSince', pinned: false },
    { label: 'SessionOutcome', pinned: false },
    { label: 'Type', pinned: false },
    { label: 'Start', pinned: false },
    { label: 'End', pinned: false },
  ],
};

const { stack, api } = useStack('temporal-ui', { api: { clients: [TENANT] } });
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
});

async function createSession(tag: string): Promise<{ id: string; number: string }> {
  const created = await api.call('POST', '/api/v1/public/flowx/handshake', { as: TENANT, body: { flow: 'consent-only', snapshot: null, tag } });
  expect(created.status).toBe(200);
  return { id: created.body._id, number: created.body.number };
}

async function launch(sessionId: string): Promise<string> {
  const launched = await api.call('POST', `/v1/handshakes/${sessionId}/launch`);
  expect(launched.body.status).toBe('SESSION_IN_PROGRESS');
  return launched.body.nonce;
}

async function listedIds(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of stack.client.workflow.list({ query })) ids.push(execution.workflowId);
  return ids;
}

/** Keeps the page's state on failure, to see what the UI showed instead. */
async function screenshotOnFailure<T>(page: Page, run: () => Promise<T>): Promise<T> {
  const failure = join(SCREENSHOTS, 'temporal-ui-failure.png');
  rmSync(failure, { force: true });
  try {
    return await run();
  } catch (err) {
    await page.screenshot({ path: failure, fullPage: true }).catch(() => undefined);
    throw err;
  }
}

test('the Temporal UI lists sessions by SessionStatus, with their summary', async () => {
  const uiUrl = process.env.TEMPORAL_UI_URL;
  if (!uiUrl) throw new Error('TEMPORAL_UI_URL is not set: run the tests with `make test`, which starts the dev server with its UI');

  const consumed = await createSession('REF-1001');
  const nonce = await launch(consumed.id);
  const done = await api.call('POST', `/v1/sessions/${consumed.id}/steps`, {
    body: { client_id: TENANT.id, skill: 'consent-only', nonce, step: 'consent', data: { accepted: true } },
  });
  expect(done.body.status).toBe('SESSION_COMPLETED');
  const inProgress = await createSession('REF-1002');
  await launch(inProgress.id);
  // Temporal lists sessions under their workflow ids (a hash of the session id, README: Personal data).
  const consumedWorkflow = sessionWorkflowId(consumed.id);
  const inProgressWorkflow = sessionWorkflowId(inProgress.id);

  const byStatus = (status: string) => `SessionStatus="${status}" AND ClientId="${TENANT.id}"`;
  // Both must be visible with their status first, or the one not listed below proves nothing.
  await eventually(
    async () => ((await listedIds(byStatus('consumed'))).includes(consumedWorkflow) && (await listedIds(byStatus('in_progress'))).includes(inProgressWorkflow) ? true : undefined),
    UI_TIMEOUT_MS,
    'visibility to show both sessions with their status',
  );

  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1920, height: 600 } });
  await context.addInitScript(`localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(JSON.stringify(LIST_COLUMNS))});`);
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);

  await screenshotOnFailure(page, async () => {
    const listUrl = `${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(byStatus('consumed'))}`;
    const rows = page.getByTestId('workflows-summary-configurable-table-row');
    const consumedRow = rows.filter({ hasText: consumedWorkflow });
    // The UI reads visibility too: reload until it lists the session (bounded).
    await eventually(async () => {
      await page.goto(listUrl);
      return (await consumedRow.waitFor({ timeout: 5_000 }).then(() => true, () => false)) ? true : undefined;
    }, UI_TIMEOUT_MS, `the UI to list ${consumedWorkflow}`);
    await expect(consumedRow.count()).resolves.toBe(1);
    await expect(rows.filter({ hasText: inProgressWorkflow }).count()).resolves.toBe(0);

    // The README's list: the tenant's sessions, live and ended, with status, stage and outcome.
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`ClientId="${TENANT.id}" AND WorkflowType="sessionWorkflow"`)}`);
    const inProgressRow = rows.filter({ hasText: inProgressWorkflow });
    await inProgressRow.waitFor();
    await expect(inProgressRow.getByText('consent', { exact: true }).count()).resolves.toBe(1);
    await expect(rows.filter({ hasText: consumedWorkflow }).getByText('success', { exact: true }).count()).resolves.toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-sessions.png') });
    await page.goto(listUrl);
    await consumedRow.waitFor();

    // The list API carries no user metadata, so the summary shows on the session's own page.
    await consumedRow.getByRole('link', { name: consumedWorkflow }).click();
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    const summary = `Session ${consumed.number} · flow consent-only@draft · client ${TENANT.id}`;
    await page.frameLocator('#user-metadata-summary').getByText(summary).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-session-summary.png') });
  });
  // Above the sum of the bounded waits inside (about 160 s at worst), so that one of them fails
  // first, with its message and the failure screenshot, rather than jest's own timeout.
}, 240_000);

test('through the codec server the UI shows a live session decoded (screenshot for the README)', async () => {
  const uiUrl = process.env.TEMPORAL_UI_URL!;
  const person = { name: 'Quintessa Marlowbridge', birthDate: '03-11-1957' };
  const { sessionId } = await stack.gateway.create({ tenantId: TENANT.id, tag: 'REF-decoded', definition: stack.definition('kyc-basic') });
  const launched = await stack.gateway.launch(sessionId);
  await stack.gateway.submitStep(sessionId, { nonce: launched.nonce!, step: 'identity', input: person });

  browser ??= await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await screenshotOnFailure(page, async () => {
    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(sessionWorkflowId(sessionId))}`);
    // The accepted update's input holds the person's data; the UI decodes it through the codec server.
    await page.getByRole('tab', { name: /Event History/ }).click();
    await page.getByText(/Update Accepted/).first().click();
    await page.getByText(person.name).first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-decoded.png'), fullPage: false });
  });
}, 120_000);
