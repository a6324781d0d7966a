/**
 * A server span per request, installed only when tracing is on (docs/guides/tracing.md). The
 * span is the parent of the Temporal client's spans the handler makes, so a step's trace starts
 * here. It is named by the route's pattern, like the request's log line: paths carry session ids,
 * and nothing else of the request (URL, query, headers, body, address) goes into it.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The route a request matched, as its pattern (`/v1/sessions/:id/steps`); never the URL. */
export function routeOf(request: FastifyRequest): string {
  try {
    return (request.is404 ? undefined : request.routeOptions.url) ?? '(no route)';
  } catch {
    return '(no route)'; // a URL the router refused (bad percent-encoding) has no route context
  }
}

export function installRequestSpans(app: FastifyInstance): void {
  const tracer = trace.getTracer('sessionflow-api');
  const spans = new WeakMap<FastifyRequest, Span>();
  // Started first thing, so the span covers the limits, authentication and body parsing too. A
  // caller's traceparent is not followed: the api is where sessionflow's traces begin.
  app.addHook('onRequest', (request, _reply, done) => {
    spans.set(request, tracer.startSpan(request.method, { kind: SpanKind.SERVER, root: true, attributes: { 'http.request.method': request.method } }));
    done();
  });
  // Active for the handler: the handler and what it awaits run in this context (AsyncLocalStorage).
  app.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (span) context.with(trace.setSpan(context.active(), span), done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      const route = routeOf(request);
      span.updateName(`${request.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': reply.statusCode });
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
