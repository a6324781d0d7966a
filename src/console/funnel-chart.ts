/**
 * The funnel as an SVG drawn on the server: one row per stage, a bar for the sessions that
 * entered it and, inside it, the part that went on. Presentation attributes only (the CSP
 * allows no inline style), and a title and description for screen readers; the table beside
 * it carries the same numbers.
 */
import type { FunnelReport } from '../funnel/report';
import { html, type Html } from './html';
import { CONSOLE_STRINGS as S } from './strings';

const WIDTH = 640;
const LABEL_WIDTH = 180;
const ROW_HEIGHT = 34;
const BAR_HEIGHT = 22;
const TOP = 28;
const ENTERED = '#9fb8d9';
const WENT_ON = '#1a4fa0';
const TEXT = '#1b1b1b';

/** Long stage ids are cut so the label keeps to its column (the table shows them whole). */
const label = (stage: string) => (stage.length > 22 ? `${stage.slice(0, 21)}…` : stage);

export function funnelChart(report: FunnelReport): Html {
  const most = Math.max(1, ...report.stages.map((s) => s.entered));
  const barSpace = WIDTH - LABEL_WIDTH - 60;
  const height = TOP + report.stages.length * ROW_HEIGHT + 8;
  const rows = report.stages.map((stage, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const entered = Math.round((stage.entered / most) * barSpace);
    const wentOn = Math.round((stage.wentOn / most) * barSpace);
    return html`<g><text x="0" y="${y + 16}" fill="${TEXT}" font-size="13">${label(stage.stage)}</text><rect x="${LABEL_WIDTH}" y="${y}" width="${entered}" height="${BAR_HEIGHT}" fill="${ENTERED}"></rect><rect x="${LABEL_WIDTH}" y="${y}" width="${wentOn}" height="${BAR_HEIGHT}" fill="${WENT_ON}"></rect><text x="${LABEL_WIDTH + entered + 6}" y="${y + 16}" fill="${TEXT}" font-size="13">${stage.wentOn}/${stage.entered}</text></g>`;
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="funnel-chart-title funnel-chart-desc" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}"><title id="funnel-chart-title">${S.chartTitle}</title><desc id="funnel-chart-desc">${S.chartDescription}</desc><g><rect x="${LABEL_WIDTH}" y="4" width="14" height="14" fill="${ENTERED}"></rect><text x="${LABEL_WIDTH + 20}" y="16" fill="${TEXT}" font-size="13">${S.chartLegend.entered}</text><rect x="${LABEL_WIDTH + 110}" y="4" width="14" height="14" fill="${WENT_ON}"></rect><text x="${LABEL_WIDTH + 130}" y="16" fill="${TEXT}" font-size="13">${S.chartLegend.wentOn}</text></g>${rows}</svg>`;
}
