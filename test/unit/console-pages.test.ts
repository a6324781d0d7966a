/**
 * The console's pages as pure functions: the funnel drawn from a report written out by hand
 * (table and SVG), HTML escaping, the queue's order, the filters a query string may name, and
 * the timeline read from search-attribute upserts.
 */
import type { FunnelReport } from '../../src/funnel/report';
import { funnelBody, liveCounts } from '../../src/console/funnel-page';
import { html, renderPage } from '../../src/console/html';
import { readFilters, sessionsQuery, DEFAULT_STUCK_MINUTES } from '../../src/console/queries';
import { queueOrder } from '../../src/console/review-pages';
import { timelineOf, type SessionRow } from '../../src/console/sessions-data';

const REPORT: FunnelReport = {
  query: { clientId: 'acme', flowId: 'kyc-basic', flowVersion: 'snap-7', from: 0, to: 1 },
  sessions: 10,
  stages: [
    { stage: 'identity', entered: 10, wentOn: 8, endedHere: { completed: 0, expired: 1, declined: 1, provider_error: 0, review_rejected: 0, abandoned: 0 }, timeInStage: { p50: 65_000, p90: 3_720_000 } },
    { stage: 'aadhaar', entered: 8, wentOn: 4, endedHere: { completed: 0, expired: 0, declined: 0, provider_error: 3, review_rejected: 0, abandoned: 1 }, timeInStage: { p50: 2_000, p90: 9_000 } },
    { stage: '<bank>', entered: 4, wentOn: 0, endedHere: { completed: 4, expired: 0, declined: 0, provider_error: 0, review_rejected: 0, abandoned: 0 }, timeInStage: { p50: null, p90: null } },
  ],
};

/** The table's rows, as text per cell. */
function rows(page: string): string[][] {
  const body = page.slice(page.indexOf('<tbody>'), page.indexOf('</tbody>'));
  return [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map(([, row]) => [...row.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map(([, cell]) => cell));
}

test('the funnel: one row per stage with entered, went on, ended here by ending and p50/p90, and an SVG bar per stage', () => {
  const page = funnelBody({ choice: { tenant: 'acme', flow: 'kyc-basic', version: 'snap-7', window: '30' }, problems: [], report: REPORT, live: null }).html;
  expect(page).toContain('10 sessions ended in this window.');
  expect(rows(page)).toEqual([
    ['identity', '10', '8', '2 (expired 1, declined 1)', '1 min 5 s', '1 h 2 min'],
    ['aadhaar', '8', '4', '4 (provider error 3, abandoned 1)', '2 s', '9 s'],
    ['&lt;bank&gt;', '4', '0', '4 (completed 4)', '—', '—'],
  ]);
  const svg = page.slice(page.indexOf('<svg'), page.indexOf('</svg>'));
  expect(svg).toContain('role="img"');
  expect(svg).not.toContain('<bank>');
  // Bars scale to the largest stage: 400 px of bar space for 10 sessions.
  const widths = [...svg.matchAll(/<rect x="180" y="\d+" width="(\d+)" height="22"/g)].map(([, w]) => Number(w));
  expect(widths).toEqual([400, 320, 320, 160, 160, 0]);
  expect(svg).not.toMatch(/style=|<script/);
});

test('with no FunnelSource the page says so plainly; with nothing chosen it asks for a choice', () => {
  expect(funnelBody({ choice: { window: '30' }, problems: [], live: null }).html).toContain('No funnel data source is configured in this console');
  expect(funnelBody({ choice: { window: '30' }, problems: [], report: null, live: null }).html).toContain('Choose a tenant, a flow and a version');
});

test('live counts group running sessions by stage, most first', () => {
  expect(liveCounts(['b', 'a', 'b', null, 'c', 'b', 'a'], null)).toEqual({ stages: [{ stage: 'b', count: 3 }, { stage: 'a', count: 2 }, { stage: 'c', count: 1 }], cappedAt: null });
});

test('every interpolated value is escaped, in text and attributes', () => {
  const value = `"><script>alert('x')</script>`;
  expect(html`<a href="${value}">${value}</a>`.html).toBe('<a href="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</a>');
  const page = renderPage({ title: value, body: html`` });
  expect(page).not.toContain('<script');
});

test('the review queue is oldest first, by when each session entered review', () => {
  const row = (workflowId: string, since: number | null) => ({ workflowId, stageSince: since === null ? null : new Date(since) }) as SessionRow;
  expect(queueOrder([row('c', 3000), row('none', null), row('a', 1000), row('b', 2000)]).map((r) => r.workflowId)).toEqual(['a', 'b', 'c', 'none']);
});

test('filters: each checked before it reaches a query; stuck has a default threshold', () => {
  expect(readFilters({ tenant: "x' OR 1=1", outcome: 'lost', threshold: '0' }).problems).toEqual(['tenant', 'outcome', 'thresholdMinutes']);
  const { filters, problems } = readFilters({ tenant: 'acme', version: 'draft', stuck: 'on' });
  expect(problems).toEqual([]);
  expect(filters.thresholdMinutes).toBe(DEFAULT_STUCK_MINUTES);
  const now = Date.parse('2026-01-02T00:00:00Z');
  expect(sessionsQuery(filters, now)).toBe(
    "WorkflowType = 'sessionWorkflow' AND ExecutionStatus = 'Running' AND ClientId = 'acme' AND FlowVersion = 'draft' AND SessionStageSince < '2026-01-01T23:00:00.000Z'",
  );
});

test('the timeline: each change of stage, status or outcome the search attributes recorded, at the stage entry time', () => {
  const payload = (value: unknown) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: value === null ? new Uint8Array() : Buffer.from(JSON.stringify(value)) });
  const at = (seconds: number) => ({ seconds, nanos: 0 });
  const events = [
    { eventTime: at(100), workflowExecutionStartedEventAttributes: { searchAttributes: { indexedFields: { SessionStatus: payload('created'), SessionStage: payload('details'), SessionStageSince: payload('1970-01-01T00:01:40.000Z') } } } },
    { eventTime: at(150), upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { SessionStatus: payload('in_progress') } } } },
    { eventTime: at(160), upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { SessionReview: payload('pending') } } } },
    { eventTime: at(200), upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { SessionStage: payload('check'), SessionStageSince: payload('1970-01-01T00:03:19.000Z') } } } },
    { eventTime: at(300), upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { SessionStatus: payload('consumed'), SessionStage: payload(null), SessionStageSince: payload(null), SessionOutcome: payload('success') } } } },
  ];
  expect(timelineOf(events as unknown as Parameters<typeof timelineOf>[0]).map((e) => ({ ...e, at: e.at.toISOString() }))).toEqual([
    { at: '1970-01-01T00:01:40.000Z', stage: 'details', status: 'created', outcome: null },
    { at: '1970-01-01T00:02:30.000Z', stage: 'details', status: 'in_progress', outcome: null },
    { at: '1970-01-01T00:03:19.000Z', stage: 'check', status: 'in_progress', outcome: null },
    { at: '1970-01-01T00:05:00.000Z', stage: null, status: 'consumed', outcome: 'success' },
  ]);
});
