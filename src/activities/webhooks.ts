/**
 * Outgoing webhooks, signed per the Standard Webhooks specification: headers `webhook-id`,
 * `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * keyed with the decoded part of the client's `whsec_` secret. One attempt per call; the
 * outbox workflow's retry policy owns the schedule. The consumed event's resultSignature is
 * computed here, with the client secret the workflow never holds.
 */
import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Agent, request } from 'undici';
import type { TenantClient } from '../tenants/registry';
import { signResult } from '../result-signature';
import type { SessionSecret } from '../session-secret';
import type { WebhookEvent } from '../workflows/messages';
import type { WebhookDeliveryOutcome } from './metrics';
import { parseRetryAfter } from '../providers/errors';

export type WebhookOutcome = { delivered: true; status: number } | { delivered: false; reason: 'no_endpoint' };

/** The failure types a delivery attempt throws, by the outcome it is counted as. */
const FAILURE_TYPES = { unreachable: 'WebhookUnreachable', refused: 'WebhookRefused', gone: 'WebhookGone' } as const;

/**
 * How long after a failed attempt to read the session's result (ours, not the receiver's fault:
 * a worker restarting, Temporal busy) the delivery is tried again: 1 s, doubling to 1 min, instead
 * of the receiver's schedule, which would stretch a few such failures into many minutes.
 */
export function resultRetryDelayMs(attempt: number): number {
  return Math.min(1_000 * 2 ** Math.max(attempt - 1, 0), 60_000);
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

/** Reads a session's result now (null once archived: then its key may already be destroyed). */
export type ResultReader = (sessionId: string) => Promise<unknown>;

export class WebhookSender {
  private readonly agent = new Agent({ connectTimeout: 5_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
  private readonly clients: ReadonlyMap<string, TenantClient>;

  constructor(
    clients: TenantClient[],
    private readonly readResult: ResultReader,
    private readonly secret: SessionSecret,
  ) {
    this.clients = new Map(clients.map((client) => [client.id, client]));
  }

  /**
   * The session id is opened from its sealed form here, the only place it is needed: it never
   * enters history. Events from before carry it themselves.
   */
  async deliver(
    clientId: string,
    event: WebhookEvent,
    session: { sealedSessionId?: string; sessionId?: string; attempt?: number } = {},
  ): Promise<WebhookOutcome> {
    const client = this.clients.get(clientId);
    if (!client?.webhookUrl || !client.webhookSecret) return { delivered: false, reason: 'no_endpoint' };
    const sessionId = session.sealedSessionId ? this.secret.open(session.sealedSessionId) : String(session.sessionId ?? event.data.sessionId);
    const webhookId = event.seq !== undefined ? `${sessionId}.${event.seq}` : event.id;
    let data: Record<string, unknown> = { sessionId, ...event.data };
    if (event.type === 'session.consumed') {
      // Read at send time: a session archived meanwhile has no result left to send.
      const result = (await this.readResultOrRetrySoon(sessionId, session.attempt ?? 1)) ?? null;
      data = { ...data, result, resultSignature: result === null ? null : signResult(result, client.secret) };
    }
    const body = JSON.stringify({ type: event.type, timestamp: new Date(event.occurredAt).toISOString(), data });
    const timestamp = Math.floor(Date.now() / 1000);
    let answer;
    try {
      answer = await request(client.webhookUrl, {
        dispatcher: this.agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': standardWebhookSignature(client.webhookSecret, webhookId, timestamp, body),
        },
        body,
      });
      await answer.body.dump();
    } catch (err) {
      throw ApplicationFailure.retryable(`the webhook endpoint could not be reached (${(err as { code?: string }).code ?? 'network_error'})`, FAILURE_TYPES.unreachable);
    }
    if (answer.statusCode >= 200 && answer.statusCode < 300) return { delivered: true, status: answer.statusCode };
    if (answer.statusCode === 410) {
      throw ApplicationFailure.nonRetryable('the webhook endpoint answered 410 Gone: deliveries to it stop', FAILURE_TYPES.gone);
    }
    const retryAfter = answer.statusCode === 429 ? parseRetryAfter(answer.headers['retry-after']) : undefined;
    throw ApplicationFailure.create({
      type: FAILURE_TYPES.refused,
      message: `the webhook endpoint answered ${answer.statusCode}`,
      ...(retryAfter !== undefined ? { nextRetryDelay: Math.max(retryAfter, 1) } : {}),
    });
  }

  private async readResultOrRetrySoon(sessionId: string, attempt: number): Promise<unknown> {
    try {
      return await this.readResult(sessionId);
    } catch (err) {
      throw ApplicationFailure.create({
        type: 'SessionResultUnavailable',
        message: `the session's result could not be read yet (${(err as Error).name}); the delivery is tried again shortly`,
        nextRetryDelay: resultRetryDelayMs(attempt),
      });
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
