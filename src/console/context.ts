/** What every console page shares: its options, how it answers, and the guard's page answers. */
import type { Client } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FunnelSource } from '../funnel/report';
import type { OperatorRouteConfig, OperatorRouteContext } from '../keys/codec-server';
import { OPERATOR_ERRORS } from '../keys/codec-sign-in';
import type { ReviewDesk } from '../operator-api/reviews';
import type { Operator } from '../operators/registry';
import { CONSOLE_HEADERS, consolePath, renderPage, type Html, type NavKey } from './html';
import { CONSOLE_ERRORS, nextPage, problemBody } from './notice-pages';
import { CONSOLE_STRINGS as S } from './strings';

export interface ConsoleOptions extends OperatorRouteContext {
  /** The codec server's Temporal client, with the data converter that decodes with sessions' keys. */
  client(): Promise<Client>;
  /** The operator API's review decisions and cases (the same audited path as its JSON routes). */
  reviews: ReviewDesk;
  /** Where the Funnel page reads funnels; absent, the page says none is configured. */
  funnel?: FunnelSource;
  /** The Temporal UI's base URL (CODEC_UI_ORIGIN), for links to workflows; null: no links. */
  temporalUiUrl: string | null;
  namespace: string;
}

/** What a console page answers with: the page, the hosted page's headers. */
export function sendPage(reply: FastifyReply, status: number, page: { title: string; body: Html; operator?: Operator; current?: NavKey }): FastifyReply {
  return reply.code(status).headers(CONSOLE_HEADERS).type('text/html; charset=utf-8').send(renderPage(page));
}

/** The codec server's guard answers for pages: sign in first, and a refusal as a page. */
export const PAGE_GUARD: NonNullable<OperatorRouteConfig['page']> = {
  signIn: (request, reply) => {
    const next = request.method === 'GET' ? nextPage(request.url) : nextPage(undefined);
    return reply.redirect(`${consolePath('/sign-in')}?${new URLSearchParams({ next })}`, 303);
  },
  refused: (_request, reply, operator, permission) =>
    sendPage(reply, 403, { title: S.refusedTitle, operator, body: problemBody(S.refusedText(operator.name, operator.role, permission), OPERATOR_ERRORS.roleRefused, { href: consolePath('/reviews'), label: S.back }) }),
};

/** Route config for a console page wanting `permission` (none: any signed-in operator). */
export const pageConfig = (permission?: OperatorRouteConfig['permission']): OperatorRouteConfig => ({ ...(permission ? { permission } : {}), page: PAGE_GUARD });

export interface ConsoleContext {
  options: ConsoleOptions;
  operator(request: FastifyRequest): Operator;
  temporalLink(workflowId: string): string | null;
}

export function formRefused(_request: FastifyRequest, reply: FastifyReply, operator: Operator): FastifyReply {
  return sendPage(reply, 403, { title: S.csrfTitle, operator, body: problemBody(S.csrfText, CONSOLE_ERRORS.formRefused) });
}

