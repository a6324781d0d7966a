/**
 * Finqware Sessions connector: create a session, submit a step. Each call returns the next
 * nonce; the workflow records it, so the chain survives a worker crash between two calls.
 */
import type { ProviderEndpoint } from '../config';
import { ProviderError } from './errors';
import { answerFailure, field, ProviderHttp, type ProviderAnswer, type ProviderHttpOptions } from './http';

export interface FinqwareSession {
  sessionId: string;
  nonce: string;
}

export interface FinqwareStepResult {
  stepId: string;
  nonce: string | null;
  status: string;
  data: Record<string, unknown>;
}

export class FinqwareConnector {
  private readonly http: ProviderHttp;

  constructor(
    private readonly endpoint: ProviderEndpoint,
    options?: ProviderHttpOptions,
  ) {
    this.http = new ProviderHttp('finqware', endpoint.baseUrl, options);
  }

  private checked(answer: ProviderAnswer): Record<string, unknown> {
    if (answer.status < 200 || answer.status >= 300) throw answerFailure('finqware', answer, field(answer.body, 'id'));
    if (!answer.body || typeof answer.body !== 'object') {
      throw new ProviderError('ProviderUnavailable', 'finqware answered without a JSON body', { provider: 'finqware', status: answer.status });
    }
    return answer.body as Record<string, unknown>;
  }

  /** `tenantUserId` doubles as the idempotency key: Finqware resumes an open session for it. */
  async createSession(args: { tenantUserId: string; skill: string }): Promise<FinqwareSession> {
    const body = this.checked(
      await this.http.request('POST', '/v1/sessions', {}, {
        tenant_user_id: args.tenantUserId,
        client_id: this.endpoint.clientId,
        client_app_key: this.endpoint.secret,
        skill: args.skill,
      }),
    );
    return { sessionId: String(body.session_id), nonce: String(body.nonce) };
  }

  async submitStep(args: { sessionId: string; nonce: string; skill: string; step: string; data: unknown }): Promise<FinqwareStepResult> {
    const body = this.checked(
      await this.http.request('POST', `/v1/sessions/${encodeURIComponent(args.sessionId)}/steps`, {}, {
        client_id: this.endpoint.clientId,
        nonce: args.nonce,
        skill: args.skill,
        step: args.step,
        data: args.data,
      }),
    );
    return {
      stepId: String(body.step_id),
      nonce: typeof body.nonce === 'string' ? body.nonce : null,
      status: String(body.status),
      data: (body.data && typeof body.data === 'object' ? body.data : {}) as Record<string, unknown>,
    };
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
