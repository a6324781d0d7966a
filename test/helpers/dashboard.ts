/**
 * The Grafana dashboard's queries, read with Prometheus's own PromQL grammar
 * (@prometheus-io/lezer-promql, the parser of Prometheus's web UI): each query's syntax errors
 * and the metric names its selectors use.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';

export const DASHBOARD_PATH = join(__dirname, '..', '..', 'deploy', 'grafana', 'sessionflow.json');

/** Grafana's own range variables, which are not PromQL: replaced as Grafana replaces them. */
const GRAFANA_RANGES: Record<string, string> = { $__range: '7d', $__rate_interval: '5m', $__interval: '1m' };

export interface DashboardQuery {
  where: string;
  promql: string;
}

interface Panel {
  title: string;
  panels?: Panel[];
  targets?: Array<{ expr: string }>;
}

/** Every query of the dashboard: the panels' targets, and the selectors of its variables' label_values(). */
export function dashboardQueries(): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { panels: Panel[]; templating: { list: Array<{ name: string; type: string; query: unknown }> } };
  const queries: DashboardQuery[] = [];
  const visit = (panel: Panel) => {
    for (const target of panel.targets ?? []) queries.push({ where: panel.title, promql: target.expr });
    for (const inner of panel.panels ?? []) visit(inner);
  };
  dashboard.panels.forEach(visit);
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const text = (variable.query as { query: string }).query;
    const selector = /^label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/.exec(text)?.[1];
    if (!selector) throw new Error(`variable ${variable.name}: not a label_values() query: ${text}`);
    queries.push({ where: `variable ${variable.name}`, promql: selector });
  }
  return queries.map((q) => ({ ...q, promql: q.promql.replace(/\$__[a-z_]+/g, (name) => GRAFANA_RANGES[name] ?? name) }));
}

/** The query's syntax errors (empty when it parses) and the metric names its selectors name. */
export function readPromql(promql: string): { errors: string[]; metrics: string[] } {
  const tree = parser.parse(promql);
  const errors: string[] = [];
  const metrics = new Set<string>();
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) errors.push(`at ${cursor.from}: ${JSON.stringify(promql.slice(Math.max(0, cursor.from - 10), cursor.to + 10))}`);
    if (cursor.name === 'Identifier' && cursor.node.parent?.name === 'VectorSelector') metrics.add(promql.slice(cursor.from, cursor.to));
  } while (cursor.next());
  return { errors, metrics: [...metrics] };
}
