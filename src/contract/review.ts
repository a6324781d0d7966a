/**
 * The review stage's contract (docs/guides/writing-flows.md, "Review stages"): the decision
 * update a reviewer's decision arrives as, the query the operator route reads a case with, and
 * what a decision's proof covers. Workflow-safe (no Node built-ins): the workflow, the worker's
 * activities and the codec server's operator route all import it. Names are persisted in
 * histories: they change only with a migration the replay gate proves.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { canonicalJson } from '../util/json';

export const REVIEW_DECISIONS = ['approve', 'reject'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

/** The flow event each decision sends: a review stage routes on each by its own transition. */
export const REVIEW_EVENTS: Record<ReviewDecision, 'APPROVED' | 'REJECTED'> = { approve: 'APPROVED', reject: 'REJECTED' };

export interface ReviewDecisionArgs {
  /** The review stage and its entry the reviewer saw: a decision for an earlier visit is refused. */
  stage: string;
  entry: number;
  decision: ReviewDecision;
  /** A rejection's reason code, one of the stage's `reasons`; absent on an approval. */
  reason?: string;
  /** The operator deciding, as the codec server authenticated them (src/operators). */
  operator: string;
  /** ReviewSecret.proof over everything above and the workflow id: checked by the worker. */
  proof: string;
}

/** The decision a review stage took, as the session keeps it (SessionState.review.decided). */
export interface ReviewDecided {
  decision: ReviewDecision;
  reason: string | null;
  operator: string;
  /** Unix ms. */
  decidedAt: number;
}

/** A session's current review, as the operator route shows it. */
export interface ReviewView {
  /** Null when the session is not waiting in a review stage. */
  stage: string | null;
  entry: number;
  status: string;
  /** When the review became due (Unix ms), null without an SLA. */
  dueAt: number | null;
  overdue: boolean;
  reasons: string[];
  /** The values the flow's `show` paths name, by path: what the case needs, decoded by the codec server's caller. */
  shown: Record<string, unknown>;
  decided: ReviewDecided | null;
}

export interface ReviewAnswer extends ReviewDecided {
  stage: string;
  /** Where the flow went: the next stage, or null once the session ended. */
  next: string | null;
  status: string;
}

/** Refusal types of a decision (besides the session's own REFUSALS and INBOUND_REFUSED). */
export const REVIEW_REFUSALS = {
  /** Another decision was taken first: exactly one decision per review. */
  ALREADY_DECIDED: 'SessionReviewDecided',
} as const;

export const decideReviewUpdate = defineUpdate<ReviewAnswer, [ReviewDecisionArgs]>('decideReview');
export const reviewQuery = defineQuery<ReviewView>('review');

/** The search attribute values of a session's review (SessionReviewKey). */
export type ReviewSearchValue = 'pending' | 'overdue';

/** What a decision's proof covers, as one string: the session, the visit, the decision and the operator. */
export function reviewProofContent(workflowId: string, args: Pick<ReviewDecisionArgs, 'stage' | 'entry' | 'decision' | 'reason' | 'operator'>): string {
  return `${workflowId}\u0000${canonicalJson({ stage: args.stage, entry: args.entry, decision: args.decision, reason: args.reason ?? null, operator: args.operator })}`;
}
