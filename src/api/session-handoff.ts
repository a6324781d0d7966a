/**
 * Handoffs of a launched session to another device (docs/security/device-binding.md,
 * "Handoff"): the api mints the token, sends the session its hash with a proof the worker
 * checks, and hands the token to whoever asked (the bound device, or the tenant re-issuing a
 * link). The token itself never reaches Temporal, a log, or a URL a server sees.
 */
import type { Client } from '@temporalio/client';
import { claimHandoffUpdate, offerHandoffUpdate, type HandoffKind } from '../contract/handoff';
import { nonceHash, type SessionSecret } from '../session-secret';
import { sessionFailure } from './session-errors';
import { onSession, type StatusView } from './session-handles';
import { newUpdateId } from './session-ids';

export class SessionHandoff {
  constructor(
    private readonly client: Client,
    private readonly secret: SessionSecret,
  ) {}

  /**
   * A new handoff token for the session, valid for `ttlMs`; it replaces any earlier one. `from`:
   * the binding of the device handing the session on (kind `device`); a re-issue releases the
   * session's binding at once.
   */
  async offer(sessionId: string, kind: HandoffKind, ttlMs: number, from?: string): Promise<{ token: string; expiresAt: number }> {
    const token = this.secret.newHandoffToken(sessionId);
    const expiresAt = Date.now() + ttlMs;
    const content = { kind, tokenHash: nonceHash(token), expiresAt, ...(from !== undefined ? { from } : {}) };
    try {
      await onSession(this.client, sessionId, (handle) =>
        handle.executeUpdate(offerHandoffUpdate, { args: [{ ...content, proof: this.secret.handoffProof(handle.workflowId, content) }], updateId: newUpdateId('handoff') }),
      );
    } catch (err) {
      return sessionFailure(err);
    }
    return { token, expiresAt };
  }

  /**
   * Moves the session to the device whose key's binding is `deviceClientId`, if `token` is the
   * session's open handoff. Each claim is its own update: two devices claiming one token are two
   * updates, and the session takes one.
   */
  async claim(sessionId: string, token: string, deviceClientId: string): Promise<StatusView> {
    const content = { tokenHash: nonceHash(token), deviceClientId };
    try {
      const view = await onSession(this.client, sessionId, (handle) =>
        handle.executeUpdate(claimHandoffUpdate, { args: [{ ...content, proof: this.secret.handoffProof(handle.workflowId, content) }], updateId: newUpdateId('claim') }),
      );
      return { ...view, sessionId };
    } catch (err) {
      return sessionFailure(err);
    }
  }
}
