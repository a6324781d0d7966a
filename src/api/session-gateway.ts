/**
 * The api's only way to sessions: each operation is one workflow start, update or query.
 * Secrets and randomness the workflow needs (session ids, numbers, nonces) are made here with
 * a cryptographic RNG and passed in. Refusals come back as SessionRefusedError with the
 * workflow's refusal type; an unknown session as SessionNotFoundError.
 *
 * No live credential reaches Temporal (see src/session-secret.ts): sessions live under
 * `session-<ref>`, the workflow gets the hashes of nonces it will take (each derived here from the
 * session and an update id) and the proofs it checks against the hashes it keeps, spent once
 * taken (docs/security/device-binding.md), and the session id travels sealed.
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
import { KeyDestroyedError, KeyStoreUnavailableError, namespaceKeyId, sessionKeyId, type KeyStore } from '../keys/key-store';
import { DEVICE_KEY_BINDING_PREFIX, nonceHash, sessionRef, sessionWorkflowId, type SessionSecret } from '../session-secret';
import { legacySessionWorkflowId } from '../contract/workflow-ids';
import type { FlowDefinition } from '../flows/core/types';
import { contentHash } from '../util/hash';
import { bindSessionUpdate, deviceClientQuery, revokeDeviceClientUpdate, type DeviceClientInput, type DeviceClientView, MAX_DEVICE_SESSIONS } from '../contract/device-client';
import { archiveUpdate, attestrResultSignal, deliverEventUpdate, type BackendEventArgs, type SessionStatus, SESSION_STATUSES, expireUpdate, launchUpdate, resumeUpdate, REFUSALS, progressQuery, submitStepUpdate, viewQuery, type LaunchAnswer, type RefusalType, type ResultView, type StatusView as WorkflowStatusView, type StepAnswer, type StepArgs } from '../contract/session';
import { ClientIdKey, FlowIdKey, SessionStageKey, SessionStageSinceKey, SessionStatusKey, SessionTagKey, SessionNumberKey, SessionArchivedAtKey } from '../contract/session-search';
import type { SessionInput, SessionMemo, ArchivedMemo } from '../contract/session-state';
import { deviceClientWorkflowId, sessionWorkflowIdOfRef } from '../contract/workflow-ids';
import type { deviceClientWorkflow } from '../workflows/device-client';
import type { sessionWorkflow } from '../workflows/session';
import { REFRESH_WINDOW_MS } from './device-tokens';

export const DEFAULT_EXPIRY_MS = 24 * 60 * 60 * 1000;
export const MAX_EXPIRY_MS = 365 * 24 * 60 * 60 * 1000;

/** A device step as the api receives it: the nonce, which the workflow sees only as the proof it spends. */
export type StepSubmission = Omit<StepArgs, 'nonceHash' | 'nextNonceHash' | 'nonce' | 'nextNonce' | 'nextNonceSource'> & { nonce: string };

/** A session as the api answers it: the workflow's view plus the session id, which the workflow never holds. */
export type StatusView = WorkflowStatusView & { sessionId: string };

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
  /** How long the session is kept once consumed or expired (the client's retentionSeconds); the workflow's default (30 days) otherwise. */
  retentionSeconds?: number;
  /** Where the hosted page sends the user at the end; the caller checked it against the client's redirectUrls. */
  returnUrl?: string;
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
 * Whether `id` has the shape of a session id. Other workflows (device clients, webhook
 * outboxes) share the namespace; their ids must look exactly like a missing session, so they
 * are never handed to Temporal as one.
 */
