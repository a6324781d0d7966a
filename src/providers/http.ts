/**
 * One undici Pool per provider, with explicit timeouts and keep-alive. It makes exactly one
 * attempt per call: retries belong to Temporal. Transport failures become retryable
 * ProviderErrors; answers are returned as they are for the connector to classify.
 */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Pool } from 'undici';
import { classifyAnswer, ProviderError } from './errors';

export interface ProviderHttpOptions {
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  connections?: number;
}

export interface ProviderAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A field of a JSON answer body, or undefined when the body is not an object. */
export function field(body: unknown, name: string): unknown {
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

/**
 * The ProviderError for a non-2xx answer: its `code` body field, its Retry-After header, and the
 * request id wherever this provider puts it.
 */
export function answerFailure(provider: string, answer: ProviderAnswer, requestId: unknown): ProviderError {
  const code = field(answer.body, 'code');
  return classifyAnswer(provider, answer.status, code === undefined ? undefined : String(code), answer.headers['retry-after'], requestId as string | undefined);
}

const tracer = trace.getTracer('sessionflow-providers');

/**
 * A client span around one provider request (docs/guides/tracing.md), named by the provider and
 * the method only: paths and bodies carry vendor ids and personal data. No trace context goes to
 * the vendor: it reports to no collector of ours, and the header would only hand it an id. Without
 * tracing the tracer is a no-op.
 */
export function providerSpan<T extends { status: number }>(provider: string, method: string, call: () => Promise<T>): Promise<T> {
  const attributes = { 'http.request.method': method, 'sessionflow.provider': provider };
  return tracer.startActiveSpan(`${method} ${provider}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      const answer = await call();
      span.setAttribute('http.response.status_code', answer.status);
      if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      return answer;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

export class ProviderHttp {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(
    readonly provider: string,
    baseUrl: string,
    options: ProviderHttpOptions = {},
  ) {
    const url = new URL(baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 16,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      headersTimeout: options.headersTimeoutMs ?? 15_000,
      bodyTimeout: options.bodyTimeoutMs ?? 15_000,
      keepAliveTimeout: 10_000,
    });
  }

  request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, json?: unknown): Promise<ProviderAnswer> {
    return providerSpan(this.provider, method, () => this.attempt(method, path, headers, json));
  }

  private async attempt(method: 'GET' | 'POST', path: string, headers: Record<string, string>, json?: unknown): Promise<ProviderAnswer> {
    try {
      const answer = await this.pool.request({
        method,
        path: `${this.basePath}${path}`,
        headers: { accept: 'application/json', ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
      const text = await answer.body.text();
      let body: unknown = null;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
      }
      return { status: answer.statusCode, headers: answer.headers, body };
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'network_error';
      throw new ProviderError('ProviderUnavailable', `${this.provider} could not be reached (${code})`, {
        provider: this.provider,
        code,
      });
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
