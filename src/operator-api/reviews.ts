/**
 * The reviewers' routes on the codec server's port (docs/security/operators-and-codec.md,
 * "Review decisions"), behind its operator authentication:
 *
 * - `GET /reviews/:workflowId` (permission `decode`): the case, what the flow's `show` paths name;
 * - `POST /reviews/:workflowId/decision` (permission `review`): `{ decisionId, decision, reason? }`.
 *   The decision goes to the session as the decideReview update, with the update id
 *   `review-<decisionId>` (a retry with the same decisionId gets the first answer, even once
 *   the flow moved on, within the session's current run), the
 *   operator's name, and a proof made with REVIEW_SECRET that the worker checks.
 *
 * Refusals answer `{ code, message }`: 404 `review_not_found`, 409 `review_already_decided`,
 * 409 `review_not_waiting`, 400 `review_invalid`, 503 `reviews_unavailable` when the codec server
 * cannot reach Temporal; a viewer gets 403 `operator_role_refused` from the codec server's guard. Messages never hold personal data.
 * Each view and decision is audited (`review.view`, `review.decision`), fail closed.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decideReviewUpdate, REVIEW_REFUSALS, reviewQuery, type ReviewAnswer, type ReviewDecision, type ReviewView } from '../contract/review';
import { REFUSALS } from '../contract/session';
import type { OperatorRouteContext } from '../keys/codec-server';
import type { ReviewSecret } from '../review-secret';

/** The codec server's operator and audit context, and what reviews add to it. */
export interface ReviewRoutesOptions extends OperatorRouteContext {
  /** The codec server's Temporal client, connected on first use: decoding never waits for Temporal. */
  client(): Promise<Client>;
  reviewSecret: ReviewSecret;
}

const SESSION_WORKFLOW_ID = /^session-([0-9a-f]{32})$/;
const workflowParams = { type: 'object', required: ['workflowId'], properties: { workflowId: { type: 'string' } } } as const;

/** A refusal of the request (no such review, not waiting, already decided), not a failure (Temporal out of reach is one). */
const refused = (err: unknown) => err instanceof ReviewRefusal && err.status < 500;

/** A refusal inside an audited action: the route answers it after the outcome record. */
export class ReviewRefusal extends Error {
  constructor(readonly status: number, readonly body: { code: string; message: string }) {
    super(body.message);
  }
}

const NOT_FOUND = new ReviewRefusal(404, { code: 'review_not_found', message: 'no such session' });
export const DECISION_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** A rejection's reason code (one of the stage's `reasons`, which the session checks). */
export const REASON = /^[a-z][a-z0-9_]{0,63}$/;

const decisionBody = {
  type: 'object',
  required: ['decisionId', 'decision'],
  additionalProperties: false,
  properties: {
    decisionId: { type: 'string', pattern: DECISION_ID.source },
    decision: { type: 'string', enum: ['approve', 'reject'] },
    reason: { type: 'string', pattern: REASON.source },
  },
} as const;

export interface DecisionBody {
  decisionId: string;
  decision: ReviewDecision;
  reason?: string;
}

/** The refusal's type, when Temporal carried the workflow's ApplicationFailure back. */
function refusalType(err: unknown): string | null {
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? null) : null;
}

const UNAVAILABLE = { code: 'reviews_unavailable', message: 'the codec server cannot reach Temporal' };

/** The client, or null when Temporal cannot be reached (the route answers 503). */
async function temporalOf(client: () => Promise<Client>): Promise<Client | null> {
  try {
    return await client();
  } catch {
    return null;
  }
}

/**
 * A review's view and decision, each audited under the session's reference (the workflow id's
 * hash): an intent before Temporal is asked, its outcome after; no record, no answer (the codec
 * server's 503). The one path for both the JSON routes below and the console's pages
 * (src/console): a refusal is thrown as a ReviewRefusal, whose `status` and `body` are the answer.
 */
export class ReviewDesk {
  constructor(private readonly options: ReviewRoutesOptions) {}

  private async temporal(): Promise<Client> {
    const client = await temporalOf(this.options.client);
    if (!client) throw new ReviewRefusal(503, UNAVAILABLE);
    return client;
  }

  /** The case the session's review waits on (its `shown` values decoded: `review.view`). */
  async view(request: FastifyRequest, workflowId: string): Promise<ReviewView> {
    const ref = SESSION_WORKFLOW_ID.exec(workflowId)?.[1];
    if (!ref) throw NOT_FOUND;
    return this.options.audit.audited(this.options.entry(request, 'review.view', [ref]), async () => {
      const client = await this.temporal();
      try {
        return await client.workflow.getHandle(workflowId).query(reviewQuery);
      } catch (err) {
        throw err instanceof WorkflowNotFoundError ? NOT_FOUND : err;
      }
    }, { refused });
  }

