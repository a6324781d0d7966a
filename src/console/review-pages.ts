/**
 * The review queue and a review's case: sessions waiting in review, oldest first (by when they
 * entered the review stage), with their SLA state; the decision forms post to the console,
 * which decides through the operator API's own ReviewDesk (src/operator-api/reviews.ts).
 */
import { randomUUID } from 'node:crypto';
import type { ReviewView } from '../contract/review';
import { CSRF_FIELD } from './csrf';
import { consolePath, formatDuration, formatTime, hidden, html, raw, scrollingTable, type Html } from './html';
import type { SessionRow } from './sessions-data';
import { sessionPath } from './session-pages';
import { CONSOLE_STRINGS as S } from './strings';

export const reviewPath = (workflowId: string): string => consolePath(`/reviews/${workflowId}`);

/** Oldest in review first; a session with no entry time (none expected) last. */
export function queueOrder(rows: SessionRow[]): SessionRow[] {
  const at = (row: SessionRow) => row.stageSince?.getTime() ?? Number.POSITIVE_INFINITY;
  return [...rows].sort((a, b) => at(a) - at(b) || a.workflowId.localeCompare(b.workflowId));
}

/** A decision form: its decisionId is fresh per page, so a form sent twice is one decision. */
function decisionForm(row: { workflowId: string; number: string }, csrf: string, decision: 'approve' | 'reject', reason?: Html): Html {
  return html`<form class="inline" method="post" action="${reviewPath(row.workflowId)}/decision">${hidden(CSRF_FIELD, csrf)}${hidden('decisionId', `console-${randomUUID()}`)}${hidden('decision', decision)}${hidden('number', row.number)}${reason ?? raw('')}<button${raw(decision === 'reject' ? ' class="reject"' : '')}>${decision === 'approve' ? S.approve : S.reject}</button></form>`;
}

export interface QueueData {
  rows: SessionRow[];
  mayDecide: boolean;
  role: string;
  csrf: string;
  notice: string | null;
  now: number;
}

export function queueBody({ rows, mayDecide, role, csrf, notice, now }: QueueData): Html {
  const c = S.reviewsColumns;
  const table = scrollingTable(
    S.reviewsTitle,
    [c.waiting, c.number, c.tenant, c.flow, c.stage, c.sla, c.decide],
    queueOrder(rows).map((row) => {
      const number = row.number ?? row.workflowId;
      const label = html`<a href="${reviewPath(row.workflowId)}">${S.openCase}<span class="visually-hidden"> ${number}</span></a>`;
      const actions = mayDecide ? html`${decisionForm({ workflowId: row.workflowId, number }, csrf, 'approve')} ${label}` : label;
      return html`<tr><td>${formatTime(row.stageSince)} (${formatDuration(row.stageSince ? now - row.stageSince.getTime() : null)})</td><td><a href="${sessionPath(row.workflowId)}">${number}</a></td><td>${row.tenant ?? S.none}</td><td>${row.flow ?? S.none}</td><td>${row.stage ?? S.none}</td><td>${S.sla[row.review ?? ''] ?? S.none}</td><td>${actions}</td></tr>`;
    }),
  );
  return html`${notice ? html`<p class="notice" role="status">${notice}</p>` : raw('')}<p>${S.reviewsIntro}</p>${mayDecide ? raw('') : html`<p>${S.reviewerOnly(role)}</p>`}${rows.length ? table : html`<p>${S.reviewsNone}</p>`}`;
}

export interface CaseData {
  workflowId: string;
  number: string;
  view: ReviewView;
  mayDecide: boolean;
  csrf: string;
}

export function caseBody({ workflowId, number, view, mayDecide, csrf }: CaseData): Html {
  const shown = Object.entries(view.shown ?? {}).map(([path, value]) => html`<dt>${path}</dt><dd><pre>${JSON.stringify(value, null, 2) ?? ''}</pre></dd>`);
  const reasons = view.reasons.map(
    (reason, i) => html`<div class="check"><input type="radio" id="reason-${i}" name="reason" value="${reason}"${raw(i === 0 ? ' checked' : '')}> <label for="reason-${i}">${reason}</label></div>`,
  );
  const row = { workflowId, number };
  const decide = mayDecide && view.stage !== null && view.decided === null
    ? html`${decisionForm(row, csrf, 'approve')}<h2>${S.reject}</h2>${decisionForm(row, csrf, 'reject', html`<fieldset><legend>${S.reason}</legend>${reasons}</fieldset>`)}`
    : raw('');
  return html`<p>${S.caseIntro}</p><dl class="facts"><dt>${S.facts.stage}</dt><dd>${view.stage ?? S.none}</dd><dt>${S.caseDue}</dt><dd>${view.dueAt === null ? S.caseNoDue : `${formatTime(view.dueAt)}${view.overdue ? ` (${S.sla.overdue})` : ''}`}</dd></dl><h2>${S.caseShown}</h2><dl class="facts">${shown}</dl>${decide}<p><a href="${consolePath('/reviews')}">${S.back}</a></p>`;
}
