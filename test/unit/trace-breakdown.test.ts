/**
 * The bench's split of a call's trace (bench/traces.ts), on spans written out here: OTLP/HTTP
 * JSON as the exporter sends it, read back, grouped by session and cut into the api, the Temporal
 * round trip, the session's first workflow task, the call's own workflow tasks, the activity and
 * the provider.
 */
import { breakdownTable, firstTaskOf, medianBreakdown, sessionSteps, spansOfRequest, stepBreakdown, type ReceivedSpan } from '../../bench/traces';

const ms = (value: number) => `${BigInt(value) * 1_000_000n}`;
const str = (value: string) => ({ stringValue: value });

/** One step's trace of a provider step, as the api and the worker export it (times in ms). */
function providerStepRequest(traceId: string, at: number, workflowId: string) {
  const span = (spanId: string, parentSpanId: string, name: string, start: number, end: number, attributes: Array<{ key: string; value: object }> = []) => ({
    traceId, spanId, parentSpanId, name, kind: 1, startTimeUnixNano: ms(at + start), endTimeUnixNano: ms(at + end), attributes,
  });
  const done = (value: number) => ({ key: 'sessionflow.activation_done_unix_ms', value: { intValue: String(at + value) } });
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: str('sessionflow-api') }] },
        scopeSpans: [{ spans: [
          span('a1', '', 'POST /v1/sessions/:id/steps', 0, 100, [{ key: 'http.route', value: str('/v1/sessions/:id/steps') }]),
          span('a2', 'a1', 'StartWorkflowUpdate:submitStep', 10, 90, [{ key: 'temporalWorkflowId', value: str(workflowId) }]),
        ] }],
      },
      {
        resource: { attributes: [{ key: 'service.name', value: str('sessionflow-worker') }] },
        scopeSpans: [{ spans: [
          // The workflow's clock stands at each task's start: 20 for the first, 60 for the second.
          span('w1', 'a2', 'ValidateUpdate:submitStep', 20, 20, [done(23)]),
          span('w2', 'a2', 'HandleUpdate:submitStep', 20, 60, [done(62)]),
          span('w3', 'w2', 'StartActivity:finqwareStep', 20, 60, [done(62)]),
          span('r1', 'w3', 'RunActivity:finqwareStep', 30, 55),
          span('p1', 'r1', 'POST finqware', 35, 50, [{ key: 'sessionflow.provider', value: str('finqware') }]),
        ] }],
      },
    ],
  };
}

test('an OTLP/HTTP JSON export reads back as spans, with their process, times in ms and attributes', () => {
  const spans = spansOfRequest(providerStepRequest('t1', 1_000, 'session-0'));
  expect(spans).toHaveLength(7);
  expect(spans[0]).toEqual({
    traceId: 't1', spanId: 'a1', parentSpanId: null, name: 'POST /v1/sessions/:id/steps', service: 'sessionflow-api',
    startMs: 1_000, endMs: 1_100, attributes: { 'http.route': '/v1/sessions/:id/steps' },
  });
  expect(spans[2]).toMatchObject({ service: 'sessionflow-worker', parentSpanId: 'a2', attributes: { 'sessionflow.activation_done_unix_ms': 1_023 } });
});

test("a provider step's 100 ms: 20 in the api, 50 in Temporal, 3 + 2 in two workflow tasks, 10 in the activity, 15 at the provider", () => {
  expect(stepBreakdown(spansOfRequest(providerStepRequest('t1', 1_000, 'session-0')))).toEqual({
    apiMs: 20, temporalMs: 50, firstTaskMs: 0, workflowTaskMs: 5, activityMs: 10, providerMs: 15, wholeMs: 100,
  });
});

test('an input step (no activity): its one workflow task and the rest of the client call', () => {
  const trace: ReceivedSpan[] = [
    { traceId: 't', spanId: 'a', parentSpanId: null, name: 'POST /v1/sessions/:id/steps', service: 'sessionflow-api', startMs: 0, endMs: 12, attributes: {} },
    { traceId: 't', spanId: 'b', parentSpanId: 'a', name: 'StartWorkflowUpdate:submitStep', service: 'sessionflow-api', startMs: 2, endMs: 11, attributes: {} },
    { traceId: 't', spanId: 'c', parentSpanId: 'b', name: 'HandleUpdate:submitStep', service: 'sessionflow-worker', startMs: 5, endMs: 5, attributes: { 'sessionflow.activation_done_unix_ms': 7 } },
    { traceId: 't', spanId: 'd', parentSpanId: 'b', name: 'ValidateUpdate:submitStep', service: 'sessionflow-worker', startMs: 5, endMs: 5, attributes: { 'sessionflow.activation_done_unix_ms': 7 } },
  ];
  expect(stepBreakdown(trace)).toEqual({ apiMs: 3, temporalMs: 7, firstTaskMs: 0, workflowTaskMs: 2, activityMs: 0, providerMs: 0, wholeMs: 12 });
});