  /** The authenticated operator's decision, sent to the session with its proof (`review.decision`). */
  async decide(request: FastifyRequest, workflowId: string, body: DecisionBody): Promise<ReviewAnswer> {
    const ref = SESSION_WORKFLOW_ID.exec(workflowId)?.[1];
    if (!ref) throw NOT_FOUND;
    const { decision, reason, decisionId } = body;
    const detail = { decision, ...(reason === undefined ? {} : { reason }) };
    return this.options.audit.audited({ ...this.options.entry(request, 'review.decision', [ref]), detail }, async () => {
      const client = await this.temporal();
      return decide(client, workflowId, { decision, reason, decisionId }, this.options.operatorOf(request)!.name, this.options.reviewSecret);
    }, { refused });
  }
}

export function serveReviews(app: FastifyInstance, options: ReviewRoutesOptions, desk = new ReviewDesk(options)): void {
  const answer = async <T>(reply: FastifyReply, work: () => Promise<T>) => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ReviewRefusal) return reply.code(err.status).send(err.body);
      throw err;
    }
  };

  app.get<{ Params: { workflowId: string } }>(
    '/reviews/:workflowId',
    { schema: { summary: "A review's case: what its flow shows the reviewer, decoded", params: workflowParams }, config: { permission: 'decode' } },
    async (request, reply) => answer(reply, () => desk.view(request, request.params.workflowId)),
  );

  app.post<{ Params: { workflowId: string }; Body: DecisionBody }>(
    '/reviews/:workflowId/decision',
    { schema: { summary: 'Decide a review: approve, or reject with a reason code from the flow', params: workflowParams, body: decisionBody }, config: { permission: 'review' } },
    async (request, reply) => answer(reply, () => desk.decide(request, request.params.workflowId, request.body)),
  );
}

/** The decision as the decideReview update, with its proof; a retry of one the session has gets its first answer. */
async function decide(client: Client, workflowId: string, body: DecisionBody, operator: string, reviewSecret: ReviewSecret): Promise<ReviewAnswer> {
  const handle = client.workflow.getHandle(workflowId);
  const updateId = `review-${body.decisionId}`;
  try {
    // A retry of a decision the session already has gets its first answer, though the flow moved on since.
    const earlier = await earlierAnswer(client, workflowId, updateId);
    if (earlier !== null) return earlier;
    const view = await handle.query(reviewQuery);
    if (view.stage === null) throw new ReviewRefusal(409, { code: 'review_not_waiting', message: `the session is ${view.status} and waits for no review` });
    const args = { stage: view.stage, entry: view.entry, decision: body.decision, ...(body.reason === undefined ? {} : { reason: body.reason }), operator };
    return await handle.executeUpdate(decideReviewUpdate, { args: [{ ...args, proof: reviewSecret.proof(workflowId, args) }], updateId });
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) throw new ReviewRefusal(refusal.status, refusal.body);
    throw err;
  }
}

/** The answer of the decision `updateId` when the session has it already (null when it has not). */
async function earlierAnswer(client: Client, workflowId: string, updateId: string): Promise<ReviewAnswer | null> {
  try {
    return await client.workflow.getHandle(workflowId).getUpdateHandle<ReviewAnswer>(updateId).result();
  } catch (err) {
    // NOT_FOUND: no such update in the session's current run (or no such session, which the query then says).
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** The route's answer to a refused decision, or null for an error that is not one. */
function refusalOf(err: unknown): { status: number; body: { code: string; message: string } } | null {
  if (err instanceof WorkflowNotFoundError) return { status: 404, body: { code: 'review_not_found', message: 'no such session' } };
  const type = refusalType(err);
  if (type === REVIEW_REFUSALS.ALREADY_DECIDED) return { status: 409, body: { code: 'review_already_decided', message: 'another decision on this review came first' } };
  if (type === REFUSALS.WRONG_STEP || type === REFUSALS.WRONG_STATUS) return { status: 409, body: { code: 'review_not_waiting', message: 'the session no longer waits for this review' } };
  if (type === REFUSALS.INVALID_INPUT || type === REFUSALS.BUSY) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
    return { status: 400, body: { code: 'review_invalid', message: cause?.message ?? 'the decision was refused' } };
  }
  return null;
}
