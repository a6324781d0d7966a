/**
 * The api's updates to a live session: launch, resume, step, archive, expire, backend events.
 * The workflow gets the hashes of the nonces it will take (each derived here from the session
 * and an update id) and the proofs it checks against the hashes it keeps, spent once taken
 * (docs/security/device-binding.md); the api's answers carry the nonces themselves.
 */
import type { Client } from '@temporalio/client';
import {
  archiveUpdate,
  deliverEventUpdate,
  expireUpdate,
  launchUpdate,
  resumeUpdate,
  submitStepUpdate,
  type BackendEventArgs,
  type LaunchAnswer,
  type StepAnswer,
  type StepArgs,
} from '../contract/session';
import { nonceHash, type SessionSecret } from '../session-secret';
import { isDeviceClient, type DeviceBinding } from './device-binding';
import { sessionFailure } from './session-errors';
import { onSession, type StatusView } from './session-handles';
import { launchUpdateId, newUpdateId, stepUpdateId, type StepSubmission } from './session-ids';

/** A nonce's hash, as the workflow keeps it, is replaced by the nonce itself in the api's answer. */
export function withNonce<T extends { nonce: string | null }>(answer: T, nonce: string): T {
  return answer.nonce === nonceHash(nonce) ? { ...answer, nonce } : answer;
}

/**
 * What every launch carries: the first nonce's hash and the update id it was derived from, and
 * the launch proof (sessions created before proofs ignore both).
 */
export function launchArgs(secret: SessionSecret, sessionId: string, nonce: string, updateId: string) {
  return { nonceHash: nonceHash(nonce), nonceSource: updateId, launchProof: secret.launchProof(sessionId) };
}

export class SessionClient {
  constructor(
    private readonly client: Client,
    private readonly secret: SessionSecret,
    private readonly binding: DeviceBinding,
  ) {}

  /**
   * Launches a session, bound to a device when one is given (a device client, or a device key's
   * binding, see deviceKeyBinding). The session checks the tenant and its status first; only a
   * launch that succeeded is recorded on a device client, so a refused launch (another tenant's
   * session, one launched already, an unknown id) binds nothing.
   */
  async launch(sessionId: string, device?: { deviceClientId: string; tenantId: string }, idempotencyKey?: string): Promise<LaunchAnswer> {
    const deviceClient = device && isDeviceClient(device.deviceClientId) ? device.deviceClientId : undefined;
    if (deviceClient) await this.binding.checkCanBind(deviceClient);
    // With a key, a repeat is the same Temporal update (answered with the first one's outcome)
    // carrying the same nonce.
    const updateId = idempotencyKey === undefined ? newUpdateId('launch') : launchUpdateId(idempotencyKey, device?.deviceClientId);
    const nonce = this.secret.nextNonce(sessionId, updateId);
    let answer: LaunchAnswer;
    try {
      const args = { ...launchArgs(this.secret, sessionId, nonce, updateId), ...(device ? { deviceClientId: device.deviceClientId, clientId: device.tenantId } : {}) };
      answer = await onSession(this.client, sessionId, (handle) => handle.executeUpdate(launchUpdate, { args: [args], updateId }));
    } catch (err) {
      return sessionFailure(err);
    }
    if (deviceClient) await this.binding.bindLaunched(deviceClient, sessionId, this.secret.seal(sessionId));
    return withNonce(answer, nonce);
  }

  /**
   * Sessions created before proofs: the device that launched the session gets a fresh nonce for
   * its current stage (a reload lost the last one; the workflow keeps only hashes). Anyone else
   * is refused as unknown. Sessions with proofs refuse it (see currentNonce).
   */
  async resume(sessionId: string, deviceClientId: string): Promise<LaunchAnswer> {
    const nonce = this.secret.nextNonce(sessionId, newUpdateId('resume'));
    try {
      const answer = await onSession(this.client, sessionId, (handle) => handle.executeUpdate(resumeUpdate, { args: [{ nonceHash: nonceHash(nonce), deviceClientId }] }));
      return withNonce(answer, nonce);
    } catch (err) {
      return sessionFailure(err);
    }
  }

  /**
   * The nonce a session with proofs expects now, from the update id it names (its status'
   * `pickUp`): the api hands it to the bound device again, with no update and nothing in history.
   */
  currentNonce(sessionId: string, nonceSource: string): string {
    return this.secret.nextNonce(sessionId, nonceSource);
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
      const answer = await onSession(this.client, sessionId, (handle) => handle.executeUpdate(submitStepUpdate, { args: [args], updateId }));
      return withNonce(answer, nextNonce);
    } catch (err) {
      return sessionFailure(err);
    }
  }

  async archive(sessionId: string): Promise<StatusView> {
    try {
      return { ...(await onSession(this.client, sessionId, (handle) => handle.executeUpdate(archiveUpdate))), sessionId };
    } catch (err) {
      return sessionFailure(err);
    }
  }

  async expire(sessionId: string, reason: string): Promise<StatusView> {
    try {
      return { ...(await onSession(this.client, sessionId, (handle) => handle.executeUpdate(expireUpdate, { args: [{ reason }] }))), sessionId };
    } catch (err) {
      return sessionFailure(err);
    }
  }

  /**
   * Hands a backend event to a session waiting in a `wait` stage; the event id makes it once-only.
   * It carries the api's proof that it came through here, which the session checks.
   */
  async deliverEvent(sessionId: string, event: Omit<BackendEventArgs, 'proof'>): Promise<StatusView> {
    try {
      const view = await onSession(this.client, sessionId, (handle) => {
        const args: BackendEventArgs = { ...event, proof: this.secret.eventProof(handle.workflowId, event) };
        return handle.executeUpdate(deliverEventUpdate, { args: [args], updateId: `event-${event.eventId}` });
      });
      return { ...view, sessionId };
    } catch (err) {
      return sessionFailure(err);
    }
  }
}