/** A session's create (its start answered at 8; the first task runs 9 to 19) and its launch, sent at 10, which waits for that task. */
function createAndLaunch(at: number, workflowId: string): ReceivedSpan[] {
  const span = (traceId: string, spanId: string, parentSpanId: string | null, name: string, start: number, end: number, attributes: ReceivedSpan['attributes'] = {}): ReceivedSpan => ({
    traceId, spanId, parentSpanId, name, service: 'test', startMs: at + start, endMs: at + end, attributes,
  });
  const c = `c-${workflowId}`;
  const l = `l-${workflowId}`;
  return [
    span(c, 'c1', null, 'POST /api/v1/public/flowx/handshake', 0, 9, { 'http.route': '/api/v1/public/flowx/handshake', 'http.request.method': 'POST' }),
    span(c, 'c2', 'c1', 'StartWorkflow:sessionWorkflow', 3, 8, { temporalWorkflowId: workflowId }),
    span(c, 'c3', 'c2', 'RunWorkflow:sessionWorkflow', 9, 9, { 'sessionflow.activation_done_unix_ms': at + 19 }),
    // What the run schedules much later (the funnel's write) stays in the start's trace, and is not the create's.
    span(c, 'c4', 'c2', 'StartActivity:recordFunnel', 500, 500, { 'sessionflow.activation_done_unix_ms': at + 503 }),
    span(c, 'c5', 'c4', 'RunActivity:recordFunnel', 501, 502),
    span(l, 'l1', null, 'POST /v1/handshakes/:id/launch', 10, 35, { 'http.route': '/v1/handshakes/:id/launch' }),
    span(l, 'l2', 'l1', 'StartWorkflowUpdate:launch', 11, 34, { temporalWorkflowId: workflowId }),
    span(l, 'l3', 'l2', 'ValidateUpdate:launch', 24, 24, { 'sessionflow.activation_done_unix_ms': at + 28 }),
    span(l, 'l4', 'l2', 'HandleUpdate:launch', 24, 24, { 'sessionflow.activation_done_unix_ms': at + 28 }),
  ];
}

test("a launch sent while the session's first workflow task runs: that task's part is its own column, and the create keeps none of what its run does later", () => {
  const spans = createAndLaunch(1_000, 'session-a');
  const create = spans.filter((span) => span.traceId === 'c-session-a');
  const launch = spans.filter((span) => span.traceId === 'l-session-a');
  expect(firstTaskOf(create)).toEqual({ startMs: 1_009, doneMs: 1_019 });
  // 25 ms: 2 in the api (10-11, 34-35), the first task's 10 (9-19, all inside the client call 11-34 but 9-11: 8),
  // its own task 4 (24-28), the rest of the client call (23 - 8 - 4 = 11) in Temporal.
  expect(stepBreakdown(launch, firstTaskOf(create))).toEqual({ apiMs: 2, temporalMs: 11, firstTaskMs: 8, workflowTaskMs: 4, activityMs: 0, providerMs: 0, wholeMs: 25 });
  // The create's start answered before the first task ran: 4 in the api, 5 in Temporal, nothing else.
  expect(stepBreakdown(create, firstTaskOf(create))).toEqual({ apiMs: 4, temporalMs: 5, firstTaskMs: 0, workflowTaskMs: 0, activityMs: 0, providerMs: 0, wholeMs: 9 });
  // Had the first task started (12 to 22) after the launch came, the update runs in it: that task is the launch's own, counted once.
  const inFirst = launch.map((span) => (/^(Validate|Handle)Update:/.test(span.name) ? { ...span, startMs: 1_012, endMs: 1_012, attributes: { 'sessionflow.activation_done_unix_ms': 1_022 } } : span));
  expect(stepBreakdown(inFirst, { startMs: 1_012, doneMs: 1_022 })).toMatchObject({ firstTaskMs: 0, workflowTaskMs: 10, temporalMs: 13 });
});

test("sessions' call traces are told apart by workflow id and ordered in time, whatever order they came in", () => {
  const step = (traceId: string, at: number, workflowId: string) => spansOfRequest(providerStepRequest(traceId, at, workflowId));
  // Session x's steps at 1000, 2000, 3000 (the last one slower); session y's at 1500, 2500, 3500; z seen only in part.
  const slow = step('x3', 3_000, 'session-x').map((span) => (span.spanId === 'a1' ? { ...span, endMs: span.endMs + 40 } : span));
  const opened = [...createAndLaunch(500, 'session-x'), ...createAndLaunch(600, 'session-y'), ...createAndLaunch(700, 'session-z')];
  const spans = [...slow, ...step('y2', 2_500, 'session-y'), ...opened, ...step('x1', 1_000, 'session-x'), ...step('y1', 1_500, 'session-y'), ...step('z1', 1_200, 'session-z'), ...step('x2', 2_000, 'session-x'), ...step('y3', 3_500, 'session-y')];
  const steps = sessionSteps(spans, ['first', 'second', 'last']);
  expect([...steps.keys()]).toEqual(['create', 'launch', 'first', 'second', 'last']);
  expect(steps.get('launch')!.map((b) => b.firstTaskMs)).toEqual([8, 8]);
  expect(steps.get('first')!.map((b) => b.wholeMs)).toEqual([100, 100]);
  expect(steps.get('first')!.map((b) => b.firstTaskMs)).toEqual([0, 0]);
  expect(steps.get('last')!.map((b) => b.apiMs).sort()).toEqual([20, 60]);
  const last = medianBreakdown(steps.get('last')!);
  expect(last).toMatchObject({ steps: 2, apiMs: 40, wholeMs: 120, providerMs: 15 });
  expect(breakdownTable({ launch: medianBreakdown(steps.get('launch')!), last })).toBe(
    [
      "| call | traces | api | Temporal round trip | the session's first workflow task | its own workflow tasks | activity | provider | whole call |",
      '|---|---|---|---|---|---|---|---|---|',
      '| launch | 2 | 2.0 | 11.0 | 8.0 | 4.0 | 0.0 | 0.0 | 25.0 |',
      '| last | 2 | 40.0 | 50.0 | 0.0 | 5.0 | 10.0 | 15.0 | 120.0 |',
    ].join('\n'),
  );
  // Results from before the first task was split out show none.
  const older: Partial<typeof last> = { ...last };
  delete older.firstTaskMs;
  expect(breakdownTable({ last: older as typeof last })).toContain('| last | 2 | 40.0 | 50.0 | – | 5.0 | 10.0 | 15.0 | 120.0 |');
});
