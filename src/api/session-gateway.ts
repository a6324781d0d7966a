/**
 * The api's only way to sessions: each operation is one workflow start, update or query.
 * Secrets and randomness the workflow needs (session ids, numbers, nonces) are made here with
 * a cryptographic RNG and passed in. Refusals come back as SessionRefusedError with the
 * workflow's refusal type; an unknown session as SessionNotFoundError.
 */
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TypedSearchAttributes } from '@temporalio/common';
import type { FlowDefinition } from '../flows/core/types';
import { contentHash } from '../util/hash';
import {
  archiveUpdate,
  attestrResultSignal,
  bindSessionUpdate,
  deliverEventUpdate,
  type BackendEventArgs,
  type SessionStatus,
  deviceClientQuery,
  deviceClientWorkflowId,
  revokeDeviceClientUpdate,
  type DeviceClientInput,
  type DeviceClientView,
  ClientIdKey,
  SESSION_STATUSES,
  expireUpdate,
  FlowIdKey,
  launchUpdate,
  resultQuery,
  SessionStatusKey,
  SessionTagKey,
  sessionWorkflowId,
  statusQuery,
  submitStepUpdate,
  viewQuery,
  type AttestrDelivery,
  type LaunchAnswer,
  type RefusalType,
  type ResultView,
  type SessionInput,
  type SessionMemo,
  type StatusView,
  type StepAnswer,
  type StepArgs,
} from '../workflows/messages';
import type { deviceClientWorkflow } from '../workflows/device-client';
import type { sessionWorkflow } from '../workflows/session';
import { REFRESH_WINDOW_MS } from './device-tokens';

export const DEFAULT_EXPIRY_MS = 24 * 60 * 60 * 1000;
export const MAX_EXPIRY_MS = 365 * 24 * 60 * 60 * 1000;

/** Whether a session created at `now` may expire at `expiresAt` (unix ms): in the future, at most a year ahead. */
export function expiryAllowed(expiresAt: number, now: number): boolean {
  return expiresAt > now && expiresAt <= now + MAX_EXPIRY_MS;
}

export class SessionNotFoundError extends Error {
  override readonly name = 'SessionNotFoundError';
}

export class SessionRefusedError extends Error {
  override readonly name = 'SessionRefusedError';
  constructor(
    readonly type: RefusalType,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

export interface CreateSessionRequest {
  clientId: string;
  tag: string;
  webhook?: boolean;
  definition: FlowDefinition;
  /** Unix ms, checked by the caller with expiryAllowed; defaults to 24 h from now. */
  expiresAt?: number;
  /**
   * For idempotent creates: the session id is derived from the client and this key, so a
   * repeated create starts nothing new; `requestHash` tells a repeat from a different request.
   */
  idempotency?: { key: string; requestHash: string; clientSecret: string };
}

export interface CreatedSession {
  sessionId: string;
  number: string;
  /** False when the Idempotency-Key had already created this session. */
  created: boolean;
}

/** The Idempotency-Key was used before for a different request. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
}

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `DS` + 20 random base-62 characters, like Attestr's handshake ids. */
export function newSessionId(): string {
  const bytes = randomBytes(20);
  return `DS${[...bytes].map((b) => ID_ALPHABET[b % 62]).join('')}`;
}

/**
 * The session id an Idempotency-Key stands for: the same for the same client and key, only,
 * and keyed with the client's secret, so nobody can compute it from a guessable key (a
 * session id is all a device needs to launch a session).
 */
export function idempotentSessionId(clientSecret: string, clientId: string, key: string): string {
  const digest = createHmac('sha256', clientSecret).update(`${clientId}\u0000${key}`).digest();
  return `DS${[...digest.subarray(0, 20)].map((b) => ID_ALPHABET[b % 62]).join('')}`;
}

/** A human-readable number like 3897-518104-8640. */
export function newSessionNumber(): string {
  const digits = (n: number) => String(randomInt(0, 10 ** n)).padStart(n, '0');
  return `${digits(4)}-${digits(6)}-${digits(4)}`;
}

/** 32 random bytes, base64url: what each accepted step hands the device for the next one. */
export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The update id of a step submission, derived from its nonce, payload and caller: a retried
 * request is deduplicated by Temporal and gets the first answer, while the same nonce with
 * another payload or from another client reaches the validator and is refused.
 */
export function stepUpdateId(step: Omit<StepArgs, 'nextNonce'>): string {
  const parts = [step.nonce, step.step, step.input, step.clientId ?? null, step.flowId ?? null, step.deviceClientId ?? null];
  return `step-${contentHash(parts)}`;
}

/** A string literal for a visibility list query. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Runs one workflow operation; an unknown workflow or a refused update comes back as the api's own error. */
async function refusing<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new SessionNotFoundError('session not found');
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type?.startsWith('Session')) {
      throw new SessionRefusedError(err.cause.type as RefusalType, err.cause.message, err.cause.details?.[0]);
    }
    throw err;
  }
}

