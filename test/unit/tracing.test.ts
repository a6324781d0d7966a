/**
 * Tracing's settings and what a span may carry out of a process (src/tracing.ts): off unless
 * SESSIONFLOW_OTLP_ENDPOINT is set, and then only attributes that name no session and no person.
 */
import { trace } from '@opentelemetry/api';
import { loadConfig } from '../../src/config';
import { exportedAttributes, startTracing } from '../../src/tracing';

const REF = '0123456789abcdef0123456789abcdef';

test('tracing is off by default: no endpoint, no SDK, spans record nothing', () => {
  const config = loadConfig({});
  expect(config.tracing).toBeUndefined();
  expect(startTracing(config, 'sessionflow-api')).toBeNull();
  expect(trace.getTracer('test').startSpan('probe').isRecording()).toBe(false);
});

test("SESSIONFLOW_OTLP_ENDPOINT is the collector's OTLP/HTTP base: spans go to its /v1/traces", () => {
  expect(loadConfig({ SESSIONFLOW_OTLP_ENDPOINT: 'http://collector.internal:4318/' }).tracing).toEqual({ otlpTracesUrl: 'http://collector.internal:4318/v1/traces' });
  expect(() => loadConfig({ SESSIONFLOW_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/^SESSIONFLOW_OTLP_ENDPOINT must be an http or https URL \(got "collector:4318"\)$/);
});

test('hashed workflow and update ids leave the process; a legacy session id, an event id and anything unknown do not', () => {
  const hashed = {
    'http.route': '/v1/sessions/:id/steps',
    'http.response.status_code': 200,
    temporalWorkflowId: `session-${REF}`,
    temporalUpdateId: `step-${REF}${REF}`,
    run_id: '0b1e5c9a-3c1f-4b8e-9d2a-7f6e5d4c3b2a',
    temporalActivityId: '3',
  };
  expect(exportedAttributes(hashed)).toEqual(hashed);
  expect(
    exportedAttributes({
      // A session from before ids were hashed lives under its id, which launches it.
      temporalWorkflowId: 'DS8xk2LmQ9pR4sT7vW1yZ3',
      // A backend event's update id carries the caller's own event id.
      temporalUpdateId: 'event-signup-jane@example.com',
      'http.url': '/v1/handshakes/DS8xk2LmQ9pR4sT7vW1yZ3/launch',
      memo: 'anything',
      constructor: 'x',
    }),
  ).toEqual({});
});
