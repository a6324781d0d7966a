/**
 * Where a call's time goes, from its trace (docs/guides/tracing.md): an OTLP/HTTP receiver on
 * loopback that keeps what the api and the worker export, the spans read back, and the trace of
 * a create, a launch or a step split into the api, the Temporal round trip, the session's first
 * workflow task, its own workflow tasks, the activity and the provider. The bench (bench/run.ts)
 * and test/traces.test.ts both receive with it.
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
  /**
   * The session's first workflow task (the one its run starts in), where it ran during this
   * call's client calls: an update sent while it runs waits for it (Temporal runs one workflow
   * task of a workflow at a time), and the workflow start answers before it runs.
   */
  firstTaskMs: number;
  /** This call's own workflow tasks, each from its start (the workflow's clock) to the end of the worker's activation. */
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

/** A workflow task: its start (the workflow's clock) and when the worker had run its activation. */
export interface WorkflowTask {
  startMs: number;
  doneMs: number;
}

/** The span a run's first workflow task makes (src/workflows/tracing.ts), in its start's trace. */
const isRunStart = (span: ReceivedSpan) => span.name.startsWith('RunWorkflow:');

/** The first workflow task of the run a trace started, if the trace holds it. */
export function firstTaskOf(trace: ReceivedSpan[]): WorkflowTask | null {
  const span = trace.find(isRunStart);
  const done = span?.attributes[ACTIVATION_DONE];
  return span && typeof done === 'number' ? { startMs: span.endMs, doneMs: done } : null;
}

/** How much of [from, to] falls inside [start, end]. */
const overlap = (start: number, end: number, from: number, to: number) => Math.max(0, Math.min(end, to) - Math.max(start, from));

/**
 * One call's trace, split. The root is the api's request span; its children are the Temporal
 * client's calls. Inside the workflow sandbox the clock stands at the task's start, so a workflow
 * span ends at the start of the task it ended in, and carries (ACTIVATION_DONE) when the worker
 * finished that task's activation: each distinct pair is one workflow task. `firstTask` is the
 * session's first workflow task (from its create's trace, firstTaskOf): the part of it that ran
 * during this call's client calls, when this trace has no span of its own in it, is its own part.
 */
export function stepBreakdown(whole: ReceivedSpan[], firstTask: WorkflowTask | null = null): StepBreakdown {
  const root = whole.find((span) => span.parentSpanId === null);
  if (!root) throw new Error('a step trace without its api request span');
  // Only what started during the call: the run's own code continues its start's trace, so a
  // create's trace also holds what the run schedules later (the funnel's write at its end).
  const trace = whole.filter((span) => span.startMs >= root.startMs && span.startMs <= root.endMs);
  const clientCalls = trace.filter((span) => span.parentSpanId === root.spanId);
  const clientMs = sum(clientCalls.map(duration));
  const tasks = new Map<number, number>();
  for (const span of trace) {
    const done = span.attributes[ACTIVATION_DONE];
    if (typeof done === 'number' && !isRunStart(span)) tasks.set(span.endMs, Math.max(done, tasks.get(span.endMs) ?? done));
  }
  const workflowTaskMs = sum([...tasks].map(([start, done]) => done - start));
  const firstTaskMs =
    firstTask && !tasks.has(firstTask.startMs) ? sum(clientCalls.map((call) => overlap(firstTask.startMs, firstTask.doneMs, call.startMs, call.endMs))) : 0;
  const providerMs = sum(trace.filter((span) => span.attributes['sessionflow.provider'] !== undefined).map(duration));
  const attemptsMs = sum(trace.filter((span) => span.name.startsWith('RunActivity:')).map(duration));
  const wholeMs = duration(root);
  return {
    apiMs: wholeMs - clientMs,
    temporalMs: clientMs - firstTaskMs - workflowTaskMs - attemptsMs,
    firstTaskMs,
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
    firstTaskMs: median((s) => s.firstTaskMs),
    workflowTaskMs: median((s) => s.workflowTaskMs),
    activityMs: median((s) => s.activityMs),
    providerMs: median((s) => s.providerMs),
    wholeMs: median((s) => s.wholeMs),
    steps: steps.length,
  };
}

/** The api routes of the calls the split tells apart (the create's: its POST; its GET is another route). */
export const CALL_ROUTES = { create: '/api/v1/public/flowx/handshake', launch: '/v1/handshakes/:id/launch', step: '/v1/sessions/:id/steps' } as const;

/**
 * The traces of whole sessions' calls, split: each session's create, launch and steps (named in
 * order by `stepNames`), grouped by the session's workflow id (a hash) on their Temporal client
 * span. Every call is split with the session's first workflow task, from the create's trace.
 */
export function sessionSteps(spans: ReceivedSpan[], stepNames: readonly string[]): Map<string, StepBreakdown[]> {
  const sessions = new Map<string, { create: ReceivedSpan[][]; launch: ReceivedSpan[][]; step: ReceivedSpan[][] }>();
  const kinds = Object.entries(CALL_ROUTES) as Array<[keyof typeof CALL_ROUTES, string]>;
  for (const trace of byTrace(spans).values()) {
    const root = trace.find((span) => span.parentSpanId === null);
    const kind = kinds.find(([, route]) => root?.attributes['http.route'] === route)?.[0];
    if (!root || !kind) continue;
    const workflowId = trace.find((span) => span.parentSpanId === root.spanId && span.attributes.temporalWorkflowId)?.attributes.temporalWorkflowId;
    if (typeof workflowId !== 'string') continue;
    const session = sessions.get(workflowId) ?? { create: [], launch: [], step: [] };
    session[kind].push(trace);
    sessions.set(workflowId, session);
  }
  const steps = new Map<string, StepBreakdown[]>(['create', 'launch', ...stepNames].map((name) => [name, []]));
  const startOf = (trace: ReceivedSpan[]) => Math.min(...trace.map((span) => span.startMs));
  for (const { create, launch, step } of sessions.values()) {
    if (create.length !== 1 || launch.length !== 1 || step.length !== stepNames.length) continue; // a session not seen whole
    const firstTask = firstTaskOf(create[0]);
    const ordered = [...step].sort((a, b) => startOf(a) - startOf(b));
    [create[0], launch[0], ...ordered].forEach((trace, index) => steps.get(index < 2 ? ['create', 'launch'][index] : stepNames[index - 2])!.push(stepBreakdown(trace, firstTask)));
  }
  return steps;
}

/** The medians by call; results from before the first task was split out lack it. */
export type TraceBreakdowns = Record<string, Omit<StepBreakdown, 'firstTaskMs'> & { firstTaskMs?: number; steps: number }>;

/** The report's table: one row per step kind, the median of each part. */
export function breakdownTable(breakdowns: TraceBreakdowns): string {
  const ms = (value: number) => value.toFixed(1);
  const rows = Object.entries(breakdowns).map(
    ([op, b]) =>
      `| ${op} | ${b.steps} | ${ms(b.apiMs)} | ${ms(b.temporalMs)} | ${b.firstTaskMs === undefined ? '–' : ms(b.firstTaskMs)} | ${ms(b.workflowTaskMs)} | ${ms(b.activityMs)} | ${ms(b.providerMs)} | ${ms(b.wholeMs)} |`,
  );
  const header = '| call | traces | api | Temporal round trip | the session\'s first workflow task | its own workflow tasks | activity | provider | whole call |';
  return [header, '|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