export class SessionGateway {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  private handle(sessionId: string): WorkflowHandle<typeof sessionWorkflow> {
    return this.client.workflow.getHandle<typeof sessionWorkflow>(sessionWorkflowId(sessionId));
  }

  private startOptions(request: CreateSessionRequest, now: number) {
    const sessionId = request.idempotency
      ? idempotentSessionId(request.idempotency.clientSecret, request.clientId, request.idempotency.key)
      : newSessionId();
    const input: SessionInput = {
      sessionId,
      number: newSessionNumber(),
      clientId: request.clientId,
      tag: request.tag,
      webhook: request.webhook ?? false,
      definition: request.definition,
      createdAt: now,
      expiresAt: request.expiresAt ?? now + DEFAULT_EXPIRY_MS,
    };
    const flow = request.definition;
    return {
      input,
      options: {
        workflowId: sessionWorkflowId(sessionId),
        taskQueue: this.taskQueue,
        args: [input] as [SessionInput],
        typedSearchAttributes: new TypedSearchAttributes([
          { key: SessionStatusKey, value: 'created' },
          { key: SessionTagKey, value: request.tag },
          { key: FlowIdKey, value: flow.flowId },
          { key: ClientIdKey, value: request.clientId },
        ]),
        // Shown in the Temporal UI's list: identifiers only, nothing about the person.
        staticSummary: `Session ${input.number} · flow ${flow.flowId}@${flow.snapshotId ?? 'draft'} · client ${request.clientId}`,
        memo: { number: input.number, ...(request.idempotency ? { requestHash: request.idempotency.requestHash } : {}) } satisfies SessionMemo,
        // An Idempotency-Key keeps meaning its session even after that session closed.
        workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      },
    };
  }

  async create(request: CreateSessionRequest): Promise<CreatedSession> {
    const { input, options } = this.startOptions(request, Date.now());
    try {
      await this.client.workflow.start('sessionWorkflow', options);
      return { sessionId: input.sessionId, number: input.number, created: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !request.idempotency) throw err;
      // The key was used before: the memo (readable without a worker) says for what.
      const memo = (await this.handle(input.sessionId).describe()).memo as Partial<SessionMemo> | undefined;
      if (memo?.requestHash !== request.idempotency.requestHash || typeof memo.number !== 'string') {
        throw new IdempotencyConflictError('this Idempotency-Key was used with a different request');
      }
      return { sessionId: input.sessionId, number: memo.number, created: false };
    }
  }

  /** Creates and launches in one round trip (update-with-start). */
  async createAndLaunch(
    request: CreateSessionRequest,
    device?: { deviceClientId: string },
  ): Promise<{ session: CreatedSession; launch: LaunchAnswer }> {
    const { input, options } = this.startOptions(request, Date.now());
    if (device) {
      await refusing(() => this.deviceClientHandle(device.deviceClientId).executeUpdate(bindSessionUpdate, { args: [{ sessionId: input.sessionId }] }));
    }
    const start = new WithStartWorkflowOperation<typeof sessionWorkflow>('sessionWorkflow', {
      ...options,
      workflowIdConflictPolicy: 'FAIL',
    });
    const launch = await refusing(() =>
      this.client.workflow.executeUpdateWithStart(launchUpdate, {
        args: [{ nonce: newNonce(), ...(device ? { deviceClientId: device.deviceClientId } : {}) }],
        startWorkflowOperation: start,
      }),
    );
    return { session: { sessionId: input.sessionId, number: input.number, created: true }, launch };
  }

  /** Launches a session; with a device client, binds it to that device (and its tenant) first. */
  async launch(sessionId: string, device?: { deviceClientId: string; tenantId: string }): Promise<LaunchAnswer> {
    return refusing(async () => {
      if (device) await this.deviceClientHandle(device.deviceClientId).executeUpdate(bindSessionUpdate, { args: [{ sessionId }] });
      const args = device ? { nonce: newNonce(), deviceClientId: device.deviceClientId, clientId: device.tenantId } : { nonce: newNonce() };
      return await this.handle(sessionId).executeUpdate(launchUpdate, { args: [args] });
    });
  }

