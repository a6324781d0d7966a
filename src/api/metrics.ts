/**
 * The api's Prometheus metrics (prom-client): device step latency and sessions by status, next
 * to the Node process metrics the entry point adds. `serveMetrics` answers GET /metrics on a
 * port of its own (API_METRICS_PORT), never on the public one: session counts and process
 * details are for operators, not for tenants or devices. Labels stay few and bounded: never a
 * session id, tag or anything a person typed.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from '../util/latency-buckets';
import { SESSION_STATUSES, type SessionStatus } from '../contract/session';

/** How long one count of sessions answers scrapes: a scrape storm costs Temporal one count per status per period. */
export const SESSION_COUNT_TTL_MS = 5_000;

export type StepOutcome = 'accepted' | 'refused' | 'failed';

/** A device step's labels; `unknown` where the request names no flow or stage the catalog knows. */
export interface StepLabels {
  flow: string;
  stage_kind: string;
}

/** `load` at most once per `ttlMs`: calls in between, and during a load, share its promise, failed or not. */
export function cachedFor<T>(ttlMs: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    if (!last || now() - last.at >= ttlMs) last = { at: now(), value: load() };
    return last.value;
  };
}

export function stepOutcome(httpStatus: number): StepOutcome {
  if (httpStatus >= 500) return 'failed';
  return httpStatus >= 400 ? 'refused' : 'accepted';
}

export class ApiMetrics {
  private readonly stepDuration: Histogram<'flow' | 'stage_kind' | 'outcome'>;

  /**
   * Registers the metrics in `registry`. `countSessions` is asked at scrape time, through a
   * short cache; when it fails, the gauge has no samples in that scrape (an absent series
   * rather than a stale count) and `onCountError` hears why, once per attempt.
   */
  constructor(registry: Registry, countSessions: () => Promise<Record<SessionStatus, number>>, onCountError: (err: unknown) => void) {
    this.stepDuration = new Histogram({
      name: 'sessionflow_device_step_duration_seconds',
      help: 'Device step submissions (POST /v1/sessions/:id/steps) as the api answered them, by flow, stage kind and outcome',
      labelNames: ['flow', 'stage_kind', 'outcome'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    const counts = cachedFor(SESSION_COUNT_TTL_MS, () =>
      countSessions().catch((err: unknown) => {
        onCountError(err);
        throw err;
      }),
    );
    const sessions: Gauge<'status'> = new Gauge({
      name: 'sessionflow_sessions',
      help: `Sessions by status on this api's task queue, from Temporal visibility (counted at most every ${SESSION_COUNT_TTL_MS / 1000} s)`,
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        sessions.reset();
        const byStatus = await counts().catch(() => null);
        if (!byStatus) return;
        for (const status of SESSION_STATUSES) sessions.set({ status }, byStatus[status]);
      },
    });
  }

  observeStep(labels: StepLabels, httpStatus: number, seconds: number): void {
    this.stepDuration.observe({ ...labels, outcome: stepOutcome(httpStatus) }, seconds);
  }
}

/** GET /metrics from `registry` on host:port; anything else 404. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}
