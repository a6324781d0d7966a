/**
 * Every setting of every sessionflow process, read once from the environment.
 *
 * Defaults fit the embedded stack (`make start`). A bad value throws a ConfigError whose message
 * is one line naming the variable; entry points print it and exit (see `exitOnConfigError`, and
 * src/settings.ts for the settings beyond this folder: clients, flows, the device-token secret).
 * Temporal connection variables follow the names the Temporal CLI and SDKs use, so the same
 * environment points api and worker at a local dev server or at Temporal Cloud.
 */
import { ConfigError, exitOnConfigError } from '../util/config-error';
import { accessLog, auditConfig, codecConfig, funnelConfig, eventRules, keysConfig, providersConfig, requireCredentialsOffSandbox, workerDeployment } from './parts';
import { addressList, instant, ipAddress, port, positiveInteger, postgresUrl, text, url, webhookSecret, type Env } from './read';
import { temporalConfig } from './temporal';
import type { ApiConfig, Config, SandboxConfig } from './types';

export { ConfigError, exitOnConfigError, parseJsonArray } from '../util/config-error';
export { CONFIG_VARIABLES } from './variables';
export * from './types';

/** A bound against typos: each cached session costs worker memory (see bench/). */
const MAX_CACHED_WORKFLOWS_LIMIT = 1_000_000;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function logLevel(env: Env): Config['logLevel'] {
  const level = text(env, 'LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
  }
  return level as Config['logLevel'];
}

function apiConfig(env: Env): ApiConfig {
  return {
    host: text(env, 'HOST', '127.0.0.1'),
    port: port(env, 'PORT', 8080),
    bodyLimitBytes: positiveInteger(env, 'BODY_LIMIT_BYTES', 64 * 1024, 16 * 1024 * 1024),
    ...(env.API_METRICS_PORT ? { metricsPort: port(env, 'API_METRICS_PORT', 0) } : {}),
    ...(env.LIMITS_DATABASE_URL ? { limitsDatabaseUrl: postgresUrl(env, 'LIMITS_DATABASE_URL') } : {}),
    // A person never meets these; a script does.
    addressLimits: {
      deviceClientsPerMinute: positiveInteger(env, 'ADDRESS_DEVICE_CLIENTS_PER_MINUTE', 20, 1_000_000),
      launchesPerMinute: positiveInteger(env, 'ADDRESS_LAUNCHES_PER_MINUTE', 60, 1_000_000),
      authFailuresPerMinute: positiveInteger(env, 'ADDRESS_AUTH_FAILURES_PER_MINUTE', 20, 1_000_000),
      // Many phones can share one address (carrier NAT): generous for what people do, strict
      // for what only a script does (docs/security/edge.md).
      sessionRequestsPerMinute: positiveInteger(env, 'ADDRESS_SESSION_REQUESTS_PER_MINUTE', 600, 1_000_000),
      sessionFailuresPerMinute: positiveInteger(env, 'ADDRESS_SESSION_FAILURES_PER_MINUTE', 30, 1_000_000),
    },
    trustedProxies: addressList(env, 'TRUSTED_PROXIES'),
    deviceClientUnusedMs: positiveInteger(env, 'DEVICE_CLIENT_UNUSED_SECONDS', 3600, 30 * 24 * 3600) * 1000,
    // Long enough to pick up a phone or read an email; a handoff link is a credential, so not long.
    handoffTtlMs: positiveInteger(env, 'HANDOFF_TTL_SECONDS', 600, 24 * 3600) * 1000,
    ...(env.PUBLIC_URL ? { publicUrl: url(env, 'PUBLIC_URL', '') } : {}),
    ...(env.UNTAGGED_NONCES_UNTIL ? { untaggedNoncesUntil: instant(env, 'UNTAGGED_NONCES_UNTIL') } : {}),
  };
}

function sandboxConfig(env: Env, sandboxPort: number): SandboxConfig {
  return {
    host: text(env, 'SANDBOX_HOST', '127.0.0.1'),
    port: sandboxPort,
    ...(env.ATTESTR_WEBHOOK_URL ? { attestrWebhookUrl: url(env, 'ATTESTR_WEBHOOK_URL', '') } : {}),
    ...(webhookSecret(env, 'SANDBOX_INBOX_WEBHOOK_SECRET') ? { inboxWebhookSecret: webhookSecret(env, 'SANDBOX_INBOX_WEBHOOK_SECRET') } : {}),
  };
}

