/**
 * The worker process's runtime: the Temporal SDK's log level and Prometheus exporter, set once
 * per process, and its GET /healthz server.
 */
import { createServer, type Server } from 'node:http';
import { isIPv6 } from 'node:net';
import { DefaultLogger, Runtime, type LogLevel, type MetricsExporterConfig } from '@temporalio/worker';
import type { Config } from '../config';
import { WORKER_METRICS } from '../activities/metrics';
import { LATENCY_BUCKETS_SECONDS } from '../util/latency-buckets';

const SDK_LOG_LEVELS: Record<Config['logLevel'], LogLevel> = {
  fatal: 'ERROR',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'ERROR',
};

/** Time in a stage: from a second (a tap) to a week (a review, a user coming back), in seconds. */
export const STAGE_TIME_BUCKETS_SECONDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 86_400, 3 * 86_400, 7 * 86_400];

/**
 * The SDK's Prometheus exporter: Temporal's worker metrics and the project's own (recorded on
 * the runtime's meter) at GET /metrics, on WORKER_MONITORING_HOST like /healthz (loopback unless
 * set), named the Prometheus way (counters `_total`, durations in seconds with a `_seconds` suffix).
 */
function prometheusExporter(host: string, port: number): MetricsExporterConfig {
  return {
    prometheus: {
      bindAddress: `${isIPv6(host) ? `[${host}]` : host}:${port}`,
      countersTotalSuffix: true,
      unitSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: { [WORKER_METRICS.providerCallDuration]: LATENCY_BUCKETS_SECONDS, [WORKER_METRICS.stageDuration]: STAGE_TIME_BUCKETS_SECONDS },
    },
  };
}

/** Sets the Temporal SDK's log level and metrics exporter once per process, before any worker exists. */
export function installRuntime(config: Pick<Config, 'logLevel' | 'workerMetricsPort' | 'workerMonitoringHost'>): void {
  Runtime.install({
    logger: new DefaultLogger(SDK_LOG_LEVELS[config.logLevel]),
    ...(config.workerMetricsPort ? { telemetryOptions: { metrics: prometheusExporter(config.workerMonitoringHost, config.workerMetricsPort) } } : {}),
  });
}

/** GET /healthz: 200 while the worker runs, 503 otherwise (`key_store_unavailable` while paused). */
export function serveHealth(state: () => string, host: string, port: number): Server {
  return createServer((request, response) => {
    const status = state();
    response.statusCode = request.url === '/healthz' ? (status === 'ok' ? 200 : 503) : 404;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ status }));
  }).listen(port, host);
}
