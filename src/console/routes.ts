/**
 * The operator console (docs/guides/console.md): server-rendered pages under /console on the
 * codec server's port, mounted through its `routes` option (src/codec-server.ts), so each page
 * is behind the same Host check, operator identity and audit trail as the operator API. A page
 * asked for without a signed-in operator redirects to the console's sign-in, which posts to
 * the codec server's POST /auth; a refused role gets a 403 page naming `operator_role_refused`.
 *
 * Pages: Find, Session (with its audited decode), Sessions, Funnel, Review queue and case.
 * Forms are POSTs checked by ./csrf.ts. Every decoded view is audited before it is read:
 * `codec.decode` (the session's stage data) and `review.view` (a case, through the operator
 * API's ReviewDesk, as are decisions: `review.decision`).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REVIEW_DECISIONS, type ReviewDecision } from '../contract/review';
import { DECISION_ID, REASON, ReviewRefusal } from '../operator-api/reviews';
import { may } from '../operators/roles';
import { CSRF_FIELD, formAccepted, formToken } from './csrf';
import { CONSOLE_HEADERS, CONSOLE_PREFIX, CONSOLE_STYLES, consolePath } from './html';
import { CONSOLE_ERRORS, nextPage, problemBody, signInBody } from './notice-pages';
import { reviewQueueQuery } from './queries';
import { caseBody, queueBody } from './review-pages';
import { decodeStageData, describeSession, listSessions, timelineOf } from './sessions-data';
import { serveFinding } from './finding';
import { formRefused, pageConfig, sendPage, type ConsoleContext, type ConsoleOptions } from './context';
import { serveFunnel } from './funnel-route';
import { sessionBody } from './session-pages';
import { CONSOLE_STRINGS as S } from './strings';
import { CONSOLE_CSS } from './style';

const SESSION_WORKFLOW_ID = /^session-[0-9a-f]{32}$/;
const NUMBER = /^\d{4}-\d{6}-\d{4}$/;
/** Most sessions the queue shows: older ones wait behind them. */
const QUEUE_LIMIT = 500;

export function serveConsole(app: FastifyInstance, options: ConsoleOptions): void {
  void app.register(async (pages) => {
    pages.setErrorHandler((error, request, reply) => {
      request.log.warn({ err: { name: (error as Error).name } }, 'console page failed');
      const operator = options.operatorOf(request) ?? undefined;
      const code = error instanceof ReviewRefusal ? error.body.code : CONSOLE_ERRORS.unavailable;
      // Anything else is Temporal, the audit trail or the key store out of reach: nothing was shown or changed.
      const status = error instanceof ReviewRefusal ? error.status : 503;
      return sendPage(reply, status, { title: S.failedTitle, operator, body: problemBody(error instanceof ReviewRefusal ? (S.reviewRefusals[code] ?? error.body.message) : S.unavailableText, code) });
    });
    const context: ConsoleContext = {
      options,
      operator: (request) => options.operatorOf(request)!,
      temporalLink: (workflowId) => (options.temporalUiUrl ? `${options.temporalUiUrl}/namespaces/${encodeURIComponent(options.namespace)}/workflows/${encodeURIComponent(workflowId)}` : null),
    };
    pages.get(CONSOLE_STYLES, { config: { public: true } }, async (_request, reply) => reply.headers(CONSOLE_HEADERS).header('cache-control', 'max-age=300').type('text/css; charset=utf-8').send(CONSOLE_CSS));
    pages.get(CONSOLE_PREFIX, { config: pageConfig() }, async (_request, reply) => reply.redirect(consolePath('/find'), 303));
    pages.get<{ Querystring: { next?: string; problem?: string } }>(consolePath('/sign-in'), { config: { public: true } }, async (request, reply) =>
      sendPage(reply, 200, { title: S.signInTitle, body: signInBody(nextPage(request.query.next), request.query.problem) }),
    );
    serveFinding(pages, context);
    serveSession(pages, context);
    serveFunnel(pages, context);
    serveReviewQueue(pages, context);
  });
}