/** The worker's monitoring, cache and failover settings. */
function workerMonitoring(env: Env): Pick<Config, 'workerMetricsPort' | 'workerHealthPort' | 'workerMonitoringHost' | 'workerMaxCachedWorkflows' | 'workerStickyQueueTimeoutMs'> {
  return {
    ...(env.WORKER_METRICS_PORT ? { workerMetricsPort: port(env, 'WORKER_METRICS_PORT', 0) } : {}),
    ...(env.WORKER_HEALTH_PORT ? { workerHealthPort: port(env, 'WORKER_HEALTH_PORT', 9464) } : {}),
    workerMonitoringHost: ipAddress(env, 'WORKER_MONITORING_HOST', '127.0.0.1'),
    ...(env.WORKER_MAX_CACHED_WORKFLOWS
      ? { workerMaxCachedWorkflows: positiveInteger(env, 'WORKER_MAX_CACHED_WORKFLOWS', 1, MAX_CACHED_WORKFLOWS_LIMIT) }
      : {}),
    // The SDK's default is 10 s (docs/guides/benchmark-and-drill.md#timeouts-after-a-fault).
    workerStickyQueueTimeoutMs: positiveInteger(env, 'WORKER_STICKY_QUEUE_TIMEOUT_SECONDS', 2, 60) * 1000,
  };
}

/** What no single slice can check: ports that must differ, settings that must come in pairs, retired variables. */
function checkAcrossSlices(env: Env, config: Config): void {
  // The one shared token gave way to named operators: say so rather than ignore it.
  if (env.CODEC_OPERATOR_TOKEN) throw new ConfigError('CODEC_OPERATOR_TOKEN', 'is no longer read: configure named operators with SESSIONFLOW_OPERATORS_FILE (docs/security/operators-and-codec.md)');
  requireCredentialsOffSandbox(env, 'ATTESTR_BASE_URL', 'ATTESTR_CLIENT_SECRET');
  requireCredentialsOffSandbox(env, 'FINQWARE_BASE_URL', 'FINQWARE_CLIENT_APP_KEY');
  if (config.api.metricsPort === config.api.port) throw new ConfigError('API_METRICS_PORT', 'must differ from PORT (metrics stay off the public port)');
  if (config.codec.port === config.api.port) throw new ConfigError('CODEC_PORT', 'must differ from PORT (the codec server is for operators, not the public)');
  if (config.workerMetricsPort !== undefined && config.workerMetricsPort === config.workerHealthPort) {
    throw new ConfigError('WORKER_METRICS_PORT', 'must differ from WORKER_HEALTH_PORT (each is its own server)');
  }
}

export function loadConfig(env: Env = process.env): Config {
  const sandboxPort = port(env, 'SANDBOX_PORT', 8090);
  const level = logLevel(env);
  const config: Config = {
    temporal: temporalConfig(env),
    api: apiConfig(env),
    sandbox: sandboxConfig(env, sandboxPort),
    accessLog: accessLog(env),
    ...workerMonitoring(env),
    flowsDir: text(env, 'FLOWS_DIR', 'flows'),
    dataDir: text(env, 'DATA_DIR', '.data'),
    eventRules: eventRules(env),
    ...(env.UNSEALED_SESSIONS_UNTIL ? { unsealedSessionsUntil: instant(env, 'UNSEALED_SESSIONS_UNTIL') } : {}),
    ...(env.WORKFLOW_BUNDLE_PATH ? { workflowBundlePath: text(env, 'WORKFLOW_BUNDLE_PATH', '') } : {}),
    ...workerDeployment(env),
    // OpenTelemetry traces over OTLP/HTTP (docs/guides/tracing.md); off, and no SDK started, when unset.
    ...(env.SESSIONFLOW_OTLP_ENDPOINT ? { tracing: { otlpTracesUrl: `${url(env, 'SESSIONFLOW_OTLP_ENDPOINT', '')}/v1/traces` } } : {}),
    logLevel: level,
    keys: keysConfig(env),
    codec: codecConfig(env),
    audit: auditConfig(env),
    funnel: funnelConfig(env),
    providers: providersConfig(env, `http://127.0.0.1:${sandboxPort}`),
  };
  checkAcrossSlices(env, config);
  return config;
}

/** The configuration alone, for processes that need nothing else (the sandbox, the bench peer). */
export function loadConfigOrExit(env: Env = process.env): Config {
  return exitOnConfigError(() => loadConfig(env));
}
