/**
 * OpenTelemetry tracing for the api and the worker (docs/guides/tracing.md): one tracer provider
 * per process, exporting in batches over OTLP/HTTP to the configured endpoint. Started only when
 * the configuration has `tracing`: otherwise no SDK exists, and the spans code elsewhere makes
 * (through `@opentelemetry/api` alone) are no-ops.
 */
import { Resource } from '@opentelemetry/resources';
import type { Attributes } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Config } from './config';

/** The processes that trace, by their `service.name`. */
export type TracedService = 'sessionflow-api' | 'sessionflow-worker';

export interface Tracing {
  resource: Resource;
  /** Where every span of the process ends up; the worker also hands it the workflow's spans. */
  processor: SpanProcessor;
  /** Sends what is still batched, then stops. */
  shutdown(): Promise<void>;
}

/**
 * The attributes a span may carry out of the process, each with the values it may hold. The
 * Temporal interceptors name the workflow and the update: a session's workflow id is the hash of
 * its id (`session-<ref>`), a step's update id a hash; a legacy session's workflow id is the
 * session id itself, and an event's update id the caller's own id, so those are dropped. No
 * payload, URL, header or address is ever an attribute.
 */
const EXPORTED_ATTRIBUTES: Record<string, RegExp> = {
  'http.request.method': /^[A-Z]+$/,
  'http.route': /^[/\w:.()-]*$|^\(no route\)$/,
  'http.response.status_code': /^\d{3}$/,
  'sessionflow.provider': /^[a-z]+$/,
  'sessionflow.activation_done_unix_ms': /^\d+$/,
  temporalWorkflowType: /^\w+$/,
  temporalWorkflowId: /^[a-z-]+-[0-9a-f]{32}$/,
  temporalUpdateId: /^(step|launch|resume)-[0-9a-f]{32,64}$/,
  temporalActivityId: /^\d+$/,
  run_id: /^[0-9a-f-]{36}$/,
};

/** Only the attributes EXPORTED_ATTRIBUTES lets out, with a value it allows. */
export function exportedAttributes(attributes: Attributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([key, value]) => Object.hasOwn(EXPORTED_ATTRIBUTES, key) && EXPORTED_ATTRIBUTES[key].test(String(value))));
}

/** Hands the exporter each span with its attributes filtered: nothing else of a span leaves the process. */
class FilteringExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(
      spans.map((span) => Object.create(span, { attributes: { value: exportedAttributes(span.attributes) } }) as ReadableSpan),
      done,
    );
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Registers the process's tracer provider (with the AsyncLocalStorage context manager and W3C
 * trace context) when tracing is configured; null, and nothing registered, when it is not.
 */
export function startTracing(config: Pick<Config, 'tracing'>, service: TracedService): Tracing | null {
  if (!config.tracing) return null;
  const resource = new Resource({ 'service.name': service });
  // JSON over HTTP: what every collector and Jaeger (port 4318) take, with no gRPC dependency.
  const processor = new BatchSpanProcessor(new FilteringExporter(new OTLPTraceExporter({ url: config.tracing.otlpTracesUrl })));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  return { resource, processor, shutdown: () => provider.shutdown() };
}
