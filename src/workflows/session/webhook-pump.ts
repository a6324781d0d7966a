/**
 * Webhook events of one session, queued in order and handed to the session's outbox workflow
 * by one pump. Deliveries must never hold up the session: an event that cannot be handed over
 * is dropped, and said so in the log.
 */
import { condition, getExternalWorkflowHandle, log, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { SessionStatus } from '../../contract/session';
import type { SessionState } from '../../contract/session-state';
import { closeOutboxSignal, webhookEventSignal, type WebhookEvent, type WebhookEventType } from '../../contract/webhook-outbox';
import { webhookOutboxWorkflowId } from '../../contract/workflow-ids';
import { webhookOutboxWorkflow } from '../webhook-outbox';
import type { SessionModel } from './model';

type Queued = WebhookEvent | 'close';

export class WebhookPump {
  private readonly queue: Queued[] = [];
  private pumping = false;

  /** `enabled` is false for sessions without webhooks, and for those recorded before webhooks existed. */
  constructor(
    private readonly session: SessionModel,
    readonly enabled: boolean,
  ) {}

  private get input() {
    return this.session.input;
  }

  /** Read-only here: the SessionModel counts the events and remembers the outbox. */
  private get state(): Readonly<SessionState> {
    return this.session.state;
  }

  /** The session's ref (sessions from before: their id): names the outbox and the events. */
  private get ref(): string {
    return this.session.ref;
  }

  /** Nothing waits to be handed over. */
  get drained(): boolean {
    return this.queue.length === 0 && !this.pumping;
  }

  emit(type: WebhookEventType, extra: Record<string, unknown> = {}): void {
    if (!this.enabled) return;
    const { input, state } = this;
    const seq = this.session.countWebhookEvent();
    this.queue.push({
      id: `${this.ref}.${seq}`,
      seq,
      type,
      occurredAt: Date.now(),
      // No session id: the delivery adds it, opened from the sealed one.
      data: { number: input.number, tag: input.tag, flowId: input.definition.flowId, status: state.status, ...extra },
    });
  }

  /** The event a new status sends, if any; archiving also closes the outbox. */
  statusChanged(status: SessionStatus): void {
    const { state } = this;
    if (status === 'in_progress') this.emit('session.in_progress');
    // The result itself is read when the event is sent, so an archived session's is never sent.
    else if (status === 'consumed') this.emit('session.consumed', { outcome: state.outcome });
    else if (status === 'expired') this.emit('session.expired', { reason: state.endReason });
    else if (status === 'archived') {
      this.emit('session.archived', { archived: state.archivedAt });
      if (this.enabled) this.queue.push('close');
    }
  }

  /** Runs for the life of the workflow run. */
  async run(): Promise<void> {
    const outboxId = webhookOutboxWorkflowId(this.ref);
    for (;;) {
      await condition(() => this.queue.length > 0);
      this.pumping = true;
      try {
        while (this.queue.length > 0) {
          const next = this.queue[0];
          try {
            await this.handOver(outboxId, next);
          } catch (err) {
            log.warn('webhook event dropped: the outbox could not take it', { event: next === 'close' ? 'close' : next.id, error: String(err) });
          }
          this.queue.shift();
        }
      } finally {
        this.pumping = false;
      }
    }
  }

  private async startOutbox(outboxId: string): Promise<void> {
    try {
      await startChild(webhookOutboxWorkflow, {
        workflowId: outboxId,
        // The session id only sealed: the delivery activity opens it (outboxes from before: the id).
        args: [{ ...(this.input.sealedId ? { sealedSessionId: this.input.sealedId } : { sessionId: this.input.sessionId }), clientId: this.input.clientId }],
        // Deliveries go on for days after the session itself has ended.
        parentClosePolicy: 'ABANDON',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    this.session.outboxStarted(true);
  }

  /** Hands one queued item to the outbox; an outbox that is gone (terminated) is started anew once. */
  private async handOver(outboxId: string, next: Queued): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      if (!this.state.webhookOutbox) await this.startOutbox(outboxId);
      const outbox = getExternalWorkflowHandle(outboxId);
      try {
        await (next === 'close' ? outbox.signal(closeOutboxSignal) : outbox.signal(webhookEventSignal, next));
        return;
      } catch (err) {
        if (attempt >= 2) throw err;
        this.session.outboxStarted(false);
      }
    }
  }
}
