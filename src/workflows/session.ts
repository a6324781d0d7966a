/**
 * One Temporal workflow per session. This file wires the SessionModel to Temporal: updates
 * (validated synchronously, so refusals leave no trace), queries, durable timers (expiry and
 * the flow's `after` delays), provider activities, search attributes, and continue-as-new.
 * Deterministic code only: time is workflow time, nonce hashes arrive in update arguments.
 * The workflow never holds a live credential (DESIGN.md §5.4): not the handshake id (it knows
 * the session by its ref, a hash of the id, and carries the id only sealed for its webhooks),
 * not a nonce (only its hash).
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  startChild,
  isCancellation,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { timersOf, type FlowEvent, type FlowPosition, type StageInfo } from '../flows/engine';
import {
  archiveUpdate,
  attestrResultSignal,
  closeOutboxSignal,
  deliverEventUpdate,
  webhookEventSignal,
  webhookOutboxWorkflowId,
  type SessionStatus,
  type WebhookEvent,
  type WebhookEventType,
  DEFAULT_RETENTION_SECONDS,
  type ArchivedMemo,
  SessionArchivedAtKey,
  shredWorkflowId,
  expireUpdate,
  launchUpdate,
  resultQuery,
  SessionStatusKey,
  statusQuery,
  submitStepUpdate,
  viewQuery,
  DEVICE_STATUS,
  type LaunchAnswer,
  type LaunchArgs,
  type SessionInput,
  type StatusView,
  type StepAnswer,
  type StepArgs,
} from './messages';
import { DEVICE_RETRYABLE, needsPreparation, prepareStage, runStage } from './providers';
import { nextNonceOf, SessionModel } from './session-model';
import { shredSessionWorkflow } from './shred';
import { webhookOutboxWorkflow } from './webhook-outbox';

/** Updates per run before continuing as new, well under Temporal's 2,000 per execution. */
const MAX_UPDATES_PER_RUN = 500;

