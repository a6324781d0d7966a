/**
 * The Funnel page's body: for one tenant, flow and version over a window, a table per stage
 * (entered, went on, ended here by ending, time in stage) and its chart, from the FunnelSource
 * the console was given; and live counts per stage from visibility.
 */
import { STAGE_ENDINGS, type FunnelReport } from '../funnel/report';
import { funnelChart } from './funnel-chart';
import { consolePath, formatDuration, html, raw, scrollingTable, type Html } from './html';
import { CONSOLE_STRINGS as S } from './strings';

export const FUNNEL_WINDOWS = ['1', '7', '30', '90'] as const;
export const DEFAULT_FUNNEL_WINDOW = '30';

export interface FunnelChoice {
  tenant?: string;
  flow?: string;
  version?: string;
  window: string;
}

export interface LiveCounts {
  stages: Array<{ stage: string; count: number }>;
  /** The count stopped at this many running sessions. */
  cappedAt: number | null;
}

export interface FunnelPageData {
  choice: FunnelChoice;
  problems: string[];
  /** Absent: no FunnelSource configured. Null: nothing chosen yet. */
  report?: FunnelReport | null;
  live: LiveCounts | null;
}

function field(name: string, label: string, value: string | undefined): Html {
  return html`<div><label for="${name}">${label}</label><input type="text" id="${name}" name="${name}" value="${value ?? ''}" autocomplete="off" spellcheck="false"></div>`;
}

export function funnelTable(report: FunnelReport): Html {
  const c = S.funnelColumns;
  const rows = report.stages.map((stage) => {
    const total = STAGE_ENDINGS.reduce((sum, ending) => sum + stage.endedHere[ending], 0);
    const detail = STAGE_ENDINGS.filter((ending) => stage.endedHere[ending] > 0).map((ending) => `${S.endings[ending]} ${stage.endedHere[ending]}`);
    return html`<tr><th scope="row">${stage.stage}</th><td class="number">${stage.entered}</td><td class="number">${stage.wentOn}</td><td>${total}${detail.length ? ` (${detail.join(', ')})` : ''}</td><td>${formatDuration(stage.timeInStage.p50)}</td><td>${formatDuration(stage.timeInStage.p90)}</td></tr>`;
  });
  return scrollingTable(S.funnelTitle, [c.stage, c.entered, c.wentOn, c.endedHere, c.p50, c.p90], rows);
}

function liveBlock(live: LiveCounts): Html {
  const table = live.stages.length
    ? scrollingTable(S.liveTitle, [S.liveColumns.stage, S.liveColumns.count], live.stages.map((s) => html`<tr><th scope="row">${s.stage}</th><td class="number">${s.count}</td></tr>`))
    : html`<p>${S.liveNone}</p>`;
  return html`<h2>${S.liveTitle}</h2><p>${S.liveIntro}</p>${table}${live.cappedAt === null ? raw('') : html`<p>${S.liveCapped(live.cappedAt)}</p>`}`;
}

export function funnelBody({ choice, problems, report, live }: FunnelPageData): Html {
  const problemBlock = problems.length
    ? html`<div class="problem" role="alert"><h2>${S.problemTitle}</h2><ul>${problems.map((p) => html`<li><a href="#${p}">${S.badFilter(p)}</a></li>`)}</ul></div>`
    : raw('');
  const form = html`<form method="get" action="${consolePath('/funnel')}"><div class="filters">${[
    field('tenant', S.filter.tenant, choice.tenant),
    field('flow', S.filter.flow, choice.flow),
    field('version', S.filter.version, choice.version),
    html`<div><label for="window">${S.window}</label><select id="window" name="window">${FUNNEL_WINDOWS.map((w) => html`<option value="${w}"${raw(w === choice.window ? ' selected' : '')}>${S.windows[w]}</option>`)}</select></div>`,
  ]}</div><button>${S.apply}</button></form>`;
  let funnel: Html;
  if (report === undefined) funnel = html`<p class="notice">${S.funnelNoSource}</p>`;
  else if (report === null) funnel = html`<p>${S.funnelPick}</p>`;
  else funnel = html`<p>${S.funnelSessions(report.sessions)}</p>${funnelChart(report)}${funnelTable(report)}`;
  return html`<p>${S.funnelIntro}</p>${problemBlock}${form}${funnel}${live ? liveBlock(live) : raw('')}`;
}

/** Running sessions per stage, from rows visibility listed. */
export function liveCounts(stages: Array<string | null>, cappedAt: number | null): LiveCounts {
  const counts = new Map<string, number>();
  for (const stage of stages) if (stage !== null) counts.set(stage, (counts.get(stage) ?? 0) + 1);
  return { stages: [...counts].map(([stage, count]) => ({ stage, count })).sort((a, b) => b.count - a.count || a.stage.localeCompare(b.stage)), cappedAt };
}
