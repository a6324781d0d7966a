/**
 * Messages a session takes from outside the worker, checked before they are read. The worker's
 * codec notes every payload it did not decrypt (src/keys/codec.ts, marked on the decoded value by
 * src/keys/payload-converter.ts): a session started with encryption refuses an unencrypted one,
 * and every session refuses one that could not be decrypted. A refused update is accepted only to
 * fail with INBOUND_REFUSED; either way the refusal is recorded in history (a local activity's
 * marker, which the worker also counts) and nothing else changes. Backend events also need the
 * api's proof, checked by the worker.
 */
import { proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { notDecryptedBecause } from '../../util/json';
import { inboundRefusedFailure, type BackendEventArgs, type InboundRefusalReason } from '../../contract/session';
import type { ReviewDecisionArgs } from '../../contract/review';
import type { HandoffClaimArgs, HandoffOfferArgs } from '../../contract/handoff';

// A record and a count, nothing that can fail for long: a local activity, no task queue hop.
const records = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });

export class InboundGuard {
  /** Whether the session's input arrived encrypted: then every payload after it must too. */
  private readonly encryptedStart: boolean;

  constructor(input: unknown) {
    this.encryptedStart = notDecryptedBecause(input) === null;
  }

  /** Why `arg` is refused unread, or null when it may be read. */
  refusal(arg: unknown): InboundRefusalReason | null {
    const why = notDecryptedBecause(arg);
    if (why === 'undecryptable' || (why === 'unencrypted' && this.encryptedStart)) return why;
    return null;
  }

  /** Records `message`'s refusal (and says so), or answers false when it may be read. */
  async refused(message: string, arg: unknown): Promise<boolean> {
    const reason = this.refusal(arg);
    if (reason === null) return false;
    await records.recordInboundRefusal({ message, reason });
    return true;
  }

  /** An update handler that records a refused argument and fails, and otherwise runs `handle`. */
  readonly update = <A, R>(message: string, handle: (arg: A) => R): ((arg: A) => R | Promise<never>) => {
    return (arg) => {
      const reason = this.refusal(arg);
      if (reason === null) return handle(arg);
      return this.fail(message, reason);
    };
  };

  /** An update validator that lets a refused argument through, so its handler records the refusal. */
  readonly validator = <A>(validate: (arg: A) => void): ((arg: A) => void) => {
    return (arg) => {
      if (this.refusal(arg) === null) validate(arg);
    };
  };

  /**
   * Whether a backend event carries the api's proof for this session, checked by the worker (which
   * holds SESSION_SECRET; workflow code never does). Its local activity's marker records the answer.
   */
  eventProven(event: BackendEventArgs): Promise<boolean> {
    return records.verifyBackendEvent({ workflowId: workflowInfo().workflowId, event }).then(({ proven }) => proven);
  }

  /** Whether a review decision carries the codec server's proof, checked by the worker (which holds REVIEW_SECRET). */
  async reviewProven(args: ReviewDecisionArgs): Promise<boolean> {
    return (await records.verifyReviewDecision({ workflowId: workflowInfo().workflowId, args })).proven;
  }

  /** Whether a handoff's offer or claim carries the api's proof, checked by the worker (which holds SESSION_SECRET). */
  async handoffProven(args: HandoffOfferArgs | HandoffClaimArgs): Promise<boolean> {
    return (await records.verifyHandoff({ workflowId: workflowInfo().workflowId, args })).proven;
  }

  private async fail(message: string, reason: InboundRefusalReason): Promise<never> {
    await records.recordInboundRefusal({ message, reason });
    throw inboundRefusedFailure({ message, reason });
  }
}
