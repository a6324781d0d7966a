/** The bodies of the Find, Session and Sessions pages: pure functions of what was read. */
import type { SessionFilters } from './queries';
import { AGES } from './queries';
import type { SessionRow, StageData, TimelineEntry } from './sessions-data';
import { consolePath, formatDuration, formatTime, hidden, html, raw, scrollingTable, type Html } from './html';
import { CONSOLE_STRINGS as S } from './strings';
import { SESSION_STATUSES } from '../contract/session';
import { CSRF_FIELD } from './csrf';
import { OUTCOMES } from '../flows/core/types';

export const sessionPath = (workflowId: string): string => consolePath(`/sessions/${workflowId}`);

const orNone = (value: string | null | undefined): string => value ?? S.none;

export function findBody(q: string, problem: string | null, matches: SessionRow[]): Html {
  const problemBlock = problem ? html`<div class="problem" role="alert"><h2>${S.problemTitle}</h2><p><a href="#q">${problem}</a></p></div>` : raw('');
  const list = matches.length > 1 ? html`<p>${S.findSeveral(matches.length, q)}</p>${sessionsTable(S.nav.sessions, matches, Date.now())}` : raw('');
  return html`${problemBlock}<form method="get" action="${consolePath('/find')}"><label for="q">${S.findLabel}</label><p class="hint" id="q-hint">${S.findHint}</p><input type="text" id="q" name="q" value="${q}" aria-describedby="q-hint" autocomplete="off" spellcheck="false"><button>${S.findButton}</button></form>${list}`;
}

export function sessionsTable(label: string, rows: SessionRow[], now: number): Html {
  const c = S.sessionsColumns;
  return scrollingTable(
    label,
    [c.number, c.tenant, c.flow, c.version, c.status, c.outcome, c.stage, c.inStage, c.started],
    rows.map(
      (row) =>
        html`<tr><td><a href="${sessionPath(row.workflowId)}">${row.number ?? row.workflowId}</a></td><td>${orNone(row.tenant)}</td><td>${orNone(row.flow)}</td><td>${orNone(row.version)}</td><td>${orNone(row.status)}</td><td>${orNone(row.outcome)}</td><td>${orNone(row.stage)}</td><td>${row.stageSince ? formatDuration(now - row.stageSince.getTime()) : S.none}</td><td>${formatTime(row.started)}</td></tr>`,
    ),
  );
}

export interface SessionPageData {
  row: SessionRow;
  timeline: TimelineEntry[];
  temporalUiUrl: string | null;
  csrf: string;
  decoded?: StageData;
  now: number;
}

export function sessionBody({ row, timeline, temporalUiUrl, csrf, decoded, now }: SessionPageData): Html {
  const f = S.facts;
  const fact = (name: string, value: string | Html) => html`<dt>${name}</dt><dd>${value}</dd>`;
  const facts = html`<dl class="facts">${[
    fact(f.status, orNone(row.status)),
    fact(f.outcome, orNone(row.outcome)),
    fact(f.stage, orNone(row.stage)),
    fact(f.timeInStage, row.stageSince ? formatDuration(now - row.stageSince.getTime()) : S.none),
    fact(f.review, row.review ? (S.sla[row.review] ?? row.review) : S.none),
    fact(f.tenant, orNone(row.tenant)),
    fact(f.flow, orNone(row.flow)),
    fact(f.version, row.version ?? S.versionMissing),
    fact(f.tag, orNone(row.tag)),
    fact(f.started, formatTime(row.started)),
    fact(f.workflowId, row.workflowId),
  ]}</dl>`;
  const t = S.timelineColumns;
  const timelineBlock = timeline.length
    ? scrollingTable(S.timelineTitle, [t.at, t.stage, t.status, t.outcome], timeline.map((e) => html`<tr><td>${formatTime(e.at)}</td><td>${orNone(e.stage)}</td><td>${orNone(e.status)}</td><td>${orNone(e.outcome)}</td></tr>`))
    : html`<p>${S.timelineEmpty}</p>`;
  const temporal = temporalUiUrl ? html`<p><a href="${temporalUiUrl}">${S.openInTemporal}</a></p>` : raw('');
  const review = row.review ? html`<p><a href="${consolePath(`/reviews/${row.workflowId}`)}">${S.openCase}</a></p>` : raw('');
  return html`${facts}${temporal}${review}<h2>${S.timelineTitle}</h2><p>${S.timelineIntro}</p>${timelineBlock}<h2>${S.decodeTitle}</h2>${decoded ? decodedBlock(decoded) : html`<p>${S.decodeIntro}</p><form method="post" action="${sessionPath(row.workflowId)}/decode">${hidden(CSRF_FIELD, csrf)}<button class="secondary">${S.decodeButton}</button></form>`}`;
}

