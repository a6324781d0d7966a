/**
 * REVIEW_SECRET: what a review decision's proof is made with. The codec server's operator route
 * makes the proof for the decision a reviewer sends (src/operator-api/reviews.ts); the worker
 * checks it before the session takes the decision. So a decision sent straight to Temporal,
 * without going through an authenticated reviewer, is refused (docs/security/trust-model.md).
 * A secret of its own rather than SESSION_SECRET: the codec server must still derive no nonce
 * and open no sealed session id.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from './util/config-error';
import { embeddedSecret } from './util/secret-file';
import { reviewProofContent, type ReviewDecisionArgs } from './contract/review';

export class ReviewSecret {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new ConfigError('REVIEW_SECRET', 'must have at least 32 characters');
    this.key = createHmac('sha256', 'sessionflow review-decision-proof').update(secret).digest();
  }

  /** The proof of one decision: an HMAC of the session's workflow id, the review's visit, the decision and the operator. */
  proof(workflowId: string, args: Omit<ReviewDecisionArgs, 'proof'>): string {
    return createHmac('sha256', this.key).update(reviewProofContent(workflowId, args)).digest('base64url');
  }

  verify(workflowId: string, args: ReviewDecisionArgs): boolean {
    if (typeof args?.proof !== 'string') return false;
    const expected = Buffer.from(this.proof(workflowId, args));
    const given = Buffer.from(args.proof);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** REVIEW_SECRET (32+ characters, the same on the codec server and every worker), or for the embedded default one kept in `<dataDir>/review-secret`. */
export function loadReviewSecret(env: Record<string, string | undefined>, dataDir: string): ReviewSecret {
  return new ReviewSecret(env.REVIEW_SECRET || embeddedSecret(dataDir, 'review-secret'));
}
