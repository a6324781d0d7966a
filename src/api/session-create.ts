/**
 * Starting sessions: one workflow start (or update-with-start, to launch in the same round trip),
 * with the session's id and number made here, its data key created first, and its search
 * attributes and memo set. An Idempotency-Key makes a repeated create start nothing new.
 */
import { TypedSearchAttributes } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { launchUpdate, type LaunchAnswer } from '../contract/session';
import { ClientIdKey, FlowIdKey, flowVersionOf, FlowVersionKey, SessionNumberKey, SessionStageKey, SessionStageSinceKey, SessionStatusKey, SessionTagKey } from '../contract/session-search';
import { sessionInputDigest, type SessionInput, type SessionMemo } from '../contract/session-state';
import { sessionWorkflowIdOfRef } from '../contract/workflow-ids';
import type { FlowDefinition } from '../flows/core/types';
import { KeyDestroyedError, KeyStoreUnavailableError, namespaceKeyId, sessionKeyId, type KeyStore } from '../keys/key-store';
import { nonceHash, sessionRef, type SessionSecret } from '../session-secret';
import type { sessionWorkflow } from '../workflows/session';
import type { DeviceBinding } from './device-binding';
import { launchArgs, withNonce } from './session-client';
import { IdempotencyConflictError, sessionFailure } from './session-errors';
import { sessionHandle } from './session-handles';
import { idempotentSessionId, newSessionId, newSessionNumber, newUpdateId } from './session-ids';

export const DEFAULT_EXPIRY_MS = 24 * 60 * 60 * 1000;
export const MAX_EXPIRY_MS = 365 * 24 * 60 * 60 * 1000;

/** Whether a session created at `now` may expire at `expiresAt` (unix ms): in the future, at most a year ahead. */
export function expiryAllowed(expiresAt: number, now: number): boolean {
  return expiresAt > now && expiresAt <= now + MAX_EXPIRY_MS;
}

export interface CreateSessionRequest {
  /** Persisted as the session's `clientId` (its input, the ClientId search attribute). */
  tenantId: string;
  tag: string;
  webhook?: boolean;
  definition: FlowDefinition;
  /** Unix ms, checked by the caller with expiryAllowed; defaults to 24 h from now. */
  expiresAt?: number;
  /** How long the session is kept once consumed or expired (the tenant's retentionSeconds); the workflow's default (30 days) otherwise. */
  retentionSeconds?: number;
  /** Where the hosted page sends the user at the end; the caller checked it against the tenant's redirectUrls. */
  returnUrl?: string;
  /**
   * For idempotent creates: the session id is derived from the tenant and this key, so a
   * repeated create starts nothing new; `requestHash` tells a repeat from a different request.
   */
  idempotency?: { key: string; requestHash: string; tenantSecret: string };
}

export interface CreatedSession {
  sessionId: string;
  number: string;
  /** False when the Idempotency-Key had already created this session. */
  created: boolean;
}