const json = (value: unknown): Html => html`<pre>${JSON.stringify(value, null, 2) ?? ''}</pre>`;

function decodedBlock(data: StageData): Html {
  if (data.stages.length === 0) return html`<p>${S.decodedEmpty}</p>`;
  const c = S.decodeColumns;
  const headings = data.ended ? [c.stage, c.input, c.output] : [c.stage, c.input];
  const rows = data.stages.map((s) => html`<tr><td>${s.stage}</td><td>${json(s.input)}</td>${data.ended ? html`<td>${json(s.output)}</td>` : raw('')}</tr>`);
  return html`${data.ended ? raw('') : html`<p>${S.decodedLive}</p>`}${scrollingTable(S.decodedTitle, headings, rows)}`;
}

function textField(name: string, label: string, value: string | undefined, hint?: string): Html {
  const described = hint ? raw(` aria-describedby="${name}-hint"`) : raw('');
  return html`<div><label for="${name}">${label}</label>${hint ? html`<p class="hint" id="${name}-hint">${hint}</p>` : raw('')}<input type="text" id="${name}" name="${name}" value="${value ?? ''}"${described} autocomplete="off" spellcheck="false"></div>`;
}

function select(name: string, label: string, options: Array<[string, string]>, value: string | undefined): Html {
  return html`<div><label for="${name}">${label}</label><select id="${name}" name="${name}"><option value="">${S.filter.any}</option>${options.map(([v, text]) => html`<option value="${v}"${raw(v === value ? ' selected' : '')}>${text}</option>`)}</select></div>`;
}

export function sessionsBody(filters: SessionFilters, problems: string[], result: { rows: SessionRow[]; more: boolean } | null, now: number): Html {
  const f = S.filter;
  const problemBlock = problems.length
    ? html`<div class="problem" role="alert"><h2>${S.problemTitle}</h2><ul>${problems.map((p) => html`<li><a href="#${p === 'thresholdMinutes' ? 'threshold' : p}">${S.badFilter(p === 'thresholdMinutes' ? f.threshold.toLowerCase() : p)}</a></li>`)}</ul></div>`
    : raw('');
  const form = html`<form method="get" action="${consolePath('/sessions')}"><fieldset><legend>${S.filters}</legend><div class="filters">${[
    textField('tenant', f.tenant, filters.tenant),
    textField('flow', f.flow, filters.flow),
    textField('version', f.version, filters.version, f.versionHint),
    textField('stage', f.stage, filters.stage),
    select('status', f.status, SESSION_STATUSES.map((s) => [s, s]), filters.status),
    select('outcome', f.outcome, OUTCOMES.map((o) => [o, o]), filters.outcome),
    select('age', f.age, Object.keys(AGES).map((a) => [a, S.ages[a]]), filters.age),
    html`<div><label for="threshold">${f.threshold}</label><input type="number" id="threshold" name="threshold" min="1" value="${filters.thresholdMinutes}"></div>`,
  ]}</div><div class="check"><input type="checkbox" id="stuck" name="stuck"${raw(filters.stuck ? ' checked' : '')}> <label for="stuck">${f.stuck}</label></div></fieldset><button>${S.apply}</button></form>`;
  const list = result
    ? result.rows.length
      ? html`<p>${S.sessionsCount(result.rows.length, result.more)}</p>${sessionsTable(S.sessionsTitle, result.rows, now)}`
      : html`<p>${S.sessionsNone}</p>`
    : raw('');
  return html`${problemBlock}${form}${list}`;
}
