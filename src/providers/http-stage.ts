/**
 * Connector for the generic `http` stage: one request as the flow describes it, with secrets
 * from the worker's configuration filled into headers here, never in the workflow.
 */
import { Agent, request } from 'undici';
import { fillSecrets, type HttpRequestSpec } from '../flows/core/http-stage';
import { ProviderError } from './errors';
import { answerFailure, providerSpan } from './http';

const MAX_ANSWER_BYTES = 256 * 1024;

export interface HttpStageResult {
  status: number;
  body: unknown;
}

export class HttpStageConnector {
  private readonly agent = new Agent({ connectTimeout: 5_000, headersTimeout: 15_000, bodyTimeout: 15_000, keepAliveTimeout: 10_000 });

  constructor(private readonly secrets: Record<string, string>) {}

  async call(spec: HttpRequestSpec): Promise<HttpStageResult> {
    let headers: Record<string, string>;
    try {
      headers = fillSecrets(spec.headers, this.secrets);
    } catch (err) {
      throw new ProviderError('ProviderRejected', (err as Error).message, { provider: 'http', code: 'missing_secret' });
    }
    const answer = await providerSpan('http', spec.method, () => this.attempt(spec, headers));
    const { text } = answer;
    // The answer becomes the stage's output in workflow history: keep it well under its limits.
    if (Buffer.byteLength(text) > MAX_ANSWER_BYTES) {
      throw new ProviderError('ProviderRejected', `http stage answered more than ${MAX_ANSWER_BYTES} bytes`, { provider: 'http', status: answer.status });
    }
    let body: unknown = text;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    const expected = spec.expectedStatuses ? spec.expectedStatuses.includes(answer.status) : answer.status >= 200 && answer.status < 300;
    if (expected) return { status: answer.status, body };
    if (answer.status < 400) {
      throw new ProviderError('ProviderRejected', `http stage answered ${answer.status}, not an expected status`, { provider: 'http', status: answer.status });
    }
    const requestId = answer.headers['x-request-id'];
    throw answerFailure('http', { status: answer.status, headers: answer.headers, body }, typeof requestId === 'string' ? requestId : undefined);
  }

  /** The one request, its answer read whole; transport failures as retryable ProviderErrors. */
  private async attempt(spec: HttpRequestSpec, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    let answer;
    try {
      answer = await request(spec.url, {
        dispatcher: this.agent,
        method: spec.method,
        headers: { accept: 'application/json', ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'network_error';
      throw new ProviderError('ProviderUnavailable', `the http stage's endpoint could not be reached (${code})`, { provider: 'http', code });
    }
    return { status: answer.statusCode, headers: answer.headers, text: await answer.body.text() };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
