/**
 * The webhook outbox workflow's contract. Each session with `webhook: true` feeds its events, in
 * order, to one outbox workflow that delivers them one after another. Its id: workflow-ids.ts.
 */
import { defineSignal } from '@temporalio/workflow';

/** The event types a tenant's webhook receives (the `type` of each delivered event). */
export const WEBHOOK_EVENT_TYPES = [
  'session.created',
  'session.in_progress',
  'session.step_completed',
  'session.consumed',
  'session.expired',
  'session.archived',
  /** A review stage's SLA passed without a decision (data: stage, dueAt). */
  'session.review_overdue',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEvent {
  /**
   * `<ref>.<sequence>`, unique per session; the delivery turns it into the Standard Webhooks
   * `webhook-id` `<sessionId>.<sequence>` (events from before: already `<sessionId>.<sequence>`).
   */
  id: string;
  type: WebhookEventType;
  /** Unix ms. */
  occurredAt: number;
  /** Identifiers and status only; the delivery adds `sessionId` first, opened from the sealed id. */
  data: Record<string, unknown> & { result?: unknown };

  // Legacy: optional while an outbox started before sequence numbers may be open (its queue is
  // carried across continue-as-new) and recorded histories from before replay; can go once
  // neither holds (docs/guides/operating.md, "Legacy sessions").
  /** The sequence number; absent in events from before. */
  seq?: number;
}

export interface WebhookOutboxInput {
  /** The session id sealed: only the delivery activity opens it. */
  sealedSessionId?: string;
  clientId: string;
  /** Carried over by continue-as-new. */
  queue?: WebhookEvent[];
  closed?: boolean;
  gone?: boolean;

  // Legacy: can go with the legacy workflow id (docs/guides/operating.md, "Legacy sessions").
  /** Outboxes from before: the session id itself. */
  sessionId?: string;
}

export const webhookEventSignal = defineSignal<[WebhookEvent]>('webhookEvent');
/** No more events will come: the outbox ends once its queue is empty. */
export const closeOutboxSignal = defineSignal('closeOutbox');
