/**
 * Where a step's time goes, from its trace (docs/guides/tracing.md): an OTLP/HTTP receiver on
 * loopback that keeps what the api and the worker export, the spans read back, and a step's
 * trace split into the api, the Temporal round trip, workflow tasks, the activity and the
 * provider. The bench (bench/run.ts) and test/traces.test.ts both receive with it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as received, with its times in ms since the epoch and its attributes flattened. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** The exporting process's `service.name`. */
  service: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** The base URL, for SESSIONFLOW_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Every request body as it came, to check what left the processes. */
  bodies: string[];
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; startTimeUnixNano: string; endTimeUnixNano: string; attributes?: OtlpAttribute[] }> }>;
  }>;
}

function valueOf(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  return value.doubleValue ?? '';
}

const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));
const nanosToMs = (nanos: string) => Number(BigInt(nanos) / 1000n) / 1000;

/** The spans of one OTLP/HTTP JSON export request (what @opentelemetry/exporter-trace-otlp-http sends). */
export function spansOfRequest(body: OtlpRequest): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? 'unknown');
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ? span.parentSpanId : null,
        name: span.name,
        service,
        startMs: nanosToMs(span.startTimeUnixNano),
        endMs: nanosToMs(span.endTimeUnixNano),
        attributes: attributesOf(span.attributes),
      })),
    );
  });
}

/** An OTLP/HTTP traces receiver on a free loopback port: JSON only, which is what the exporter sends. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.statusCode = req.url === '/v1/traces' ? 415 : 404;
        res.end();
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      bodies.push(text);
      spans.push(...spansOfRequest(JSON.parse(text) as OtlpRequest));
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every span of a trace, by trace id. */
export function byTrace(spans: ReceivedSpan[]): Map<string, ReceivedSpan[]> {
  const traces = new Map<string, ReceivedSpan[]>();
  for (const span of spans) traces.set(span.traceId, [...(traces.get(span.traceId) ?? []), span]);
  return traces;
}

/** Where one step's time went, in ms; the parts add up to `wholeMs`. */
export interface StepBreakdown {
  /** In the api, outside its Temporal client calls: limits, authentication, validation, nonces, encoding. */
  apiMs: number;
  /** The client calls' time that no worker span accounts for: the Temporal server, polling, and the network. */
  temporalMs: number;
  /** Workflow tasks, each from its start (the workflow's clock) to the end of the worker's activation. */
  workflowTaskMs: number;
  /** Activity attempts, outside their provider calls. */
  activityMs: number;
  /** Provider HTTP calls. */
  providerMs: number;
  wholeMs: number;
}

const duration = (span: ReceivedSpan) => span.endMs - span.startMs;
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
export const ACTIVATION_DONE = 'sessionflow.activation_done_unix_ms';

/**
 * One step's trace, split. The root is the api's request span; its children are the Temporal
 * client's calls. Inside the workflow sandbox the clock stands at the task's start, so a workflow
 * span ends at the start of the task it ended in, and carries (ACTIVATION_DONE) when the worker
 * finished that task's activation: each distinct pair is one workflow task.
 */
export function stepBreakdown(trace: ReceivedSpan[]): StepBreakdown {
  const root = trace.find((span) => span.parentSpanId === null);
  if (!root) throw new Error('a step trace without its api request span');
  const clientMs = sum(trace.filter((span) => span.parentSpanId === root.spanId).map(duration));
  const tasks = new Map<number, number>();
  for (const span of trace) {
    const done = span.attributes[ACTIVATION_DONE];
    if (typeof done === 'number') tasks.set(span.endMs, Math.max(done, tasks.get(span.endMs) ?? done));
  }
  const workflowTaskMs = sum([...tasks].map(([start, done]) => done - start));
  const providerMs = sum(trace.filter((span) => span.attributes['sessionflow.provider'] !== undefined).map(duration));
  const attemptsMs = sum(trace.filter((span) => span.name.startsWith('RunActivity:')).map(duration));
  const wholeMs = duration(root);
  return {
    apiMs: wholeMs - clientMs,
    temporalMs: clientMs - workflowTaskMs - attemptsMs,
    workflowTaskMs,
    activityMs: attemptsMs - providerMs,
    providerMs,
    wholeMs,
  };
}

/** The median of each part over several steps of one kind. */
export function medianBreakdown(steps: StepBreakdown[]): StepBreakdown & { steps: number } {
  const median = (pick: (step: StepBreakdown) => number) => {
    const values = steps.map(pick).sort((a, b) => a - b);
    const middle = Math.floor(values.length / 2);
    return values.length % 2 === 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
  };
  return {
    apiMs: median((s) => s.apiMs),
    temporalMs: median((s) => s.temporalMs),
    workflowTaskMs: median((s) => s.workflowTaskMs),
    activityMs: median((s) => s.activityMs),
    providerMs: median((s) => s.providerMs),
    wholeMs: median((s) => s.wholeMs),
    steps: steps.length,
  };
}

/**
 * The step traces of whole sessions, each session's steps in order and named by `stepNames`: the
 * traces of the api's step route, grouped by the session's workflow id (a hash) on their Temporal
 * client span.
 */
export function sessionSteps(spans: ReceivedSpan[], stepNames: readonly string[]): Map<string, StepBreakdown[]> {
  const sessions = new Map<string, ReceivedSpan[][]>();
  for (const trace of byTrace(spans).values()) {
    const root = trace.find((span) => span.parentSpanId === null);
    if (!root || root.attributes['http.route'] !== '/v1/sessions/:id/steps') continue;
    const workflowId = trace.find((span) => span.parentSpanId === root.spanId && span.attributes.temporalWorkflowId)?.attributes.temporalWorkflowId;
    if (typeof workflowId !== 'string') continue;
    sessions.set(workflowId, [...(sessions.get(workflowId) ?? []), trace]);
  }
  const steps = new Map<string, StepBreakdown[]>(stepNames.map((name) => [name, []]));
  for (const traces of sessions.values()) {
    if (traces.length !== stepNames.length) continue; // a session not seen whole
    const ordered = traces.map((trace) => ({ trace, start: Math.min(...trace.map((span) => span.startMs)) })).sort((a, b) => a.start - b.start);
    ordered.forEach(({ trace }, index) => steps.get(stepNames[index])!.push(stepBreakdown(trace)));
  }
  return steps;
}

export type TraceBreakdowns = Record<string, StepBreakdown & { steps: number }>;

/** The report's table: one row per step kind, the median of each part. */
export function breakdownTable(breakdowns: TraceBreakdowns): string {
  const ms = (value: number) => value.toFixed(1);
  const rows = Object.entries(breakdowns).map(
    ([op, b]) => `| ${op} | ${b.steps} | ${ms(b.apiMs)} | ${ms(b.temporalMs)} | ${ms(b.workflowTaskMs)} | ${ms(b.activityMs)} | ${ms(b.providerMs)} | ${ms(b.wholeMs)} |`,
  );
  return ['| step | traces | api | Temporal round trip | workflow tasks | activity | provider | whole step |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
