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
 * cannot reach Temporal; a viewer gets 403 `operator_forbidden` from the codec server's guard. Messages never hold personal data.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decideReviewUpdate, REVIEW_REFUSALS, reviewQuery, type ReviewAnswer, type ReviewDecision } from '../contract/review';
import { REFUSALS } from '../contract/session';
import type { Operator } from '../operators/registry';
import type { ReviewSecret } from '../review-secret';

export interface ReviewRoutesOptions {
  /** The codec server's Temporal client, connected on first use: decoding never waits for Temporal. */
  client(): Promise<Client>;
  reviewSecret: ReviewSecret;
  /** The operator the codec server authenticated for the request. */
  operatorOf(request: FastifyRequest): Operator | null;
}

const SESSION_WORKFLOW_ID = /^session-[0-9a-f]{32}$/;
const DECISION_ID = /^[A-Za-z0-9_-]{8,64}$/;

const decisionBody = {
  type: 'object',
  required: ['decisionId', 'decision'],
  additionalProperties: false,
  properties: {
    decisionId: { type: 'string', pattern: DECISION_ID.source },
    decision: { type: 'string', enum: ['approve', 'reject'] },
    reason: { type: 'string', maxLength: 64 },
  },
} as const;

interface DecisionBody {
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

export function serveReviews(app: FastifyInstance, { client: connect, reviewSecret, operatorOf }: ReviewRoutesOptions): void {

  app.get<{ Params: { workflowId: string } }>('/reviews/:workflowId', { config: { permission: 'decode' } }, async (request, reply) => {
    const { workflowId } = request.params;
    if (!SESSION_WORKFLOW_ID.test(workflowId)) return reply.code(404).send({ code: 'review_not_found', message: 'no such session' });
    const client = await temporalOf(connect);
    if (!client) return reply.code(503).send(UNAVAILABLE);
    try {
      return await client.workflow.getHandle(workflowId).query(reviewQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return reply.code(404).send({ code: 'review_not_found', message: 'no such session' });
      throw err;
    }
  });

  app.post<{ Params: { workflowId: string }; Body: DecisionBody }>(
    '/reviews/:workflowId/decision',
    { schema: { body: decisionBody }, config: { permission: 'review' } },
    async (request, reply) => {
      const { workflowId } = request.params;
      const operator = operatorOf(request)!;
      if (!SESSION_WORKFLOW_ID.test(workflowId)) return reply.code(404).send({ code: 'review_not_found', message: 'no such session' });
      const client = await temporalOf(connect);
      if (!client) return reply.code(503).send(UNAVAILABLE);
      const handle = client.workflow.getHandle(workflowId);
      const { decision, reason, decisionId } = request.body;
      const updateId = `review-${decisionId}`;
      try {
        // A retry of a decision the session already has gets its first answer, though the flow moved on since.
        const earlier = await earlierAnswer(client, workflowId, updateId);
        if (earlier !== null) return earlier;
        const view = await handle.query(reviewQuery);
        if (view.stage === null) return reply.code(409).send({ code: 'review_not_waiting', message: `the session is ${view.status} and waits for no review` });
        const args = { stage: view.stage, entry: view.entry, decision, ...(reason === undefined ? {} : { reason }), operator: operator.name };
        return await handle.executeUpdate(decideReviewUpdate, { args: [{ ...args, proof: reviewSecret.proof(workflowId, args) }], updateId });
      } catch (err) {
        const refusal = refusalOf(err);
        if (refusal) return reply.code(refusal.status).send(refusal.body);
        throw err;
      }
    },
  );
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