export function isSessionId(id: string): boolean {
  return /^DS[0-9A-Za-z]{20}$/.test(id);
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

/** An update id no other request has: the nonce a launch without an Idempotency-Key hands out is derived from it. */
function newUpdateId(kind: 'launch' | 'resume'): string {
  return `${kind}-${randomBytes(16).toString('hex')}`;
}

/** Whether a binding names a device client (`dc_…`), whose workflow lists what it launched, rather than a device key. */
function isDeviceClient(binding: string): boolean {
  return !binding.startsWith(DEVICE_KEY_BINDING_PREFIX);
}

/**
 * The update id of a step submission, derived from its nonce, payload and caller: a retried
 * request is deduplicated by Temporal and gets the first answer, while the same nonce with
 * another payload or from another client reaches the validator and is refused.
 */
export function stepUpdateId(step: StepSubmission): string {
  const parts = [step.nonce, step.step, step.input, step.clientId ?? null, step.flowId ?? null, step.deviceClientId ?? null];
  return `step-${contentHash(parts)}`;
}

/** A string literal for a visibility list query. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * An unknown workflow or a refused update, as the api's own error; anything else as it is. A
 * destroyed key (arguments for a session archived and shredded, so closed) counts as closed:
 * callers then answer from the archived view, as for any closed session.
 */
function refusalOf(err: unknown): never {
  if (err instanceof WorkflowNotFoundError || err instanceof KeyDestroyedError) throw new SessionNotFoundError('session not found');
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type?.startsWith('Session')) {
    throw new SessionRefusedError(err.cause.type as RefusalType, err.cause.message, err.cause.details?.[0]);
  }
  throw err;
}

/** A nonce's hash, as the workflow keeps it, is replaced by the nonce itself in the api's answer. */
function withNonce<T extends { nonce: string | null }>(answer: T, nonce: string): T {
  return answer.nonce === nonceHash(nonce) ? { ...answer, nonce } : answer;
}

