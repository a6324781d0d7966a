/**
 * The api's only way to sessions and device clients: each operation is one workflow start,
 * update, signal or query, made by the module whose job it is. This class only wires them.
 *
 * No live credential reaches Temporal (see src/session-secret.ts): sessions live under
 * `session-<ref>`, the workflow gets the hashes of nonces it will take and the proofs it checks
 * against the hashes it keeps, spent once taken (docs/security/device-binding.md), and the
 * session id travels sealed. Refusals come back as SessionRefusedError with the workflow's
 * refusal type, an unknown session as SessionNotFoundError (session-errors.ts).
 *
 * - session-create.ts: create, create-and-launch; session-ids.ts: the ids it mints
 * - session-client.ts: launch, resume, step, archive, expire, backend events
 * - session-reads.ts: status, result, progress (live or archived), lists and counts
 * - device-clients.ts, device-binding.ts: device clients, and binding sessions to them
 * - session-handoff.ts: handoffs to another device, and re-issued links
 * - attestr-wake.ts: Attestr's webhook to the waiting session
 * - legacy-sessions.ts: sessions under their legacy workflow id (to be deleted, see there)
 */
import type { Client } from '@temporalio/client';
import type { DeviceClientView } from '../contract/device-client';
import type { BackendEventArgs, LaunchAnswer, ResultView, SessionStatus, StepAnswer } from '../contract/session';
import type { KeyStore } from '../keys/key-store';
import { nonceHash, sessionWorkflowId, type SessionSecret } from '../session-secret';
import { wakeForAttestr } from './attestr-wake';
import { DeviceBinding } from './device-binding';
import { DeviceClients } from './device-clients';
import { SessionClient } from './session-client';
import { SessionHandoff } from './session-handoff';
import type { HandoffKind } from '../contract/handoff';
import { SessionCreator, type CreatedSession, type CreateSessionRequest } from './session-create';
import { SessionNotFoundError } from './session-errors';
import type { StatusView } from './session-handles';
import type { StepSubmission } from './session-ids';
import { SessionReads } from './session-reads';

export class SessionGateway {
  private readonly creator: SessionCreator;
  private readonly sessions: SessionClient;
  private readonly reads: SessionReads;
  private readonly deviceClients: DeviceClients;
  private readonly handoffs: SessionHandoff;

  constructor(
    private readonly client: Client,
    taskQueue: string,
    private readonly secret: SessionSecret,
    keys?: KeyStore,
    /** UNSEALED_SESSIONS_UNTIL (see SessionSecret.vouchesFor). */
    private readonly unsealedUntil?: number,
    /** Set on every workflow started here (WORKFLOW_TASK_TIMEOUT_SECONDS); Temporal's default when absent. */
    workflowTaskTimeoutMs?: number,
  ) {
    this.deviceClients = new DeviceClients(client, taskQueue, secret, workflowTaskTimeoutMs);
    const binding = new DeviceBinding(client, this.deviceClients);
    this.creator = new SessionCreator(client, taskQueue, secret, binding, keys, workflowTaskTimeoutMs);
    this.sessions = new SessionClient(client, secret, binding);
    this.reads = new SessionReads(client, taskQueue, secret);
    this.handoffs = new SessionHandoff(client, secret);
  }

  create(request: CreateSessionRequest): Promise<CreatedSession> {
    return this.creator.create(request);
  }

  createAndLaunch(request: CreateSessionRequest, device?: { deviceClientId: string }): Promise<{ session: CreatedSession; launch: LaunchAnswer }> {
    return this.creator.createAndLaunch(request, device);
  }

  launch(sessionId: string, device?: { deviceClientId: string; tenantId: string }, idempotencyKey?: string): Promise<LaunchAnswer> {
    return this.sessions.launch(sessionId, device, idempotencyKey);
  }

  resume(sessionId: string, deviceClientId: string): Promise<LaunchAnswer> {
    return this.sessions.resume(sessionId, deviceClientId);
  }

