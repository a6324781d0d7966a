/**
 * One kyc-basic session over sessionflow's HTTP API, as a tenant backend and a device drive it
 * (docs/guides/kyc-basic-walkthrough.md), for the cluster smoke test and the drill. Each call
 * goes to one of the given api URLs and, when an api does not answer (it was killed), to the
 * next one, as a client behind a load balancer would. 429s are waited out (Retry-After).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The name the Attestr sandbox's national ID holds: another one sends the session to a reviewer. */
export const IDENTITY = { name: 'Sandbox Test User', birthDate: '26-12-1985' };
export const BANK = { accountNumber: '123456789012', ifsc: 'HDFC0001234' };

export interface KycClient {
  id: string;
  secret: string;
}

export interface KycSession {
  id: string;
  /** Result as the backend fetched it at the end. */
  result: Record<string, unknown>;
  signatureValid: boolean;
  /** Milliseconds of each device step (identity, aadhaar, bank), for latency figures. */
  stepMs: number[];
  /** When each of those steps was sent (unix ms), to tell which faults it met. */
  stepStartedAt: number[];
}

/** Called between steps, with the step about to be sent: the smoke test kills a worker there. */
export type BetweenSteps = (step: 'aadhaar' | 'bank', sessionId: string) => Promise<void>;

export class ApiPool {
  private next = 0;
  /** Requests that found an api down and went to another one. */
  failovers = 0;
  /** 429 answers waited out. */
  throttled = 0;

  constructor(
    readonly urls: string[],
    private readonly timeoutMs = 60_000,
  ) {}

  /** Sends one request, starting at `start`'s api (round robin when absent), failing over on connection errors. */
  async call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, start?: number): Promise<Record<string, unknown>> {
    let index = start ?? this.next++;
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      const url = this.urls[index % this.urls.length];
      let answer: Response;
      try {
        answer = await fetch(`${url}${path}`, {
          method,
          headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        // Down (killed, restarting): the same request on the next api. Step submissions are
        // idempotent on their nonce, creates on the Idempotency-Key, so a repeat applies once.
        if (Date.now() > deadline) throw err;
        this.failovers += 1;
        index += 1;
        await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * (attempt + 1))));
        continue;
      }
      const text = await answer.text();
      if (answer.status === 429 || answer.status === 503 || answer.status === 502) {
        if (Date.now() > deadline) throw new Error(`${method} ${path.split('/').slice(0, 4).join('/')} answered ${answer.status} until the deadline`);
        this.throttled += answer.status === 429 ? 1 : 0;
        const retryAfter = Number(answer.headers.get('retry-after') ?? '1');
        await new Promise((r) => setTimeout(r, Math.max(200, retryAfter * 1000)));
        continue;
      }
      if (answer.status >= 500 && Date.now() < deadline) {
        // An api whose Temporal connection is restarting, or a session whose workflow task is
        // being retried (Temporal refuses updates meanwhile): try again, backing off to 5 s.
        await new Promise((r) => setTimeout(r, Math.min(5_000, 500 * 2 ** Math.min(attempt, 4))));
        continue;
      }
      if (answer.status !== 200) throw new Error(`${method} ${path.replace(/DS\w+/, 'DS…')} answered ${answer.status}: ${text.slice(0, 300)}`);
      return JSON.parse(text) as Record<string, unknown>;
    }
  }
}

