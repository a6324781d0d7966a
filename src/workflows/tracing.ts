/**
 * The workflow side of tracing (docs/guides/tracing.md), bundled only into the traced bundle
 * (src/worker/workflow-bundle.ts `traced`), never imported by the workflows themselves.
 *
 * Temporal's own workflow interceptors wrap every handler and outbound call in async functions,
 * which moves when their promises settle by a few microtasks: a session's commands then come out
 * in another order than a run without them recorded, and a history made on one side of switching
 * tracing does not replay on the other (a nondeterminism error). These interceptors change no
 * timing: each hands back the very promise the SDK gave it, runs the next interceptor at once,
 * and only reads the clock, the workflow info and the headers. Span and trace ids are hashed from
 * the run id and a count instead of drawn from the workflow's random numbers, which the
 * workflow's own draws would then see shifted. They record no SDK flag. So histories replay
 * across switching tracing on and off, both ways (test/traces.test.ts).
 */
// Gives the sandbox what the OpenTelemetry SDK expects of a browser (`performance`, `window`).
import '@temporalio/interceptors-opentelemetry/lib/workflow/runtime';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, SimpleSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import { ContextManager } from '@temporalio/interceptors-opentelemetry/lib/workflow/context-manager';
import { SpanExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/span-exporter';
import { defaultPayloadConverter, workflowInfo, type Headers, type WorkflowInterceptors } from '@temporalio/workflow';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';

/** Where Temporal's interceptors keep the trace context in headers; the activity side reads it there. */
const TRACE_HEADER = '_tracer-data';

/** Ids from the run id and a count: unique enough for spans, and no draw from the workflow's random numbers. */
function runIdGenerator(runId: string): IdGenerator {
  let count = 0;
  const next = (length: number) => bytesToHex(sha256(`${runId}/${(count += 1)}`)).slice(0, length);
  return { generateTraceId: () => next(32), generateSpanId: () => next(16) };
}

/** A run's tracer, context and propagation: nothing global, nothing shared with another run. */
function runTracing() {
  const provider = new BasicTracerProvider({ idGenerator: runIdGenerator(workflowInfo().runId), spanProcessors: [new SimpleSpanProcessor(new SpanExporter())] });
  const tracer = provider.getTracer('sessionflow-workflow');
  const contexts = new ContextManager();
  const propagator = new W3CTraceContextPropagator();
  const extract = (headers: Headers): Context => {
    const payload = headers[TRACE_HEADER];
    if (!payload) return ROOT_CONTEXT;
    return propagator.extract(ROOT_CONTEXT, defaultPayloadConverter.fromPayload(payload) as Record<string, string>, defaultTextMapGetter);
  };
  const inject = (headers: Headers, context: Context): Headers => {
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, defaultTextMapSetter);
    return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(carrier) };
  };
  return { tracer, contexts, extract, inject };
}

/** Ends `span` when `promise` settles, and hands back `promise` itself: its settling is not delayed. */
function endWhenSettled<T>(span: Span, promise: Promise<T>): Promise<T> {
  void promise.then(
    () => span.end(),
    () => {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  );
  return promise;
}

export const interceptors = (): WorkflowInterceptors => {
  const { tracer, contexts, extract, inject } = runTracing();
  const inSpan = (name: string, parent: Context, attributes: Record<string, string> = {}) => {
    const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    return { span, context: trace.setSpan(parent, span) };
  };
  return {
    inbound: [
      {
        // The run's own code continues the trace its start came with. The run makes no span of its
        // own (a session runs for days); its first workflow task makes one of no length (the clock
        // stands still), carrying when its activation was done: a call made right after the start
        // waits for that task, and the bench's split shows how long.
        execute: (input, next) => {
          const parent = extract(input.headers);
          inSpan(`RunWorkflow:${workflowInfo().workflowType}`, parent).span.end();
          return contexts.with(parent, () => next(input));
        },
        handleSignal: (input, next) => contexts.with(extract(input.headers), () => next(input)),
        validateUpdate: (input, next) => {
          const { span, context } = inSpan(`ValidateUpdate:${input.name}`, extract(input.headers), { temporalUpdateId: input.updateId });
          try {
            contexts.with(context, () => next(input));
          } catch (err) {
            span.setStatus({ code: SpanStatusCode.ERROR });
            throw err;
          } finally {
            span.end();
          }
        },
        handleUpdate: (input, next) => {
          const { span, context } = inSpan(`HandleUpdate:${input.name}`, extract(input.headers), { temporalUpdateId: input.updateId });
          return endWhenSettled(span, contexts.with(context, () => next(input)));
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => {
          const { span, context } = inSpan(`StartActivity:${input.activityType}`, contexts.active());
          return endWhenSettled(span, next({ ...input, headers: inject(input.headers, context) }));
        },
        scheduleLocalActivity: (input, next) => {
          const { span, context } = inSpan(`StartActivity:${input.activityType}`, contexts.active());
          return endWhenSettled(span, next({ ...input, headers: inject(input.headers, context) }));
        },
        signalWorkflow: (input, next) => next({ ...input, headers: inject(input.headers, contexts.active()) }),
        startChildWorkflowExecution: (input, next) => next({ ...input, headers: inject(input.headers, contexts.active()) }),
      },
    ],
    internals: [
      {
        dispose: (input, next) => {
          contexts.disable();
          next(input);
        },
      },
    ],
  };
};
