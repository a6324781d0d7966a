/**
 * Attestr FlowX connector: create a handshake, fetch its execution result and verify the
 * result's signature (HMAC-SHA256 hex over JSON.stringify(result), keyed with our secret).
 */
import type { ProviderEndpoint } from '../config';
import { verifyResultSignature } from '../util/result-signature';
import { ProviderError } from './errors';
import { answerFailure, field, ProviderHttp, type ProviderAnswer, type ProviderHttpOptions } from './http';

export interface AttestrHandshake {
  handshakeId: string;
  number: string;
}

export interface AttestrVerifiedResult {
  handshakeId: string;
  /** The tag the handshake was created with (sessionflow's `<sessionId>.<stage>.<entry>`). */
  tag: string | null;
  requestId: string | null;
  result: Record<string, unknown>;
}

export class AttestrConnector {
  private readonly http: ProviderHttp;
  private readonly authorization: string;

  constructor(
    private readonly endpoint: ProviderEndpoint,
    options?: ProviderHttpOptions,
  ) {
    this.http = new ProviderHttp('attestr', endpoint.baseUrl, options);
    this.authorization = `Basic ${Buffer.from(`${endpoint.clientId}:${endpoint.secret}`).toString('base64')}`;
  }

  private failIfError(answer: ProviderAnswer): void {
    if (answer.status >= 200 && answer.status < 300) return;
    throw answerFailure('attestr', answer, field(answer.body, 'requestId'));
  }

  /** Attestr treats the tag as the handshake's identity, so a retried create finds the first one. */
  async createHandshake(args: { flow: string; snapshot: string | null; tag: string }): Promise<AttestrHandshake> {
    // Webhook events on: Attestr then posts the completion to /webhooks/attestr, and polling is the fallback.
    const answer = await this.http.request('POST', '/api/v1/public/flowx/handshake', { authorization: this.authorization }, { ...args, webhook: true });
    this.failIfError(answer);
    const handshakeId = field(answer.body, '_id');
    if (typeof handshakeId !== 'string') {
      throw new ProviderError('ProviderUnavailable', 'attestr answered a handshake without _id', { provider: 'attestr', status: answer.status });
    }
    return { handshakeId, number: String(field(answer.body, 'number') ?? '') };
  }

  /**
   * The verified result; ProviderResultPending while the user has not finished on the device.
   * The signature covers the result only, so the answer must also name the handshake asked
   * about, and (when given) the tag it was created with.
   */
  async fetchVerifiedResult(handshakeId: string, expectedTag?: string): Promise<AttestrVerifiedResult> {
    const answer = await this.http.request(
      'GET',
      `/api/v1/public/flowx/handshake/${encodeURIComponent(handshakeId)}`,
      { authorization: this.authorization },
    );
    this.failIfError(answer);
    const requestId = (field(answer.body, 'requestId') as string | undefined) ?? null;
    const details = { provider: 'attestr', status: answer.status, ...(requestId ? { requestId } : {}) };
    const result = field(answer.body, 'result');
    if (field(answer.body, 'consumed') !== true || result === null || typeof result !== 'object') {
      throw new ProviderError('ProviderResultPending', 'attestr has no result for this handshake yet', details);
    }
    // Attestr signs the same way sessionflow does: HMAC-SHA256 hex over JSON.stringify(result).
    if (!verifyResultSignature(result, field(answer.body, 'resultSignature'), this.endpoint.secret)) {
      throw new ProviderError('ProviderSignatureInvalid', 'attestr result signature does not verify', { ...details, code: 'bad_signature' });
    }
    const tag = field(answer.body, 'tag');
    if (field(answer.body, '_id') !== handshakeId || (expectedTag !== undefined && tag !== expectedTag)) {
      throw new ProviderError('ProviderSignatureInvalid', 'attestr answered with the result of another handshake', { ...details, code: 'handshake_mismatch' });
    }
    return { handshakeId, tag: typeof tag === 'string' ? tag : null, requestId, result: result as Record<string, unknown> };
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