export async function sessionWorkflow(input: SessionInput): Promise<StatusView> {
  const session = new SessionModel(input);
  const { state } = session;
  const machine = input.definition.machine;
  let reportedStatus = workflowInfo().continuedFromExecutionRunId ? state.status : 'created';
  let updatesThisRun = 0;
  let stageTimers: CancellationScope | null = null;
  let expiryTimer: CancellationScope | null = null;
  let retentionTimer: CancellationScope | null = null;
  // How the session is named in Temporal: a hash of its id (sessions from before: the id itself).
  const ref = input.ref ?? (input.sessionId as string);

  // Webhook events wait here; the pump hands them, in order, to this session's outbox workflow.
  const webhookQueue: Array<WebhookEvent | 'close'> = [];
  let pumping = false;

  // Sessions from before webhook delivery existed recorded no outbox commands: they keep none.
  const webhooksOn = input.webhook && patched('webhooks-out-1');

  function emit(type: WebhookEventType, extra: Record<string, unknown> = {}): void {
    if (!webhooksOn) return;
    state.webhookSeq = (state.webhookSeq ?? 0) + 1;
    webhookQueue.push({
      id: `${ref}.${state.webhookSeq}`,
      seq: state.webhookSeq,
      type,
      occurredAt: Date.now(),
      // No session id: the delivery adds it, opened from the sealed one.
      data: { number: input.number, tag: input.tag, flowId: input.definition.flowId, status: state.status, ...extra },
    });
  }

  async function startOutbox(outboxId: string): Promise<void> {
    try {
      await startChild(webhookOutboxWorkflow, {
        workflowId: outboxId,
        args: [{ ...(input.sealedId ? { sealedSessionId: input.sealedId } : { sessionId: input.sessionId }), clientId: input.clientId }],
        // Deliveries go on for days after the session itself has ended.
        parentClosePolicy: 'ABANDON',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    state.webhookOutbox = true;
  }

  /** Hands one queued item to the outbox; an outbox that is gone (terminated) is started anew once. */
  async function handOver(outboxId: string, next: WebhookEvent | 'close'): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      if (!state.webhookOutbox) await startOutbox(outboxId);
      const outbox = getExternalWorkflowHandle(outboxId);
      try {
        await (next === 'close' ? outbox.signal(closeOutboxSignal) : outbox.signal(webhookEventSignal, next));
        return;
      } catch (err) {
        if (attempt >= 2) throw err;
        state.webhookOutbox = false;
      }
    }
  }

  async function pumpWebhooks(): Promise<void> {
    const outboxId = webhookOutboxWorkflowId(ref);
    for (;;) {
      await condition(() => webhookQueue.length > 0);
      pumping = true;
      try {
        while (webhookQueue.length > 0) {
          const next = webhookQueue[0];
          try {
            await handOver(outboxId, next);
          } catch (err) {
            // Deliveries must never hold up the session: an event that cannot be handed over is dropped, and said so.
            log.warn('webhook event dropped: the outbox could not take it', { event: next === 'close' ? 'close' : next.id, error: String(err) });
          }
          webhookQueue.shift();
        }
      } finally {
        pumping = false;
      }
    }
  }

  const STATUS_EVENTS: Partial<Record<SessionStatus, () => void>> = {
    in_progress: () => emit('session.in_progress'),
    // The result itself is read when the event is sent, so an archived session's is never sent.
    consumed: () => emit('session.consumed', { outcome: state.outcome }),
    expired: () => emit('session.expired', { reason: state.endReason }),
    archived: () => {
      emit('session.archived', { archived: state.archivedAt });
      if (webhooksOn) webhookQueue.push('close');
    },
  };

  /** Publishes the session's position to the Temporal UI and webhooks; search attributes only on a status change. */
  function publish(): void {
    setCurrentDetails(session.details());
    if (state.status !== reportedStatus) {
      upsertSearchAttributes([
        { key: SessionStatusKey, value: state.status },
        // Read by the api once the session's key is destroyed: no payload is readable then.
        ...(state.archivedAt !== null ? [{ key: SessionArchivedAtKey, value: new Date(state.archivedAt) }] : []),
      ]);
      reportedStatus = state.status;
      // A JSON string: memo strings use the namespace key, so the api reads it after shredding.
      if (state.status === 'archived' && patched('archived-memo-1')) upsertMemo({ archived: JSON.stringify(archivedMemo()) });
      STATUS_EVENTS[state.status]?.();
      armRetention();
    }
    if (!session.isLive) {
      expiryTimer?.cancel();
      expiryTimer = null;
    }
  }

  /** What the api answers about this session once its key is gone (the memo uses the namespace key). */
  function archivedMemo(): ArchivedMemo {
    const { snapshotId, consumed, createdAt, expiry, stepCount, outcome, endReason, deviceClientId } = session.statusView();
    return { snapshotId, consumed, createdAt, expiry, stepCount, outcome, endReason, deviceClientId };
  }

  function stillAt(stageId: string, entry: number): boolean {
    return session.isLive && state.stage === stageId && state.entry === entry;
  }

  /** Sent to providers (Attestr's tag, Finqware's tenant_user_id): the ref, never the session id. */
  function idempotencyKey(stage: StageInfo): string {
    return `${ref}.${stage.id}.${state.entry}`;
  }

  /** Moves the flow; a missing transition ends the session in error rather than leaving it stuck. */
  function move(from: string, next: FlowPosition | null, event: string): void {
    const now = Date.now();
    if (next === null) {
      state.outcome = 'error';
      session.end('consumed', `stage ${from} has no transition for ${event}`, now);
    } else {
      session.enter(next, now);
      endIfOverBudget(now);
    }
    armStageTimers();
  }

  /**
   * The flow's bounds: device steps (retries included) against maxSteps, and every move,
   * automatic ones too (ERROR loops, timers), against four times that.
   */
  function endIfOverBudget(now: number): void {
    const { maxSteps } = input.definition;
    if (!session.isLive) return;
    if (state.stepCount >= maxSteps || state.entry > maxSteps * 4) {
      state.outcome = 'error';
      session.end('consumed', `the flow reached its limit of ${maxSteps} steps`, now);
    }
  }

  /** Runs the preparation of the current stage, following ERROR paths, until the device is awaited. */
  async function settle(): Promise<void> {
    for (;;) {
      const stage = session.currentStage();
      if (!session.isLive || !stage || !needsPreparation(stage) || state.prepared !== null) return;
      const entry = state.entry;
      const outcome = await prepareStage(stage, idempotencyKey(stage));
      if (!stillAt(stage.id, entry)) return;
      if (outcome.ok) {
        state.prepared = outcome.output;
        return;
      }
      session.record(stage.id, {}, { error: outcome.error });
      move(stage.id, session.flow.advance(stage.id, { type: 'ERROR', error: outcome.error }), 'ERROR');
    }
  }

  /** Durable timers for the current stage's `after` delays, measured from when it was entered. */
  function armStageTimers(): void {
    stageTimers?.cancel();
    stageTimers = null;
    // Stage time runs once a device has the session: a created session only waits for launch.
    const timers = state.status === 'in_progress' ? timersOf(machine, state.stage) : [];
    if (timers.length === 0) return;
    const stageId = state.stage;
    const entry = state.entry;
    const scope = new CancellationScope();
    stageTimers = scope;
    for (const timer of timers) {
      const remaining = Math.max(1, state.enteredAt + timer.delayMs - Date.now());
      scope
        .run(() => sleep(remaining))
        .then(async () => {
          // A step in flight finishes first; if it moved the flow, this timer has nothing to do.
          await condition(() => !session.busy || !stillAt(stageId, entry));
          if (!stillAt(stageId, entry)) return;
          session.busy = true;
          try {
            session.record(stageId, {}, { timedOut: true, afterMs: timer.delayMs });
            move(stageId, session.flow.advance(stageId, { type: timer.event }), timer.event);
            publish();
            await settle();
          } finally {
            session.busy = false;
            publish();
          }
        })
        .catch((err: unknown) => {
          if (!isCancellation(err)) throw err;
        });
    }
  }

  /**
   * A consumed or expired session archives itself after its client's retention (a durable
   * timer, measured from when it ended). Sessions that ended before retention existed keep
   * waiting for an explicit archive: their histories have no timer there.
   */
  function armRetention(): void {
    if ((state.status !== 'consumed' && state.status !== 'expired') || retentionTimer) return;
    state.retention ??= patched('retention-1');
    if (!state.retention) return;
    const retentionMs = input.retentionMs ?? DEFAULT_RETENTION_SECONDS * 1000;
    const scope = new CancellationScope();
    retentionTimer = scope;
    scope
      .run(() => sleep(Math.max(1, (state.endedAt ?? Date.now()) + retentionMs - Date.now())))
      .then(() => {
        if (state.status !== 'consumed' && state.status !== 'expired') return;
        session.archive(Date.now());
        publish();
      })
      .catch((err: unknown) => {
        if (!isCancellation(err)) throw err;
      });
  }

  /**
   * Crypto-shredding: a workflow of its own, under the namespace key, destroys this session's
   * data key once this workflow has closed (replaying it needs the key until then). Abandoned,
   * so it outlives this workflow.
   */
  async function startShredder(): Promise<void> {
    try {
      await startChild(shredSessionWorkflow, {
        workflowId: shredWorkflowId(ref),
        args: [{ sessionWorkflowId: workflowInfo().workflowId }],
        parentClosePolicy: 'ABANDON',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  function armExpiry(): void {
    if (!session.isLive) return;
    const scope = new CancellationScope();
    expiryTimer = scope;
    scope
      .run(() => sleep(Math.max(1, input.expiresAt - Date.now())))
      .then(() => {
        if (!session.isLive) return;
        session.end('expired', 'the expiry passed before the flow finished', Date.now());
        armStageTimers();
        publish();
      })
      .catch((err: unknown) => {
        if (!isCancellation(err)) throw err;
      });
  }

  async function launch(args: LaunchArgs): Promise<LaunchAnswer> {
    session.launch(args, Date.now());
    session.busy = true;
    try {
      publish();
      armStageTimers();
      await settle();
    } finally {
      session.busy = false;
      publish();
    }
    const prompt = session.prompt();
    // The nonce's hash: the api, which made the nonce, answers the nonce itself.
    return { nonce: state.nonce, status: DEVICE_STATUS[state.status], step: prompt.step, data: prompt };
  }

  async function submitStep(args: StepArgs): Promise<StepAnswer> {
    if (session.isRetryOfLastStep(args)) return state.lastStep!.answer;
    const stage = session.currentStage() as StageInfo;
    const entry = state.entry;
    session.busy = true;
    state.nonce = null; // spent on acceptance: nothing else may use it
    try {
      let event: FlowEvent = { type: 'SUBMIT', input: args.input };
      let output: Record<string, unknown> = {};
      if (stage.kind === 'provider') {
        const outcome = await runStage(stage, {
          input: args.input,
          prepared: state.prepared,
          idempotencyKey: idempotencyKey(stage),
          // `{{session.id}}` of an http stage is the ref: the handshake id stays out of history.
          session: { id: ref, tag: input.tag },
          delivered: state.delivered ?? null,
        });
        if (!stillAt(stage.id, entry)) {
          // The session ended meanwhile (expiry, or ended by the device): nothing more to do.
          return session.stepAnswer(`${stage.id}-${state.stepCount + 1}`);
        }
        if (!outcome.ok && DEVICE_RETRYABLE.has(outcome.error.type)) {
          // Nothing is recorded and the flow stays: the device may submit this stage again,
          // within the flow's step budget (each try costs provider calls).
          state.stepCount += 1;
          endIfOverBudget(Date.now());
          if (session.isLive) session.expectNonce(nextNonceOf(args));
          const answer = session.stepAnswer(`${stage.id}-${state.stepCount}`);
          answer.data = { ...answer.data, error: outcome.error };
          session.rememberStep(args, answer);
          return answer;
        }
        output = outcome.ok ? outcome.output : { error: outcome.error };
        event = outcome.ok ? { type: 'DONE', input: args.input, output } : { type: 'ERROR', input: args.input, error: outcome.error };
      }
      session.record(stage.id, args.input, output);
      state.stepCount += 1;
      emit('session.step_completed', { stage: stage.id, stepCount: state.stepCount });
      move(stage.id, session.flow.advance(stage.id, event), event.type);
      if (session.isLive) session.expectNonce(nextNonceOf(args));
      publish();
      await settle();
      const answer = session.stepAnswer(`${stage.id}-${state.stepCount}`);
      session.rememberStep(args, answer);
      return answer;
    } finally {
      session.busy = false;
      publish();
    }
  }

  // Before any handler is set: setting one runs the updates already waiting for it (a launch
  // sent right after the start), and their events must come after this one.
  if (!input.state) emit('session.created');
  setHandler(attestrResultSignal, (delivery) => {
    // Only the handshake the current stage is waiting for; anything else is stale.
    if (session.isLive && state.prepared?.handshakeId === delivery.handshakeId) state.delivered = delivery;
  });
  setHandler(statusQuery, () => session.statusView());
  setHandler(resultQuery, () => session.resultView());
  setHandler(viewQuery, () => ({ status: session.statusView(), result: session.resultView() }));
  setHandler(
    launchUpdate,
    (args) => {
      updatesThisRun += 1;
      return launch(args);
    },
    { validator: (args) => session.checkLaunch(args) },
  );
  setHandler(
    submitStepUpdate,
    (args) => {
      updatesThisRun += 1;
      return submitStep(args);
    },
    { validator: (args) => session.checkStep(args) },
  );
  setHandler(
    archiveUpdate,
    () => {
      updatesThisRun += 1;
      session.archive(Date.now());
      publish();
      return session.statusView();
    },
    { validator: () => session.checkArchive() },
  );
  setHandler(
    expireUpdate,
    (args) => {
      updatesThisRun += 1;
      session.end('expired', args.reason, Date.now());
      armStageTimers();
      publish();
      return session.statusView();
    },
    { validator: (args) => session.checkExpire(args) },
  );

  setHandler(
    deliverEventUpdate,
    async (event) => {
      updatesThisRun += 1;
      const stage = session.currentStage() as StageInfo;
      session.busy = true;
      try {
        session.record(stage.id, { event: event.type, eventId: event.eventId }, event.data);
        emit('session.step_completed', { stage: stage.id, stepCount: state.stepCount, event: event.type });
        move(stage.id, session.flow.advance(stage.id, { type: 'EVENT', input: { event: event.type }, data: event.data }), 'EVENT');
        publish();
        await settle();
      } finally {
        session.busy = false;
        publish();
      }
      return session.statusView();
    },
    { validator: (event) => session.checkEvent(event) },
  );

  void pumpWebhooks();
  publish();
  armExpiry();
  armStageTimers();
  armRetention(); // a run continued from an ended session

  const shouldContinueAsNew = () => workflowInfo().continueAsNewSuggested || updatesThisRun >= MAX_UPDATES_PER_RUN;
  await condition(() => state.status === 'archived' || shouldContinueAsNew());
  const webhooksHandedOver = () => webhookQueue.length === 0 && !pumping;
  if (state.status !== 'archived') {
    // Finish every accepted update and hand over every webhook event first: continuing as
    // new must not drop one.
    await condition(() => !session.busy && allHandlersFinished() && webhooksHandedOver());
    return await continueAsNew<typeof sessionWorkflow>({ ...input, state });
  }
  await condition(() => allHandlersFinished() && webhooksHandedOver());
  // Archived sessions in recorded histories closed without a shredder.
  if (patched('shred-on-archive')) await startShredder();
  return session.statusView();
}