export function basicAuth(client: KycClient): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` };
}

/** The recipe of docs/guides/concepts.md: HMAC-SHA256 of the compact JSON of `result`, keyed with the client secret. */
export function signatureValid(secret: string, body: Record<string, unknown>): boolean {
  if (typeof body.resultSignature !== 'string') return false;
  const expected = createHmac('sha256', secret).update(JSON.stringify(body.result)).digest();
  const given = Buffer.from(body.resultSignature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface KycOptions {
  api?: number;
  webhook?: boolean;
  between?: BetweenSteps;
  created?: (id: string) => void;
  /** The identity step's input (IDENTITY by default; another name sends the session to review). */
  identity?: typeof IDENTITY;
  /** Called when the session waits in its review stage: decide it (the session then goes on to the bank step). */
  review?: (sessionId: string) => Promise<void>;
}

/**
 * Runs one kyc-basic session: create (backend), launch and the three steps (device), the
 * Attestr sandbox completing the handshake between them, a review when the names differ, then
 * the signed result (backend).
 */
export async function runKycSession(apis: ApiPool, sandboxUrl: string, client: KycClient, tag: string, options: KycOptions = {}): Promise<KycSession> {
  const auth = basicAuth(client);
  const at = options.api;
  const created = await apis.call('POST', '/api/v1/public/flowx/handshake', { flow: 'kyc-basic', snapshot: null, tag, ...(options.webhook ? { webhook: true } : {}) }, { ...auth, 'idempotency-key': tag }, at);
  const id = String(created._id);
  options.created?.(id);
  // Keyed, so a launch repeated after a lost answer (an api killed mid-request) is answered again.
  const launched = await apis.call('POST', `/v1/handshakes/${id}/launch`, undefined, { 'idempotency-key': `${tag}-launch` }, at);
  const stepMs: number[] = [];
  const stepStartedAt: number[] = [];
  const step = async (nonce: unknown, name: string, data: unknown) => {
    const started = Date.now();
    const answer = await apis.call('POST', `/v1/sessions/${id}/steps`, { client_id: client.id, skill: 'kyc-basic', nonce, step: name, data }, {}, at);
    stepMs.push(Date.now() - started);
    stepStartedAt.push(started);
    if (answer.status === 'SESSION_FAILED' || (answer.data as { outcome?: string } | undefined)?.outcome === 'error') {
      throw new Error(`session ${id}: step ${name} ended the session in error`);
    }
    return answer;
  };
  const afterIdentity = await step(launched.nonce, 'identity', options.identity ?? IDENTITY);
  const handshakeId = String((afterIdentity.data as { handshakeId?: string }).handshakeId);
  await options.between?.('aadhaar', id);
  // The user finishing Attestr's own flow on the device; the sandbox plays that part.
  await sandboxPost(`${sandboxUrl}/attestr/_device/handshakes/${handshakeId}/complete`);
  let afterAadhaar = await step(afterIdentity.nonce, 'aadhaar', {});
  // A result that has not arrived yet keeps the stage open with a fresh nonce: submit again.
  for (let tries = 0; (afterAadhaar.data as { step?: string }).step === 'aadhaar' && tries < 20; tries += 1) {
    await new Promise((r) => setTimeout(r, 1_000));
    afterAadhaar = await step(afterAadhaar.nonce, 'aadhaar', {});
  }
  if ((afterAadhaar.data as { step?: string }).step === 'review') await reviewed(apis, id, String(afterAadhaar.nonce), options.review, at);
  await options.between?.('bank', id);
  const done = await step(afterAadhaar.nonce, 'bank', BANK);
  if (done.status !== 'SESSION_COMPLETED') throw new Error(`session ${id}: expected SESSION_COMPLETED after bank, got ${String(done.status)}`);
  const result = await apis.call('GET', `/api/v1/public/flowx/handshake/${id}`, undefined, auth, at);
  return { id, result, signatureValid: signatureValid(client.secret, result), stepMs, stepStartedAt };
}

/** The device's wait while a reviewer decides: long-polls (as the hosted page does) until the session leaves review. */
async function reviewed(apis: ApiPool, id: string, nonce: string, decide: KycOptions['review'], at: number | undefined): Promise<void> {
  if (!decide) throw new Error(`session ${id}: went to review and nobody decides it`);
  await decide(id);
  for (let polls = 0; polls < 10; polls += 1) {
    // A wait holds until the session changes from what it is at the request: none the first time,
    // since a decision usually answers once the session moved on.
    const now = await apis.call('GET', `/v1/sessions/${id}?wait=${polls === 0 ? 0 : 20}`, undefined, { 'x-session-nonce': nonce }, at);
    if (now.step !== 'review') return;
  }
  throw new Error(`session ${id}: still in review after its decision`);
}

async function sandboxPost(url: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const answer = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      if (answer.ok) return;
      if (attempt > 20) throw new Error(`${url} answered ${answer.status}`);
    } catch (err) {
      if (attempt > 20) throw err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
