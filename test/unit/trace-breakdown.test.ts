/**
 * The bench's split of a step's trace (bench/traces.ts), on spans written out here: OTLP/HTTP
 * JSON as the exporter sends it, read back, grouped by session and cut into the api, the Temporal
 * round trip, workflow tasks, the activity and the provider.
 */
import { breakdownTable, medianBreakdown, sessionSteps, spansOfRequest, stepBreakdown, type ReceivedSpan } from '../../bench/traces';

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
    apiMs: 20, temporalMs: 50, workflowTaskMs: 5, activityMs: 10, providerMs: 15, wholeMs: 100,
  });
});

test('an input step (no activity): its one workflow task and the rest of the client call', () => {
  const trace: ReceivedSpan[] = [
    { traceId: 't', spanId: 'a', parentSpanId: null, name: 'POST /v1/sessions/:id/steps', service: 'sessionflow-api', startMs: 0, endMs: 12, attributes: {} },
    { traceId: 't', spanId: 'b', parentSpanId: 'a', name: 'StartWorkflowUpdate:submitStep', service: 'sessionflow-api', startMs: 2, endMs: 11, attributes: {} },
    { traceId: 't', spanId: 'c', parentSpanId: 'b', name: 'HandleUpdate:submitStep', service: 'sessionflow-worker', startMs: 5, endMs: 5, attributes: { 'sessionflow.activation_done_unix_ms': 7 } },
    { traceId: 't', spanId: 'd', parentSpanId: 'b', name: 'ValidateUpdate:submitStep', service: 'sessionflow-worker', startMs: 5, endMs: 5, attributes: { 'sessionflow.activation_done_unix_ms': 7 } },
  ];
  expect(stepBreakdown(trace)).toEqual({ apiMs: 3, temporalMs: 7, workflowTaskMs: 2, activityMs: 0, providerMs: 0, wholeMs: 12 });
});

test("sessions' step traces are told apart by workflow id and ordered in time, whatever order they came in", () => {
  const step = (traceId: string, at: number, workflowId: string) => spansOfRequest(providerStepRequest(traceId, at, workflowId));
  // Session x's steps at 1000, 2000, 3000 (the last one slower); session y's at 1500, 2500, 3500; z seen only in part.
  const slow = step('x3', 3_000, 'session-x').map((span) => (span.spanId === 'a1' ? { ...span, endMs: span.endMs + 40 } : span));
  const spans = [...slow, ...step('y2', 2_500, 'session-y'), ...step('x1', 1_000, 'session-x'), ...step('y1', 1_500, 'session-y'), ...step('z1', 1_200, 'session-z'), ...step('x2', 2_000, 'session-x'), ...step('y3', 3_500, 'session-y')];
  const steps = sessionSteps(spans, ['first', 'second', 'last']);
  expect([...steps.keys()]).toEqual(['first', 'second', 'last']);
  expect(steps.get('first')!.map((b) => b.wholeMs)).toEqual([100, 100]);
  expect(steps.get('last')!.map((b) => b.apiMs).sort()).toEqual([20, 60]);
  const last = medianBreakdown(steps.get('last')!);
  expect(last).toMatchObject({ steps: 2, apiMs: 40, wholeMs: 120, providerMs: 15 });
  expect(breakdownTable({ last })).toBe(
    [
      '| step | traces | api | Temporal round trip | workflow tasks | activity | provider | whole step |',
      '|---|---|---|---|---|---|---|---|',
      '| last | 2 | 40.0 | 50.0 | 5.0 | 10.0 | 15.0 | 120.0 |',
    ].join('\n'),
  );
});