  private deviceClientHandle(deviceClientId: string): WorkflowHandle<typeof deviceClientWorkflow> {
    return this.client.workflow.getHandle<typeof deviceClientWorkflow>(deviceClientWorkflowId(deviceClientId));
  }

  async createDeviceClient(tenantId: string, now = Date.now()): Promise<DeviceClientView> {
    const deviceClientId = `dc_${newSessionId().slice(2)}`;
    const input: DeviceClientInput = { deviceClientId, tenantId, createdAt: now, refreshUntil: now + REFRESH_WINDOW_MS };
    await this.client.workflow.start('deviceClientWorkflow', {
      workflowId: deviceClientWorkflowId(deviceClientId),
      taskQueue: this.taskQueue,
      args: [input],
      staticSummary: `Device client of ${tenantId}`,
    });
    return { ...input, sessionIds: [], revokedAt: null };
  }

  /** The device client, or null when it does not exist (any more). */
  async deviceClient(deviceClientId: string): Promise<DeviceClientView | null> {
    try {
      return await this.deviceClientHandle(deviceClientId).query(deviceClientQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  async revokeDeviceClient(deviceClientId: string): Promise<DeviceClientView> {
    return refusing(() => this.deviceClientHandle(deviceClientId).executeUpdate(revokeDeviceClientUpdate));
  }

  async submitStep(sessionId: string, step: Omit<StepArgs, 'nextNonce'>): Promise<StepAnswer> {
    return refusing(() =>
      this.handle(sessionId).executeUpdate(submitStepUpdate, { args: [{ ...step, nextNonce: newNonce() }], updateId: stepUpdateId(step) }),
    );
  }

  async archive(sessionId: string): Promise<StatusView> {
    return refusing(() => this.handle(sessionId).executeUpdate(archiveUpdate));
  }

  async expire(sessionId: string, reason: string): Promise<StatusView> {
    return refusing(() => this.handle(sessionId).executeUpdate(expireUpdate, { args: [{ reason }] }));
  }

  async status(sessionId: string): Promise<StatusView> {
    return refusing(() => this.handle(sessionId).query(statusQuery));
  }

  /** Hands a verified Attestr result to the session (the stage uses it instead of polling). */
  async deliverAttestrResult(sessionId: string, delivery: AttestrDelivery): Promise<void> {
    await refusing(() => this.handle(sessionId).signal(attestrResultSignal, delivery));
  }

  /** Sessions of a client with this tag in these statuses (from visibility: a moment behind). */
  async findSessions(clientId: string, tag: string, statuses: SessionStatus[]): Promise<string[]> {
    const query = `ClientId = ${quote(clientId)} AND SessionTag = ${quote(tag)} AND SessionStatus IN (${statuses.map(quote).join(', ')}) AND WorkflowType = 'sessionWorkflow'`;
    const ids: string[] = [];
    for await (const execution of this.client.workflow.list({ query, pageSize: 100 })) {
      ids.push(execution.workflowId);
      if (ids.length >= 100) break;
    }
    return ids;
  }

  /**
   * How many sessions of this task queue are in each status, from visibility (a moment behind).
   * A session that continued-as-new counts once: its earlier runs are left out. Visibility
   * cannot group by a custom search attribute, hence one count per status.
   */
  async countByStatus(): Promise<Record<SessionStatus, number>> {
    // Running and completed runs only: a continued-as-new run is counted by its successor, and a
    // terminated or timed-out one is no session any more, whatever status it last reported.
    const scope = `WorkflowType = 'sessionWorkflow' AND TaskQueue = ${quote(this.taskQueue)} AND ExecutionStatus IN ('Running', 'Completed')`;
    const counts = await Promise.all(
      SESSION_STATUSES.map(async (status) => [status, (await this.client.workflow.count(`${scope} AND SessionStatus = ${quote(status)}`)).count] as const),
    );
    return Object.fromEntries(counts) as Record<SessionStatus, number>;
  }

  /** Hands a backend event to a session waiting in a `wait` stage; the event id makes it once-only. */
  async deliverEvent(sessionId: string, event: BackendEventArgs): Promise<StatusView> {
    return refusing(() => this.handle(sessionId).executeUpdate(deliverEventUpdate, { args: [event], updateId: `event-${event.eventId}` }));
  }

  async view(sessionId: string): Promise<{ status: StatusView; result: ResultView }> {
    return refusing(() => this.handle(sessionId).query(viewQuery));
  }

  async result(sessionId: string): Promise<ResultView> {
    return refusing(() => this.handle(sessionId).query(resultQuery));
  }
}
