/**
 * Outgoing webhooks, signed per the Standard Webhooks specification: headers `webhook-id`,
 * `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * keyed with the decoded part of the client's `whsec_` secret. One attempt per call; the
 * outbox workflow's retry policy owns the schedule. The consumed event's resultSignature is
 * computed here, with the client secret the workflow never holds.
 */
import { createHmac } from 'node:crypto';
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Agent, request } from 'undici';
import type { TenantClient } from '../tenants/registry';
import { signResult } from '../util/result-signature';
import type { SessionSecret } from '../session-secret';
import type { ResultView } from '../contract/session';
import type { WebhookEvent } from '../contract/webhook-outbox';
import type { WebhookDeliveryOutcome } from './metrics';
import { parseRetryAfter } from '../providers/errors';

export type WebhookOutcome = { delivered: true; status: number } | { delivered: false; reason: 'no_endpoint' };

/** The failure types a delivery attempt throws, by the outcome it is counted as. */
const FAILURE_TYPES = { unreachable: 'WebhookUnreachable', refused: 'WebhookRefused', gone: 'WebhookGone' } as const;

const RECEIVER_FIRST_DELAY_MS = 5_000;
const RECEIVER_MAX_DELAY_MS = 6 * 60 * 60_000;

/**
 * How long after a receiver's failure to try again: until the next point of the documented
 * schedule (5 s, then ×3 each time up to every 6 h), counted from the delivery's first attempt.
 * Counting by time rather than by attempt keeps the attempts lost on our side (a worker that
 * died, a result not readable yet: retried within seconds by the outbox's retry policy) from
 * pushing the receiver's schedule back.
 */
export function receiverRetryDelayMs(sinceFirstAttemptMs: number): number {
  let point = 0;
  for (let delay = RECEIVER_FIRST_DELAY_MS; point <= sinceFirstAttemptMs; delay = Math.min(delay * 3, RECEIVER_MAX_DELAY_MS)) point += delay;
  return Math.max(point - sinceFirstAttemptMs, 1_000);
}

/** How a failed delivery attempt is counted: by its failure type, "error" for anything else. */
export function failedDeliveryOutcome(err: unknown): WebhookDeliveryOutcome {
  const type = err instanceof ApplicationFailure ? err.type : undefined;
  const outcome = (Object.keys(FAILURE_TYPES) as Array<keyof typeof FAILURE_TYPES>).find((key) => FAILURE_TYPES[key] === type);
  return outcome ?? 'error';
}

export function standardWebhookSignature(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** A session's result view as its workflow answered it now, and the workflow that answered. */
export type ReadResult = { workflowId: string; view: ResultView } | null;

/** Reads a session's result now (null once archived: then its key may already be destroyed). */
export type ResultReader = (sessionId: string) => Promise<ReadResult>;

export class WebhookSender {
  private readonly agent = new Agent({ connectTimeout: 5_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
  private readonly tenants: ReadonlyMap<string, TenantClient>;

  constructor(
    tenants: TenantClient[],
    private readonly readResult: ResultReader,
    private readonly secret: SessionSecret,
    /** UNSEALED_SESSIONS_UNTIL (see SessionSecret.vouchesFor). */
    private readonly unsealedUntil?: number,
  ) {
    this.tenants = new Map(tenants.map((tenant) => [tenant.id, tenant]));
  }

  /**
   * The session id is opened from its sealed form here, the only place it is needed: it never
   * enters history. Events from before carry it themselves.
   */
  async deliver(
    tenantId: string,
    event: WebhookEvent,
    session: { sealedSessionId?: string; sessionId?: string; firstScheduledMs?: number } = {},
  ): Promise<WebhookOutcome> {
    const tenant = this.tenants.get(tenantId);
    if (!tenant?.webhookUrl || !tenant.webhookSecret) return { delivered: false, reason: 'no_endpoint' };
    const sessionId = session.sealedSessionId ? this.secret.open(session.sealedSessionId) : String(session.sessionId ?? event.data.sessionId);
    const webhookId = event.seq !== undefined ? `${sessionId}.${event.seq}` : event.id;
    let data: Record<string, unknown> = { sessionId, ...event.data };
    if (event.type === 'session.consumed') {
      // Read at send time: a session archived meanwhile has no result left to send.
      const result = this.vouchedResult(await this.readResultOrFail(sessionId));
      data = { ...data, result, resultSignature: result === null ? null : signResult(result, tenant.secret) };
    }
    const body = JSON.stringify({ type: event.type, timestamp: new Date(event.occurredAt).toISOString(), data });
    const timestamp = Math.floor(Date.now() / 1000);
    // Reckoned when the attempt fails: a slow endpoint's attempt may outlast a point of the schedule.
    const receiverSchedule = () => ({ nextRetryDelay: receiverRetryDelayMs(Date.now() - (session.firstScheduledMs ?? Date.now())) });
    let answer;
    try {
      answer = await request(tenant.webhookUrl, {
        dispatcher: this.agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': standardWebhookSignature(tenant.webhookSecret, webhookId, timestamp, body),
        },
        body,
      });
      await answer.body.dump();
    } catch (err) {
      throw ApplicationFailure.create({
        type: FAILURE_TYPES.unreachable,
        message: `the webhook endpoint could not be reached (${(err as { code?: string }).code ?? 'network_error'})`,
        ...receiverSchedule(),
      });
    }
    if (answer.statusCode >= 200 && answer.statusCode < 300) return { delivered: true, status: answer.statusCode };
    if (answer.statusCode === 410) {
      throw ApplicationFailure.nonRetryable('the webhook endpoint answered 410 Gone: deliveries to it stop', FAILURE_TYPES.gone);
    }
    const retryAfter = answer.statusCode === 429 ? parseRetryAfter(answer.headers['retry-after']) : undefined;
    throw ApplicationFailure.create({
      type: FAILURE_TYPES.refused,
      message: `the webhook endpoint answered ${answer.statusCode}`,
      ...(retryAfter !== undefined ? { nextRetryDelay: Math.max(retryAfter, 1) } : receiverSchedule()),
    });
  }

  /** The result to sign: none for a session the api did not seal (one started straight through Temporal). */
  private vouchedResult(read: ReadResult): unknown {
    const result = read?.view.result ?? null;
    if (result === null || this.secret.vouchesFor(read!.workflowId, read!.view, this.unsealedUntil)) return result;
    log.warn('a session without a valid seal has a result: its consumed event carries none', { workflowId: read!.workflowId });
    return null;
  }

  /** A read that fails is our side's trouble: retried on the outbox's own short schedule, not the receiver's. */
  private async readResultOrFail(sessionId: string): Promise<ReadResult> {
    try {
      return await this.readResult(sessionId);
    } catch (err) {
      throw ApplicationFailure.retryable(`the session's result could not be read yet (${(err as Error).name})`, 'SessionResultUnavailable');
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
