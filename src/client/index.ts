/**
 * A small typed client for tenant backends: create a session, get it (verifying its
 * resultSignature), archive it, read flows. One attempt per call; errors carry the api's
 * code, message, HTTP status and request id.
 */
import { request, type Dispatcher } from 'undici';
import { verifyResultSignature } from '../util/result-signature';

export interface CreateSessionParams {
  flow: string;
  /** null or left out runs the flow's draft (Attestr requires it; sessionflow does not). */
  snapshot?: string | null;
  tag: string;
  webhook?: boolean;
  /** Unix time in ms. */
  expiry?: number;
}

export interface CreatedSession {
  _id: string;
  number: string;
  digest: string;
}

export interface Session {
  _id: string;
  number: string;
  tag: string;
  requestId: string;
  consumed: boolean;
  archived: number | null;
  result: Record<string, { input: unknown; output: unknown }> | null;
  resultSignature: string | null;
  status: 'created' | 'in_progress' | 'consumed' | 'expired' | 'archived';
  outcome: 'success' | 'error' | 'skipped' | null;
  expiry: number;
}

export class SessionflowApiError extends Error {
  override readonly name = 'SessionflowApiError';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly details: string | undefined,
    readonly requestId: string | undefined,
  ) {
    super(message);
  }
}

/** The result did not verify against the client secret: do not trust it. */
export class ResultSignatureError extends Error {
  override readonly name = 'ResultSignatureError';
  constructor(readonly sessionId: string) {
    super(`the result of session ${sessionId} does not match its resultSignature`);
  }
}

export interface SessionflowClientOptions {
  baseUrl: string;
  clientId: string;
  secret: string;
  dispatcher?: Dispatcher;
}

const BASE_PATH = '/api/v1/public/flowx';

export class SessionflowClient {
  private readonly authorization: string;

  constructor(private readonly options: SessionflowClientOptions) {
    this.authorization = `Basic ${Buffer.from(`${options.clientId}:${options.secret}`).toString('base64')}`;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const answer = await request(`${this.options.baseUrl.replace(/\/+$/, '')}${BASE_PATH}${path}`, {
      method,
      headers: { authorization: this.authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
    });
    const text = await answer.body.text();
    const parsed = text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
    if (answer.statusCode >= 400) {
      const requestId = answer.headers['x-request-id'];
      throw new SessionflowApiError(
        answer.statusCode,
        Number(parsed?.code ?? 5001),
        String(parsed?.message ?? `HTTP ${answer.statusCode}`),
        typeof parsed?.details === 'string' ? parsed.details : undefined,
        typeof requestId === 'string' ? requestId : undefined,
      );
    }
    return parsed as T;
  }

  createSession(params: CreateSessionParams, options: { idempotencyKey?: string } = {}): Promise<CreatedSession> {
    return this.call('POST', '/handshake', params, options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {});
  }

  /** The session, with its result verified; throws ResultSignatureError if it does not verify. */
  async getSession(sessionId: string): Promise<Session> {
    const session = await this.call<Session>('GET', `/handshake/${encodeURIComponent(sessionId)}`);
    if (session.result !== null && !verifyResultSignature(session.result, session.resultSignature, this.options.secret)) {
      throw new ResultSignatureError(sessionId);
    }
    return session;
  }

  archiveSession(sessionId: string): Promise<Session> {
    return this.call('POST', `/handshake/${encodeURIComponent(sessionId)}/archive`);
  }

  listFlows(): Promise<{ flows: Array<{ id: string; name: string; active: boolean; snapshots: string[] }> }> {
    return this.call('GET', '/flows');
  }
}