export class SessionCreator {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly secret: SessionSecret,
    private readonly binding: DeviceBinding,
    private readonly keys?: KeyStore,
    private readonly workflowTaskTimeoutMs?: number,
  ) {}

  async create(request: CreateSessionRequest): Promise<CreatedSession> {
    const { sessionId, input, options } = this.startOptions(request, Date.now());
    try {
      if (!(await this.ensureSessionKey(options.workflowId))) throw new WorkflowExecutionAlreadyStartedError('the session was archived', options.workflowId, 'sessionWorkflow');
      await this.client.workflow.start('sessionWorkflow', options);
      return { sessionId, number: input.number, created: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !request.idempotency) throw err;
      return this.repeated(sessionId, request.idempotency.requestHash);
    }
  }

  /** Creates and launches in one round trip (update-with-start); binds the device client only once that succeeded. */
  async createAndLaunch(request: CreateSessionRequest, device?: { deviceClientId: string }): Promise<{ session: CreatedSession; launch: LaunchAnswer }> {
    const { sessionId, input, options } = this.startOptions(request, Date.now());
    if (device) await this.binding.checkCanBind(device.deviceClientId);
    await this.ensureSessionKey(options.workflowId);
    const start = new WithStartWorkflowOperation<typeof sessionWorkflow>('sessionWorkflow', { ...options, workflowIdConflictPolicy: 'FAIL' });
    const updateId = newUpdateId('launch');
    const nonce = this.secret.nextNonce(sessionId, updateId);
    let launch: LaunchAnswer;
    try {
      launch = await this.client.workflow.executeUpdateWithStart(launchUpdate, {
        args: [{ ...launchArgs(this.secret, sessionId, nonce, updateId), ...(device ? { deviceClientId: device.deviceClientId } : {}) }],
        updateId,
        startWorkflowOperation: start,
      });
    } catch (err) {
      return sessionFailure(err);
    }
    if (device) await this.binding.bindLaunched(device.deviceClientId, sessionId, input.sealedId!);
    return { session: { sessionId, number: input.number, created: true }, launch: withNonce(launch, nonce) };
  }

  /**
   * The Idempotency-Key was used before: the memo (readable without a worker, and without the
   * session's key, so also once it is archived and shredded) says for what.
   */
  private async repeated(sessionId: string, requestHash: string): Promise<CreatedSession> {
    let memo: Partial<SessionMemo> | undefined;
    try {
      memo = (await sessionHandle(this.client, sessionId).describe()).memo as Partial<SessionMemo> | undefined;
    } catch (described) {
      // Its key was destroyed (archived) and the namespace's retention has removed it since.
      if (described instanceof WorkflowNotFoundError) throw new IdempotencyConflictError('this Idempotency-Key was used for a session that was archived and is gone');
      throw described;
    }
    if (memo?.requestHash !== requestHash || typeof memo.number !== 'string') {
      throw new IdempotencyConflictError('this Idempotency-Key was used with a different request');
    }
    return { sessionId, number: memo.number, created: false };
  }

  /**
   * Creates the session's data key before its workflow starts (createIfAbsent, so racing
   * idempotent creates end with one key). False when the key was destroyed: the session exists
   * and was archived. The namespace key is read first: a store without it is not this
   * deployment's, and nothing is written into it.
   */
  private async ensureSessionKey(workflowId: string): Promise<boolean> {
    const keyId = sessionKeyId(workflowId);
    if (!this.keys || !keyId) return true;
    if (!(await this.keys.get(namespaceKeyId(this.client.options.namespace)))) throw new KeyStoreUnavailableError('its namespace key is missing');
    try {
      await this.keys.createIfAbsent(keyId);
      return true;
    } catch (err) {
      if (err instanceof KeyDestroyedError) return false;
      throw err;
    }
  }

  private startOptions(request: CreateSessionRequest, now: number) {
    const sessionId = request.idempotency
      ? idempotentSessionId(request.idempotency.tenantSecret, request.tenantId, request.idempotency.key)
      : newSessionId();
    const ref = sessionRef(sessionId);
    const sealedId = this.secret.seal(sessionId);
    const created: SessionInput = {
      ref,
      sealedId,
      launchProofHash: nonceHash(this.secret.launchProof(sessionId)),
      number: newSessionNumber(),
      clientId: request.tenantId,
      tag: request.tag,
      webhook: request.webhook ?? false,
      definition: request.definition,
      createdAt: now,
      expiresAt: request.expiresAt ?? now + DEFAULT_EXPIRY_MS,
      ...(request.retentionSeconds !== undefined ? { retentionMs: request.retentionSeconds * 1000 } : {}),
      ...(request.returnUrl !== undefined ? { returnUrl: request.returnUrl } : {}),
    };
    const workflowId = sessionWorkflowIdOfRef(ref);
    // Digested as the workflow decodes it (JSON: no undefined members), so the two digests agree.
    const input: SessionInput = { ...created, seal: this.secret.inputSeal(workflowId, sessionInputDigest(JSON.parse(JSON.stringify(created)))) };
    const definition = request.definition;
    return {
      sessionId,
      input,
      options: {
        workflowId,
        taskQueue: this.taskQueue,
        args: [input] as [SessionInput],
        typedSearchAttributes: new TypedSearchAttributes([
          { key: SessionStatusKey, value: 'created' },
          { key: SessionTagKey, value: request.tag },
          { key: FlowIdKey, value: definition.flowId },
          { key: FlowVersionKey, value: flowVersionOf(definition.snapshotId) },
          { key: ClientIdKey, value: request.tenantId },
          { key: SessionNumberKey, value: input.number },
          // The first stage from the start, so the workflow's first move is its first upsert.
          { key: SessionStageKey, value: definition.machine.initial },
          { key: SessionStageSinceKey, value: new Date(now) },
        ]),
        // Shown in the Temporal UI's list: identifiers only, nothing about the person.
        staticSummary: `Session ${input.number} · flow ${definition.flowId}@${flowVersionOf(definition.snapshotId)} · client ${request.tenantId}`,
        memo: { number: input.number, sealedId, ...(request.idempotency ? { requestHash: request.idempotency.requestHash } : {}) } satisfies SessionMemo,
        // An Idempotency-Key keeps meaning its session even after that session closed.
        workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
        // How long a step waits on a worker that died holding its task; its continued runs keep it.
        ...(this.workflowTaskTimeoutMs ? { workflowTaskTimeout: this.workflowTaskTimeoutMs } : {}),
      },
    };
  }
}
