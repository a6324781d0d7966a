/**
 * GET /console/funnel?tenant=&flow=&version=&window=: the funnel of one tenant's flow version
 * over the last 1, 7, 30 or 90 days, from the FunnelSource the console was given (the store of
 * session ends, src/funnel), and live counts per stage from visibility.
 */
import type { FastifyInstance } from 'fastify';
import { pageConfig, sendPage, type ConsoleContext } from './context';
import { DEFAULT_FUNNEL_WINDOW, FUNNEL_WINDOWS, funnelBody, liveCounts, type FunnelChoice } from './funnel-page';
import { consolePath } from './html';
import { isIdentifier, liveStagesQuery } from './queries';
import { listSessions } from './sessions-data';
import { CONSOLE_STRINGS as S } from './strings';

/** Live counts stop after this many running sessions (the page says so). */
export const LIVE_COUNT_LIMIT = 5000;
const DAY_MS = 86_400_000;

export function serveFunnel(app: FastifyInstance, { options, operator }: ConsoleContext): void {
  app.get<{ Querystring: Record<string, string | undefined> }>(consolePath('/funnel'), { config: pageConfig() }, async (request, reply) => {
    const problems: string[] = [];
    const choice: FunnelChoice = { window: DEFAULT_FUNNEL_WINDOW };
    for (const name of ['tenant', 'flow', 'version'] as const) {
      const value = request.query[name]?.trim();
      if (!value) continue;
      if (isIdentifier(value)) choice[name] = value;
      else problems.push(name);
    }
    const window = request.query.window;
    if (window !== undefined && (FUNNEL_WINDOWS as readonly string[]).includes(window)) choice.window = window;
    else if (window !== undefined) problems.push('window');
    const { tenant, flow, version } = choice;
    const chosen = problems.length === 0 && tenant !== undefined && flow !== undefined && version !== undefined;
    let report;
    let live = null;
    if (chosen) {
      const to = Date.now();
      report = options.funnel ? await options.funnel.funnel({ clientId: tenant, flowId: flow, flowVersion: version, from: to - Number(choice.window) * DAY_MS, to }) : undefined;
      const { rows, more } = await listSessions(await options.client(), liveStagesQuery(tenant, flow, version), LIVE_COUNT_LIMIT);
      live = liveCounts(rows.map((row) => row.stage), more ? LIVE_COUNT_LIMIT : null);
    } else {
      report = options.funnel ? null : undefined;
    }
    const body = funnelBody({ choice, problems, report, live });
    return sendPage(reply, problems.length ? 400 : 200, { title: S.funnelTitle, operator: operator(request), current: 'funnel', body });
  });
}