/** The session page, and its decode (POST, audited as codec.decode under the session's reference). */
function serveSession(app: FastifyInstance, { options, operator, temporalLink }: ConsoleContext): void {
  const render = async (request: FastifyRequest<{ Params: { workflowId: string } }>, reply: FastifyReply, decode: boolean) => {
    const { workflowId } = request.params;
    const notFound = () => sendPage(reply, 404, { title: S.sessionNotFound, operator: operator(request), current: 'find', body: problemBody(S.sessionNotFoundText, CONSOLE_ERRORS.notFound) });
    if (!SESSION_WORKFLOW_ID.test(workflowId)) return notFound();
    const client = await options.client();
    const handle = client.workflow.getHandle(workflowId);
    let row;
    try {
      row = await describeSession(client, workflowId);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return notFound();
      throw err;
    }
    const timeline = timelineOf((await handle.fetchHistory()).events ?? []);
    const ended = !['created', 'in_progress'].includes(row.status ?? '');
    const ref = workflowId.slice('session-'.length);
    const decoded = decode
      ? await options.audit.audited({ ...options.entry(request, 'codec.decode', [ref]), detail: { via: 'console' } }, () => decodeStageData(client, workflowId, ended), {
          detail: (data) => ({ via: 'console', stages: data.stages.length }),
        })
      : undefined;
    const body = sessionBody({ row, timeline, temporalUiUrl: temporalLink(workflowId), csrf: formToken(request, reply), decoded, now: Date.now() });
    return sendPage(reply, 200, { title: S.sessionTitle(row.number ?? workflowId), operator: operator(request), current: 'find', body });
  };
  app.get<{ Params: { workflowId: string } }>(consolePath('/sessions/:workflowId'), { config: pageConfig() }, (request, reply) => render(request, reply, false));
  app.post<{ Params: { workflowId: string }; Body: Record<string, string> }>(consolePath('/sessions/:workflowId/decode'), { config: pageConfig('decode') }, async (request, reply) => {
    if (!formAccepted(request, request.body?.[CSRF_FIELD])) return formRefused(request, reply, operator(request));
    return render(request, reply, true);
  });
}

/** The review queue, a case (review.view) and decisions (review.decision), through the ReviewDesk. */
function serveReviewQueue(app: FastifyInstance, { options, operator }: ConsoleContext): void {
  app.get<{ Querystring: { done?: string; number?: string } }>(consolePath('/reviews'), { config: pageConfig() }, async (request, reply) => {
    const who = operator(request);
    const { done, number } = request.query;
    const notice = done && (REVIEW_DECISIONS as readonly string[]).includes(done) && number && NUMBER.test(number) ? S.decided(done, number) : null;
    const { rows } = await listSessions(await options.client(), reviewQueueQuery(), QUEUE_LIMIT);
    const body = queueBody({ rows, mayDecide: may(who.role, 'review'), role: who.role, csrf: formToken(request, reply), notice, now: Date.now() });
    return sendPage(reply, 200, { title: S.reviewsTitle, operator: who, current: 'reviews', body });
  });

  app.get<{ Params: { workflowId: string } }>(consolePath('/reviews/:workflowId'), { config: pageConfig('decode') }, async (request, reply) => {
    const who = operator(request);
    const { workflowId } = request.params;
    const view = await options.reviews.view(request, workflowId);
    const number = (await describeSession(await options.client(), workflowId)).number ?? workflowId;
    const body = caseBody({ workflowId, number, view, mayDecide: may(who.role, 'review'), csrf: formToken(request, reply) });
    return sendPage(reply, 200, { title: S.caseTitle(number), operator: who, current: 'reviews', body });
  });

  app.post<{ Params: { workflowId: string }; Body: Record<string, string | undefined> }>(consolePath('/reviews/:workflowId/decision'), { config: pageConfig('review') }, async (request, reply) => {
    const who = operator(request);
    const body = request.body ?? {};
    if (!formAccepted(request, body[CSRF_FIELD])) return formRefused(request, reply, who);
    const { decisionId, decision, reason, number } = body;
    if (!decisionId || !DECISION_ID.test(decisionId) || !(REVIEW_DECISIONS as readonly string[]).includes(decision ?? '') || (decision === 'approve' ? reason !== undefined : !REASON.test(reason ?? ''))) {
      throw new ReviewRefusal(400, { code: 'review_invalid', message: S.decisionIncomplete });
    }
    await options.reviews.decide(request, request.params.workflowId, { decisionId, decision: decision as ReviewDecision, ...(reason === undefined ? {} : { reason }) });
    const shown = number && NUMBER.test(number) ? number : '';
    return reply.redirect(`${consolePath('/reviews')}?${new URLSearchParams({ done: decision!, number: shown })}`, 303);
  });
}