  currentNonce(sessionId: string, nonceSource: string): string {
    return this.sessions.currentNonce(sessionId, nonceSource);
  }

  /** Whether this api minted `value` (a nonce, a device key) for this session: checked before any Temporal call. */
  isMintedFor(sessionId: string, value: string): boolean {
    return this.secret.isMintedFor(sessionId, value);
  }

  /** A new device key for a launch of this session (the hosted page sets it as the browser's cookie). */
  newDeviceKey(sessionId: string): string {
    return this.secret.newDeviceKey(sessionId);
  }

  /** A one-time token that moves the session to the device claiming it (see SessionHandoff.offer). */
  offerHandoff(sessionId: string, kind: HandoffKind, ttlMs: number, from?: string): Promise<{ token: string; expiresAt: number }> {
    return this.handoffs.offer(sessionId, kind, ttlMs, from);
  }

  claimHandoff(sessionId: string, token: string, deviceClientId: string): Promise<StatusView> {
    return this.handoffs.claim(sessionId, token, deviceClientId);
  }

  submitStep(sessionId: string, step: StepSubmission): Promise<StepAnswer> {
    return this.sessions.submitStep(sessionId, step);
  }

  archive(sessionId: string): Promise<StatusView> {
    return this.sessions.archive(sessionId);
  }

  expire(sessionId: string, reason: string): Promise<StatusView> {
    return this.sessions.expire(sessionId, reason);
  }

  deliverEvent(sessionId: string, event: Omit<BackendEventArgs, 'proof'>): Promise<StatusView> {
    return this.sessions.deliverEvent(sessionId, event);
  }

  /** The status, and whether `nonce` is the session's current one; the workflow sees only its hash. */
  progress(sessionId: string, nonce: string | null): Promise<{ status: StatusView; nonceCurrent: boolean }> {
    return this.reads.progress(sessionId, nonce === null ? null : nonceHash(nonce));
  }

  /** The session's status and result; a result only for a session this api sealed (it is signed). */
  async view(sessionId: string): Promise<{ status: StatusView; result: ResultView }> {
    const { status, result } = await this.reads.view(sessionId);
    return { status, result: this.vouched(sessionId, result) };
  }

  async status(sessionId: string): Promise<StatusView> {
    return (await this.reads.view(sessionId)).status;
  }

  /** The session's result, under the same condition as view(). */
  async result(sessionId: string): Promise<ResultView> {
    return (await this.view(sessionId)).result;
  }

  /**
   * A session with a result whose seal does not hold was not created by this api: as if unknown.
   * What the seal covers is the api's business only: it goes no further.
   */
  private vouched(sessionId: string, { inputDigest, seal, ...view }: ResultView): ResultView {
    if (view.result !== null && !this.secret.vouchesFor(sessionWorkflowId(sessionId), { inputDigest, seal }, this.unsealedUntil)) {
      throw new SessionNotFoundError('session not found');
    }
    return view;
  }

  findSessions(tenantId: string, tag: string, statuses: SessionStatus[]): Promise<string[]> {
    return this.reads.findSessions(tenantId, tag, statuses);
  }

  countByStatus(): Promise<Record<SessionStatus, number>> {
    return this.reads.countByStatus();
  }

  wakeForAttestr(ref: string): Promise<void> {
    return wakeForAttestr(this.client, ref);
  }

  createDeviceClient(tenantId: string, unusedMs: number, now = Date.now()): Promise<DeviceClientView> {
    return this.deviceClients.create(tenantId, unusedMs, now);
  }

  /** The device client, or null when it does not exist (any more). */
  deviceClient(deviceClientId: string): Promise<DeviceClientView | null> {
    return this.deviceClients.get(deviceClientId);
  }

  revokeDeviceClient(deviceClientId: string): Promise<DeviceClientView> {
    return this.deviceClients.revoke(deviceClientId);
  }
}
