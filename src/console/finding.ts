/**
 * Find and Sessions. Find takes what a tenant or a user gives support: a session id (`DS…`),
 * whose workflow id the console computes (`session-<ref>`, a plain SHA-256: no secret, so the
 * codec server needs no SESSION_SECRET), a session number or a tag (search attributes). One
 * match lands on the session; several are listed. Sessions lists by filters, stuck included.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { sessionWorkflowId } from '../session-secret';
import { consolePath } from './html';
import { byNumberQuery, byTagQuery, readFilters, sessionsQuery } from './queries';
import { pageConfig, sendPage, type ConsoleContext } from './context';
import { findBody, sessionPath, sessionsBody } from './session-pages';
import { describeSession, listSessions, type SessionRow } from './sessions-data';
import { CONSOLE_STRINGS as S } from './strings';

const SESSION_ID = /^DS[0-9A-Za-z]{20}$/;
const WORKFLOW_ID = /^session-[0-9a-f]{32}$/;
const NUMBER = /^\d{4}-\d{6}-\d{4}$/;
const MAX_QUERY = 200;
/** A number or tag matching more than this many sessions lists these first ones. */
const FIND_LIMIT = 50;
const LIST_LIMIT = 100;

/** The sessions `q` names: by id (one workflow), by number, else by tag. */
export async function findSessions(client: Client, q: string): Promise<SessionRow[]> {
  const workflowId = SESSION_ID.test(q) ? sessionWorkflowId(q) : WORKFLOW_ID.test(q) ? q : null;
  if (workflowId) {
    try {
      return [await describeSession(client, workflowId)];
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
  }
  const query = NUMBER.test(q) ? byNumberQuery(q) : byTagQuery(q);
  return (await listSessions(client, query, FIND_LIMIT)).rows;
}

export function serveFinding(app: FastifyInstance, { options, operator }: ConsoleContext): void {
  app.get<{ Querystring: { q?: string } }>(consolePath('/find'), { config: pageConfig() }, async (request, reply) => {
    const page = (body: Parameters<typeof findBody>, status = 200) => sendPage(reply, status, { title: S.findTitle, operator: operator(request), current: 'find', body: findBody(...body) });
    const asked = request.query.q;
    if (asked === undefined) return page(['', null, []]);
    const q = asked.trim().slice(0, MAX_QUERY);
    if (q === '') return page(['', S.findEmpty, []], 400);
    const matches = await findSessions(await options.client(), q);
    if (matches.length === 1) return reply.redirect(sessionPath(matches[0].workflowId), 303);
    return page([q, matches.length === 0 ? S.findNone(q) : null, matches], matches.length === 0 ? 404 : 200);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(consolePath('/sessions'), { config: pageConfig() }, async (request, reply) => {
    const now = Date.now();
    const { filters, problems } = readFilters(request.query);
    const result = problems.length ? null : await listSessions(await options.client(), sessionsQuery(filters, now), LIST_LIMIT);
    return sendPage(reply, problems.length ? 400 : 200, { title: S.sessionsTitle, operator: operator(request), current: 'sessions', body: sessionsBody(filters, problems, result, now) });
  });
}