export class SessionGateway {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly secret: SessionSecret,
    private readonly keys?: KeyStore,
  ) {}

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

  private handle(sessionId: string, legacy = false): WorkflowHandle<typeof sessionWorkflow> {
    if (!isSessionId(sessionId)) throw new SessionNotFoundError('session not found');
    return this.client.workflow.getHandle<typeof sessionWorkflow>(legacy ? legacySessionWorkflowId(sessionId) : sessionWorkflowId(sessionId));
  }

  /**
   * Runs `operation` on the session's workflow; a session not found under its hashed workflow
   * id is looked for under its own id, where sessions started before the change live.
   */
  private async onSession<T>(sessionId: string, operation: (handle: WorkflowHandle<typeof sessionWorkflow>, legacy: boolean) => Promise<T>): Promise<T> {
    try {
      return await operation(this.handle(sessionId), false);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    return operation(this.handle(sessionId, true), true);
  }

  /**
   * An archived session answered from what stays readable after its key is destroyed: search
   * attributes and the memo (namespace key). Null when the session is not archived, or was
   * archived before shredding existed (its workflow still answers queries).
   */
  private async archivedView(handle: WorkflowHandle, sessionId: string): Promise<StatusView | null> {
    const description = await handle.describe();
    const attributes = description.typedSearchAttributes;
    const memo = description.memo as Partial<SessionMemo> | undefined;
    if (description.status.name === 'RUNNING' || attributes.get(SessionStatusKey) !== 'archived' || typeof memo?.archived !== 'string') return null;
    return {
      ...(JSON.parse(memo.archived) as ArchivedMemo),
      sessionId,
      number: attributes.get(SessionNumberKey) ?? String(memo.number),
      tag: attributes.get(SessionTagKey) ?? '',
      clientId: attributes.get(ClientIdKey) ?? '',
      flowId: attributes.get(FlowIdKey) ?? '',
      status: 'archived',
      archived: attributes.get(SessionArchivedAtKey)?.getTime() ?? null,
      stage: null,
    };
  }

  /** The session's status and result: an archived session from search attributes and memo, others by query. */
  private async read(sessionId: string): Promise<{ status: StatusView; result: ResultView }> {
    try {
      return await this.onSession(sessionId, async (handle) => {
        const archivedAnswer = (archived: StatusView) => ({
          status: archived,
          result: { status: 'archived' as const, outcome: archived.outcome, result: null, archived: archived.archived },
        });
        const archived = await this.archivedView(handle, sessionId);
        if (archived) return archivedAnswer(archived);
        try {
          const view = await handle.query(viewQuery);
          return { status: { ...view.status, sessionId }, result: view.result };
        } catch (err) {
          // Archived, closed and shredded between the describe and the query: answer it as archived.
          const since = err instanceof WorkflowNotFoundError ? null : await this.archivedView(handle, sessionId);
          if (since) return archivedAnswer(since);
          throw err;
        }
      });
    } catch (err) {
      return refusalOf(err);
    }
  }

  private startOptions(request: CreateSessionRequest, now: number) {
    const sessionId = request.idempotency
      ? idempotentSessionId(request.idempotency.clientSecret, request.clientId, request.idempotency.key)
      : newSessionId();
    const ref = sessionRef(sessionId);
    const sealedId = this.secret.seal(sessionId);
    const input: SessionInput = {
      ref,
      sealedId,
      launchProofHash: nonceHash(this.secret.launchProof(sessionId)),
      number: newSessionNumber(),
      clientId: request.clientId,
      tag: request.tag,
      webhook: request.webhook ?? false,
      definition: request.definition,
      createdAt: now,
      expiresAt: request.expiresAt ?? now + DEFAULT_EXPIRY_MS,
      ...(request.retentionSeconds !== undefined ? { retentionMs: request.retentionSeconds * 1000 } : {}),
      ...(request.returnUrl !== undefined ? { returnUrl: request.returnUrl } : {}),
    };
    const flow = request.definition;
    return {
      sessionId,
      input,
      options: {
        workflowId: sessionWorkflowIdOfRef(ref),
        taskQueue: this.taskQueue,
        args: [input] as [SessionInput],
        typedSearchAttributes: new TypedSearchAttributes([
          { key: SessionStatusKey, value: 'created' },
          { key: SessionTagKey, value: request.tag },
          { key: FlowIdKey, value: flow.flowId },
          { key: ClientIdKey, value: request.clientId },
          { key: SessionNumberKey, value: input.number },
          // The first stage from the start, so the workflow's first move is its first upsert.
          { key: SessionStageKey, value: flow.machine.initial },
          { key: SessionStageSinceKey, value: new Date(now) },
        ]),
        // Shown in the Temporal UI's list: identifiers only, nothing about the person.
        staticSummary: `Session ${input.number} · flow ${flow.flowId}@${flow.snapshotId ?? 'draft'} · client ${request.clientId}`,
        memo: { number: input.number, sealedId, ...(request.idempotency ? { requestHash: request.idempotency.requestHash } : {}) } satisfies SessionMemo,
        // An Idempotency-Key keeps meaning its session even after that session closed.
        workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      },
    };
  }

  async create(request: CreateSessionRequest): Promise<CreatedSession> {
    const { sessionId, input, options } = this.startOptions(request, Date.now());
    try {
      if (!(await this.ensureSessionKey(options.workflowId))) throw new WorkflowExecutionAlreadyStartedError('the session was archived', options.workflowId, 'sessionWorkflow');
      await this.client.workflow.start('sessionWorkflow', options);
      return { sessionId, number: input.number, created: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !request.idempotency) throw err;
      // The key was used before: the memo (readable without a worker, and without the
      // session's key, so also once it is archived and shredded) says for what.
      let memo: Partial<SessionMemo> | undefined;
      try {
        memo = (await this.handle(sessionId).describe()).memo as Partial<SessionMemo> | undefined;
      } catch (described) {
        // Its key was destroyed (archived) and the namespace's retention has removed it since.
        if (described instanceof WorkflowNotFoundError) throw new IdempotencyConflictError('this Idempotency-Key was used for a session that was archived and is gone');
        throw described;
      }
      if (memo?.requestHash !== request.idempotency.requestHash || typeof memo.number !== 'string') {
        throw new IdempotencyConflictError('this Idempotency-Key was used with a different request');
      }
      return { sessionId, number: memo.number, created: false };
    }
  }

  /** Creates and launches in one round trip (update-with-start); binds the device client only once that succeeded. */
  async createAndLaunch(
    request: CreateSessionRequest,
    device?: { deviceClientId: string },
  ): Promise<{ session: CreatedSession; launch: LaunchAnswer }> {
    const { sessionId, input, options } = this.startOptions(request, Date.now());
    if (device) await this.checkDeviceCanBind(device.deviceClientId);
    await this.ensureSessionKey(options.workflowId);
    const start = new WithStartWorkflowOperation<typeof sessionWorkflow>('sessionWorkflow', {
      ...options,
      workflowIdConflictPolicy: 'FAIL',
    });
    const updateId = newUpdateId('launch');
    const nonce = this.secret.nextNonce(sessionId, updateId);
    let launch: LaunchAnswer;
    try {
      launch = await this.client.workflow.executeUpdateWithStart(launchUpdate, {
        args: [{ ...this.launchArgs(sessionId, nonce, updateId), ...(device ? { deviceClientId: device.deviceClientId } : {}) }],
        updateId,
        startWorkflowOperation: start,
      });
    } catch (err) {
      return refusalOf(err);
    }
    if (device) await this.bindLaunched(device.deviceClientId, sessionId, input.sealedId!);
    return { session: { sessionId, number: input.number, created: true }, launch: withNonce(launch, nonce) };
  }

  /**
   * What every launch carries: the first nonce's hash and the update id it was derived from, and
   * the launch proof (sessions created before proofs ignore both).
   */
  private launchArgs(sessionId: string, nonce: string, updateId: string) {
    return { nonceHash: nonceHash(nonce), nonceSource: updateId, launchProof: this.secret.launchProof(sessionId) };
  }

  /**
   * Launches a session, bound to a device when one is given (a device client, or a device key's
   * binding, see deviceKeyBinding). The session checks the tenant and its status first; only a
   * launch that succeeded is recorded on a device client, so a refused launch (another tenant's
   * session, one launched already, an unknown id) binds nothing.
   */
  async launch(sessionId: string, device?: { deviceClientId: string; tenantId: string }, idempotencyKey?: string): Promise<LaunchAnswer & { session_id: string }> {
    const deviceClient = device && isDeviceClient(device.deviceClientId) ? device.deviceClientId : undefined;
    if (deviceClient) await this.checkDeviceCanBind(deviceClient);
    // With a key, a repeat is the same Temporal update (answered with the first one's outcome)
    // carrying the same nonce; the key is hashed with what the launch binds, like a step's id.
    const updateId = idempotencyKey === undefined ? newUpdateId('launch') : `launch-${contentHash([idempotencyKey, device?.deviceClientId ?? null])}`;
    const nonce = this.secret.nextNonce(sessionId, updateId);
    let answer: LaunchAnswer;
    try {
      const args = { ...this.launchArgs(sessionId, nonce, updateId), ...(device ? { deviceClientId: device.deviceClientId, clientId: device.tenantId } : {}) };
      answer = await this.onSession(sessionId, (handle) => handle.executeUpdate(launchUpdate, { args: [args], updateId }));
    } catch (err) {
      return refusalOf(err);
    }
    if (deviceClient) await this.bindLaunched(deviceClient, sessionId, this.secret.seal(sessionId));
    return { session_id: sessionId, ...withNonce(answer, nonce) };
  }

  /**
   * The nonce a session with proofs expects now, from the update id it names (its status'
   * `pickUp`): the api hands it to the bound device again, with no update and nothing in history.
   */
  currentNonce(sessionId: string, nonceSource: string): string {
    return this.secret.nextNonce(sessionId, nonceSource);
  }

  /** Whether this api minted `value` (a nonce, a device key) for this session: checked before any Temporal call. */
  isMintedFor(sessionId: string, value: string): boolean {
    return this.secret.isMintedFor(sessionId, value);
  }

  /** A new device key for a launch of this session (the hosted page sets it as the browser's cookie). */
  newDeviceKey(sessionId: string): string {
    return this.secret.newDeviceKey(sessionId);
  }

  /**
   * Sessions created before proofs: the device that launched the session gets a fresh nonce for
   * its current stage (a reload lost the last one; the workflow keeps only hashes). Anyone else
   * is refused as unknown. Sessions with proofs refuse it (see currentNonce).
   */
  async resume(sessionId: string, deviceClientId: string): Promise<LaunchAnswer & { session_id: string }> {
    const nonce = this.secret.nextNonce(sessionId, newUpdateId('resume'));
    try {
      const answer = await this.onSession(sessionId, (handle) => handle.executeUpdate(resumeUpdate, { args: [{ nonceHash: nonceHash(nonce), deviceClientId }] }));
      return { session_id: sessionId, ...withNonce(answer, nonce) };
    } catch (err) {
      return refusalOf(err);
    }
  }

  /** Refuses up front what the device client's bind would refuse: a revoked or full client. */
  private async checkDeviceCanBind(deviceClientId: string): Promise<void> {
    const client = await this.deviceClient(deviceClientId);
    if (!client || client.revokedAt !== null) throw new SessionRefusedError(REFUSALS.WRONG_CLIENT, 'the device client was revoked', undefined);
    if (client.sessionIds.length >= MAX_DEVICE_SESSIONS) {
      throw new SessionRefusedError(REFUSALS.BUSY, `a device client may launch at most ${MAX_DEVICE_SESSIONS} sessions`, undefined);
    }
  }

  /**
   * Records a launched session (as its sealed id) on its device client. Should the client have
   * been revoked (or filled) between the check and now, the session it launched is ended, as
   * DELETE /v1/client would have ended it.
   */
  private async bindLaunched(deviceClientId: string, sessionId: string, sealedId: string): Promise<void> {
    try {
      await this.deviceClientHandle(deviceClientId).executeUpdate(bindSessionUpdate, { args: [{ sessionId: sealedId }] });
    } catch (err) {
      await this.expire(sessionId, 'its device client was revoked while launching it').catch(() => undefined);
      refusalOf(err);
    }
  }

  private deviceClientHandle(deviceClientId: string): WorkflowHandle<typeof deviceClientWorkflow> {
    return this.client.workflow.getHandle<typeof deviceClientWorkflow>(deviceClientWorkflowId(deviceClientId));
  }

  /** A new device client; it ends unless it launches a session within `unusedMs`. */
  async createDeviceClient(tenantId: string, unusedMs: number, now = Date.now()): Promise<DeviceClientView> {
    const deviceClientId = `dc_${newSessionId().slice(2)}`;
    const refreshUntil = now + REFRESH_WINDOW_MS;
    const input: DeviceClientInput = { deviceClientId, tenantId, createdAt: now, refreshUntil, launchBy: Math.min(now + unusedMs, refreshUntil) };
    await this.client.workflow.start('deviceClientWorkflow', {
      workflowId: deviceClientWorkflowId(deviceClientId),
      taskQueue: this.taskQueue,
      args: [input],
      staticSummary: `Device client of ${tenantId}`,
    });
    return { ...input, sessionIds: [], revokedAt: null };
  }

  /** The device client, or null when it does not exist (any more). */
  /** The device client, or null when it does not exist (any more). Its session ids are opened from their sealed form. */
  async deviceClient(deviceClientId: string): Promise<DeviceClientView | null> {
    try {
      return this.openSessionIds(await this.deviceClientHandle(deviceClientId).query(deviceClientQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  private openSessionIds(view: DeviceClientView): DeviceClientView {
    return { ...view, sessionIds: view.sessionIds.map((id) => this.secret.openOrLegacy(id)) };
  }

  async revokeDeviceClient(deviceClientId: string): Promise<DeviceClientView> {
    try {
      return this.openSessionIds(await this.deviceClientHandle(deviceClientId).executeUpdate(revokeDeviceClientUpdate));
    } catch (err) {
      return refusalOf(err);
    }
  }

  /**
   * A device step. The workflow gets hashes only: of the submitted nonce, and of the next one,
   * which is derived from the session and the update id, so a retry (same update id, any
   * replica) is answered the same nonce. The update id is a hash too (see stepUpdateId).
   */
  async submitStep(sessionId: string, step: StepSubmission): Promise<StepAnswer> {
    const updateId = stepUpdateId(step);
    const nextNonce = this.secret.nextNonce(sessionId, updateId);
    // The nonce is the proof (spent if taken); its hash is for sessions from before proofs.
    const args: StepArgs = { ...step, nonceHash: nonceHash(step.nonce), nextNonceHash: nonceHash(nextNonce), nextNonceSource: updateId };
    try {
      const answer = await this.onSession(sessionId, (handle) => handle.executeUpdate(submitStepUpdate, { args: [args], updateId }));
      return withNonce(answer, nextNonce);
    } catch (err) {
      return refusalOf(err);
    }
  }

  async archive(sessionId: string): Promise<StatusView> {
    try {
      return { ...(await this.onSession(sessionId, (handle) => handle.executeUpdate(archiveUpdate))), sessionId };
    } catch (err) {
      return refusalOf(err);
    }
  }

  async expire(sessionId: string, reason: string): Promise<StatusView> {
    try {
      return { ...(await this.onSession(sessionId, (handle) => handle.executeUpdate(expireUpdate, { args: [{ reason }] }))), sessionId };
    } catch (err) {
      return refusalOf(err);
    }
  }

  /**
   * The status, and whether `nonce` is the session's current one (see progressQuery): the
   * workflow gets only the nonce's hash and compares it with the hash it keeps. An archived
   * session, whose key may be destroyed, answers from search attributes and memo, with no
   * current nonce.
   */
  async progress(sessionId: string, nonce: string | null): Promise<{ status: StatusView; nonceCurrent: boolean }> {
    const hash = nonce === null ? null : nonceHash(nonce);
    try {
      return await this.onSession(sessionId, async (handle) => {
        try {
          const answer = await handle.query(progressQuery, { nonceHash: hash });
          return { status: { ...answer.status, sessionId }, nonceCurrent: answer.nonceCurrent };
        } catch (err) {
          const archived = err instanceof WorkflowNotFoundError ? null : await this.archivedView(handle, sessionId);
          if (archived) return { status: archived, nonceCurrent: false };
          throw err;
        }
      });
    } catch (err) {
      return refusalOf(err);
    }
  }

  async status(sessionId: string): Promise<StatusView> {
    return (await this.read(sessionId)).status;
  }

  /**
   * Wakes the session for an Attestr result (it fetches and verifies the result itself). The
   * session is named by the ref the Attestr tag carries (sessions from before: their id).
   */
  async wakeForAttestr(ref: string): Promise<void> {
    const workflowId = /^[0-9a-f]{32}$/.test(ref) ? sessionWorkflowIdOfRef(ref) : isSessionId(ref) ? legacySessionWorkflowId(ref) : null;
    if (workflowId === null) throw new SessionNotFoundError('session not found');
    try {
      await this.client.workflow.getHandle(workflowId).signal(attestrResultSignal);
    } catch (err) {
      refusalOf(err);
    }
  }

  /**
   * Ids of a client's sessions with this tag in these statuses (from visibility: a moment
   * behind), opened from the sealed id in each one's memo (sessions from before: the workflow id).
   */
  async findSessions(clientId: string, tag: string, statuses: SessionStatus[]): Promise<string[]> {
    const query = `ClientId = ${quote(clientId)} AND SessionTag = ${quote(tag)} AND SessionStatus IN (${statuses.map(quote).join(', ')}) AND WorkflowType = 'sessionWorkflow'`;
    const ids: string[] = [];
    for await (const execution of this.client.workflow.list({ query, pageSize: 100 })) {
      const sealed = (execution.memo as Partial<SessionMemo> | undefined)?.sealedId;
      ids.push(sealed ? this.secret.open(sealed) : execution.workflowId);
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

  /**
   * Hands a backend event to a session waiting in a `wait` stage; the event id makes it once-only.
   * It carries the api's proof that it came through here, which the session checks.
   */
  async deliverEvent(sessionId: string, event: Omit<BackendEventArgs, 'proof'>): Promise<StatusView> {
    try {
      const view = await this.onSession(sessionId, (handle) => {
        const args: BackendEventArgs = { ...event, proof: this.secret.eventProof(handle.workflowId, event) };
        return handle.executeUpdate(deliverEventUpdate, { args: [args], updateId: `event-${event.eventId}` });
      });
      return { ...view, sessionId };
    } catch (err) {
      return refusalOf(err);
    }
  }

  view(sessionId: string): Promise<{ status: StatusView; result: ResultView }> {
    return this.read(sessionId);
  }

  async result(sessionId: string): Promise<ResultView> {
    return (await this.read(sessionId)).result;
  }
}
