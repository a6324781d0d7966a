/**
 * Every setting of every sessionflow process, read once from the environment.
 *
 * Defaults fit the embedded stack (`make start`). A bad value throws a ConfigError whose message
 * is one line naming the variable; entry points print it and exit (see `exitOnConfigError`, and
 * src/settings.ts for the settings beyond this file: clients, flows, the device-token secret).
 * Temporal connection variables follow the names the Temporal CLI and SDKs use, so the same
 * environment points api and worker at a local dev server or at Temporal Cloud.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseKek } from './keys/kek';
import { STORE_ID_PATTERN } from './keys/store-marker';
import { isWebhookSecret, WEBHOOK_SECRET_RULE } from './util/webhook-secret';

/** The one error type of startup: every bad setting, whatever loads it, names its variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/** The SDK's TLSConfig (both Connection and NativeConnection take it as it is). */
export interface TemporalTlsConfig {
  /** The name the server's certificate is checked against, when not the address's host. */
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** `false` for plaintext (the dev server); an object (possibly empty) for TLS. */
  tls: TemporalTlsConfig | false;
  apiKey?: string;
}

export interface ProviderEndpoint {
  baseUrl: string;
  clientId: string;
  secret: string;
  /**
   * The most calls a second all workers together start at this provider: the rate of its own
   * activity task queue, enforced by the Temporal server (see src/worker.ts). Unlimited when absent.
   */
  maxCallsPerSecond?: number;
}

/** What a backend event of a type does (POST /v1/events). */
/** What a backend event rule does with its events (SESSIONFLOW_EVENT_RULES). */
export const EVENT_ACTIONS = ['start', 'deliver', 'archive'] as const;

export type EventRule =
  | { type: string; action: 'start'; /** The config's `flow`. */ flowId: string; snapshot: string | null; webhook?: boolean }
  | { type: string; action: 'deliver' }
  | { type: string; action: 'archive' };

export interface Config {
  temporal: TemporalConfig;
  /** `metricsPort`: the api's Prometheus GET /metrics, apart from the public port; off when absent. */
  api: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    metricsPort?: number;
    /**
     * PostgreSQL where every api replica counts the per-client limits; in the process's memory
     * when absent (one api process).
     */
    limitsDatabaseUrl?: string;
    /** Per client address and minute, on the routes anyone can call (see src/api/address-limits.ts). */
    addressLimits: AddressLimitsConfig;
    /** Proxies whose X-Forwarded-For names the client address (IPs or CIDRs); none by default. */
    trustedProxies: string[];
    /** A device client that launched no session within this many ms ends (its credential with it). */
    deviceClientUnusedMs: number;
    /**
     * The api's public base URL, where the hosted flow page's `url` points (PUBLIC_URL). Absent:
     * the origin the create request came to, right for local use only.
     */
    publicUrl?: string;
    /**
     * Unix ms until which a step may carry a nonce handed out before nonces were tagged with their
     * session (UNTAGGED_NONCES_UNTIL, for an upgrade with sessions in progress); absent: refused.
     */
    untaggedNoncesUntil?: number;
  };
  /**
   * `inboxWebhookSecret`: the Standard Webhooks secret the sandbox's webhook inbox verifies
   * deliveries with (`make start` passes the development client's); without it none verifies.
   */
  sandbox: { host: string; port: number; attestrWebhookUrl?: string; inboxWebhookSecret?: string };
  /** `make start` only: where its services' access lines go, a rotated file under dataDir or its own stdout. */
  accessLog: 'file' | 'stdout';
  /** The worker's Prometheus GET /metrics port (the Temporal SDK's exporter); off when absent. */
  workerMetricsPort?: number;
  /** The worker's GET /healthz port; no health server when absent. */
  workerHealthPort?: number;
  /** Where the worker's metrics and health servers listen: loopback unless set (compose scrapes them on 0.0.0.0). */
  workerMonitoringHost: string;
  /** How many sessions the worker keeps in memory between steps; the SDK's own default when absent. */
  workerMaxCachedWorkflows?: number;
  flowsDir: string;
  dataDir: string;
  eventRules: EventRule[];
  /**
   * Unix ms until which the api and the webhook activity still sign the result of a session
   * without a seal (UNSEALED_SESSIONS_UNTIL, for an upgrade with sessions in progress); absent: never.
   */
  unsealedSessionsUntil?: number;
  /** A workflow bundle built ahead (scripts/bundle-workflows.ts); the worker bundles at start without one. */
  workflowBundlePath?: string;
  /**
   * Worker Deployment Versioning (docs/guides/deploying.md); off when absent. `buildId`:
   * the bundle's hash when absent. `setCurrent`: the worker makes its build the deployment's
   * current one once it polls (one-build setups: make start, compose, make cluster).
   */
  workerDeployment?: { name: string; buildId?: string; setCurrent: boolean };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Data keys (see src/keys): the store and the KEKs that wrap them. */
  keys: {
    /** A postgres:// URL: the PostgreSQL key store; absent: files under `<dataDir>/keys/`. */
    keyStoreUrl?: string;
    /** From SESSIONFLOW_KEK or SESSIONFLOW_KEK_FILE, newest (wrapping) first; absent: a development KEK generated under devKekDir. */
    keks?: Buffer[];
    /** Where generated development KEKs live: outside DATA_DIR, so a copy of the data folder holds no KEK. */
    devKekDir: string;
    /** How long a process keeps a key it read (the longest it can decode a session after its key is destroyed). */
    cacheSeconds: number;
    /** SESSIONFLOW_KEY_STORE_ID: the store id (printed by `npm run keys:init`) every process and init insist on. */
    keyStoreId?: string;
  };
  /** The operator codec server (Temporal's /encode and /decode): its own port, never the public one. */
  codec: {
    host: string;
    port: number;
    uiOrigin: string;
    /** Host names it answers for (the Host header, port aside): any other is refused (DNS rebinding). */
    allowedHosts: string[];
    /** Proxies whose X-Forwarded-* headers it believes (IPs or CIDRs); none by default, loopback included. */
    trustedProxies: string[];
    /** The UI's capability URL: requests under `/ui/<secret>/` act as this operator (CODEC_UI_CAPABILITY). */
    uiCapability?: { operator: string; secret: string };
  };
  providers: {
    attestr: ProviderEndpoint;
    finqware: ProviderEndpoint;
    quotaWaitCapMs: number;
    /** How long a device step waits for a provider result still pending before answering pending. */
    pendingWaitSeconds: number;
    /** Values the `http` stage may put in headers as {{secrets.NAME}}. */
    httpStageSecrets: Record<string, string>;
  };
}

export interface AddressLimitsConfig {
  deviceClientsPerMinute: number;
  launchesPerMinute: number;
  authFailuresPerMinute: number;
  /** Requests to the device routes that reach a session (steps, launch, open, read). */
  sessionRequestsPerMinute: number;
  /** Failed answers of those routes (an unknown session, a wrong nonce...): far fewer than requests. */
  sessionFailuresPerMinute: number;
}

type Env = Record<string, string | undefined>;

/** The variables this module reads; the docker-compose test checks its services against it. */
export const CONFIG_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'HOST',
  'PORT',
  'BODY_LIMIT_BYTES',
  'API_METRICS_PORT',
  'LIMITS_DATABASE_URL',
  'ADDRESS_DEVICE_CLIENTS_PER_MINUTE',
  'ADDRESS_LAUNCHES_PER_MINUTE',
  'ADDRESS_AUTH_FAILURES_PER_MINUTE',
  'ADDRESS_SESSION_REQUESTS_PER_MINUTE',
  'ADDRESS_SESSION_FAILURES_PER_MINUTE',
  'TRUSTED_PROXIES',
  'DEVICE_CLIENT_UNUSED_SECONDS',
  'PUBLIC_URL',
  'UNTAGGED_NONCES_UNTIL',
  'UNSEALED_SESSIONS_UNTIL',
  'SANDBOX_HOST',
  'SANDBOX_PORT',
  'ATTESTR_WEBHOOK_URL',
  'SANDBOX_INBOX_WEBHOOK_SECRET',
  'SESSIONFLOW_ACCESS_LOG',
  'WORKER_METRICS_PORT',
  'WORKER_HEALTH_PORT',
  'WORKER_MONITORING_HOST',
  'WORKER_MAX_CACHED_WORKFLOWS',
  'WORKER_DEPLOYMENT_NAME',
  'WORKER_BUILD_ID',
  'WORKER_SET_CURRENT',
  'FLOWS_DIR',
  'DATA_DIR',
  'WORKFLOW_BUNDLE_PATH',
  'LOG_LEVEL',
  'ATTESTR_BASE_URL',
  'ATTESTR_CLIENT_ID',
  'ATTESTR_CLIENT_SECRET',
  'ATTESTR_MAX_CALLS_PER_SECOND',
  'FINQWARE_BASE_URL',
  'FINQWARE_CLIENT_ID',
  'FINQWARE_CLIENT_APP_KEY',
  'FINQWARE_MAX_CALLS_PER_SECOND',
  'PROVIDER_QUOTA_WAIT_CAP_SECONDS',
  'PROVIDER_PENDING_WAIT_SECONDS',
  'HTTP_STAGE_SECRETS',
  'SESSIONFLOW_EVENT_RULES',
  'SESSIONFLOW_KEK',
  'SESSIONFLOW_KEK_FILE',
  'SESSIONFLOW_KEY_STORE_URL',
  'SESSIONFLOW_KEY_STORE_ID',
  'SESSIONFLOW_KEY_CACHE_SECONDS',
  'SESSIONFLOW_DEV_KEK_DIR',
  'CODEC_HOST',
  'CODEC_PORT',
  'CODEC_UI_ORIGIN',
  'CODEC_ALLOWED_HOSTS',
  'CODEC_TRUSTED_PROXIES',
  'CODEC_UI_CAPABILITY',
] as const;

/** A bound against typos: each cached session costs worker memory (see bench/). */
const MAX_CACHED_WORKFLOWS_LIMIT = 1_000_000;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function text(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value.trim() !== value) throw new ConfigError(name, 'must not have leading or trailing spaces');
  return value;
}

/** An ISO 8601 date and time with its offset (`2030-01-31T00:00:00Z`), as unix ms. */
function instant(env: Env, name: string): number {
  const raw = text(env, name, '');
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw) || Number.isNaN(ms)) {
    throw new ConfigError(name, `must be an ISO 8601 date and time with its offset, like 2030-01-31T00:00:00Z (got "${raw}")`);
  }
  return ms;
}

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 65535) {
    throw new ConfigError(name, `must be a port number from 1 to 65535 (got "${raw}")`);
  }
  return value;
}

function positiveInteger(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from 1 to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

/** A rate: a positive number, fractions allowed (0.5 is one call every two seconds). */
function positiveRate(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) <= 0 || Number(raw) > 100_000) {
    throw new ConfigError(name, `must be a number of calls per second above 0 and at most 100000 (got "${raw}")`);
  }
  return Number(raw);
}

/** A postgres:// URL; the message never repeats the value (it may hold a password). */
function postgresUrl(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL | null = null;
  try {
    parsed = new URL(raw);
  } catch {
    // reported below
  }
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname) {
    throw new ConfigError(name, 'must be a postgres://user:password@host:port/database URL');
  }
  return raw;
}

/** A comma-separated list of IP addresses or CIDR ranges. */
function addressList(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    const [address, prefix, extra] = value.split('/');
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= bits))) {
      throw new ConfigError(name, `must list IP addresses or CIDR ranges, separated by commas (got "${value}")`);
    }
    return value;
  });
}

function wholeNumber(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new ConfigError(name, `must be a whole number from 0 to ${max} (got "${raw}")`);
  return Number(raw);
}

function flag(env: Env, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function url(env: Env, name: string, fallback: string): string {
  const value = text(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `must be an absolute http(s) URL (got "${value}")`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http or https URL (got "${value}")`);
  }
  return value.replace(/\/+$/, '');
}

/** A JSON object of strings; the message never repeats the value (it holds secrets). */
function stringMap(env: Env, name: string): Record<string, string> {
  const raw = env[name];
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, 'must be a JSON object of strings (it is not valid JSON)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new ConfigError(name, 'must be a JSON object of strings');
  }
  return parsed as Record<string, string>;
}

/**
 * A setting holding a JSON array. JSON.parse's own message is never repeated: it quotes the text
 * around the error, which may be a secret.
 */
export function parseJsonArray(text: string, variable: string, items: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(variable, `must be a JSON array of ${items} (it is not valid JSON)`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(variable, `must be a JSON array of ${items}`);
  return parsed;
}

function eventRules(env: Env): EventRule[] {
  const name = 'SESSIONFLOW_EVENT_RULES';
  const raw = env[name];
  if (raw === undefined || raw === '') return [];
  const parsed = parseJsonArray(raw, name, 'rules') as Array<Record<string, unknown>>;
  const types = new Set<string>();
  return parsed.map((rule, index) => {
    const where = `rule ${index + 1}`;
    if (typeof rule !== 'object' || rule === null || typeof rule.type !== 'string' || rule.type === '') throw new ConfigError(name, `${where} needs a type`);
    if (types.has(rule.type)) throw new ConfigError(name, `${where}: type "${rule.type}" has a rule already`);
    types.add(rule.type);
    if (rule.action === 'deliver' || rule.action === 'archive') return { type: rule.type, action: rule.action };
    if (rule.action !== 'start') throw new ConfigError(name, `${where}: action must be start, deliver or archive`);
    if (typeof rule.flow !== 'string' || rule.flow === '') throw new ConfigError(name, `${where}: a start rule needs a flow`);
    if (rule.snapshot !== undefined && rule.snapshot !== null && typeof rule.snapshot !== 'string') throw new ConfigError(name, `${where}: snapshot must be a string or null`);
    if (rule.webhook !== undefined && typeof rule.webhook !== 'boolean') throw new ConfigError(name, `${where}: webhook must be true or false`);
    return { type: rule.type, action: 'start', flowId: rule.flow, snapshot: (rule.snapshot as string | null | undefined) ?? null, ...(rule.webhook !== undefined ? { webhook: rule.webhook as boolean } : {}) };
  });
}

function fileContents(env: Env, name: string): Buffer | undefined {
  const path = env[name];
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch {
    // The path may name a user's home directory: say which variable, not where it points.
    throw new ConfigError(name, 'names a file that cannot be read');
  }
}

/**
 * KEKs, newest first: SESSIONFLOW_KEK is a comma-separated list, SESSIONFLOW_KEK_FILE a file
 * with one per line. Each is 32 bytes as 64 hex characters or base64. Messages never repeat a value.
 */
function keks(env: Env): Buffer[] | undefined {
  if (env.SESSIONFLOW_KEK && env.SESSIONFLOW_KEK_FILE) throw new ConfigError('SESSIONFLOW_KEK', 'and SESSIONFLOW_KEK_FILE are both set; set only one of them');
  const name = env.SESSIONFLOW_KEK ? 'SESSIONFLOW_KEK' : 'SESSIONFLOW_KEK_FILE';
  const raw = env.SESSIONFLOW_KEK || fileContents(env, 'SESSIONFLOW_KEK_FILE')?.toString('utf8');
  if (raw === undefined) return undefined;
  const items = raw.split(/[,\n]/).map((item) => item.trim()).filter((item) => item !== '' && !item.startsWith('#'));
  if (items.length === 0) throw new ConfigError(name, 'holds no KEK');
  return items.map((item, index) => {
    const key = parseKek(item);
    if (!key) throw new ConfigError(name, `KEK ${index + 1} must be 32 bytes as 64 hex characters or base64`);
    return key;
  });
}

/** A Standard Webhooks secret; the message never repeats the value. */
function webhookSecret(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!isWebhookSecret(raw)) throw new ConfigError(name, `must be ${WEBHOOK_SECRET_RULE}`);
  return raw;
}

function accessLog(env: Env): Config['accessLog'] {
  const value = text(env, 'SESSIONFLOW_ACCESS_LOG', 'file');
  if (value !== 'file' && value !== 'stdout') throw new ConfigError('SESSIONFLOW_ACCESS_LOG', `must be file or stdout (got "${value}")`);
  return value;
}

function keyStoreUrl(env: Env): string | undefined {
  const raw = env.SESSIONFLOW_KEY_STORE_URL;
  if (!raw) return undefined;
  if (!/^postgres(ql)?:\/\/\S+$/.test(raw)) throw new ConfigError('SESSIONFLOW_KEY_STORE_URL', 'must be a postgres:// URL');
  return raw;
}

function keyStoreId(env: Env): string | undefined {
  const raw = text(env, 'SESSIONFLOW_KEY_STORE_ID', '');
  if (raw === '') return undefined;
  if (!STORE_ID_PATTERN.test(raw)) throw new ConfigError('SESSIONFLOW_KEY_STORE_ID', 'must be a key store id as `npm run keys:init` prints it (a lowercase UUID)');
  return raw;
}

/** The generated development KEKs' folder: `$XDG_DATA_HOME/sessionflow/dev-keks` (`~/.local/share/...`). */
function devKekDir(env: Env): string {
  const configured = text(env, 'SESSIONFLOW_DEV_KEK_DIR', '');
  if (configured) return configured;
  return join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share'), 'sessionflow', 'dev-keks');
}

/** An IP address to listen on (the SDK's metrics exporter takes no host name). */
function ipAddress(env: Env, name: string, fallback: string): string {
  const value = text(env, name, fallback);
  if (isIP(value) === 0) throw new ConfigError(name, `must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0 (got "${value}")`);
  return value;
}

/** Host names, comma-separated: letters, digits, dots and dashes, or an IP address. */
function hostNames(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw.split(',').map((entry) => {
    const value = entry.trim().toLowerCase();
    if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(value) && isIP(value) === 0) {
      throw new ConfigError(name, `must list host names or IP addresses, separated by commas (got "${entry.trim()}")`);
    }
    return value;
  });
}

/** `<operator>:<secret>`; the message never repeats the value. */
function uiCapability(env: Env): { operator: string; secret: string } | undefined {
  const raw = env.CODEC_UI_CAPABILITY;
  if (!raw) return undefined;
  const match = /^([A-Za-z0-9][A-Za-z0-9_.@-]{0,63}):([A-Za-z0-9_-]{43,128})$/.exec(raw);
  if (!match) throw new ConfigError('CODEC_UI_CAPABILITY', 'must be <operator name>:<secret>, the secret 43 to 128 characters of A-Z, a-z, 0-9, "-" and "_" (256 random bits as base64url)');
  return { operator: match[1], secret: match[2] };
}

/** Deployment names and build ids: Temporal joins them with ':' and '.', so neither may hold one. */
const VERSION_PART = /^[A-Za-z0-9_-]{1,100}$/;

function workerDeployment(env: Env): Pick<Config, 'workerDeployment'> {
  const name = text(env, 'WORKER_DEPLOYMENT_NAME', '');
  const buildId = text(env, 'WORKER_BUILD_ID', '');
  const setCurrent = flag(env, 'WORKER_SET_CURRENT');
  if (name === '') {
    for (const variable of ['WORKER_BUILD_ID', 'WORKER_SET_CURRENT']) {
      if (env[variable]) throw new ConfigError(variable, 'needs WORKER_DEPLOYMENT_NAME (Worker Versioning is off without it)');
    }
    return {};
  }
  for (const [variable, value] of [['WORKER_DEPLOYMENT_NAME', name], ['WORKER_BUILD_ID', buildId]]) {
    if (value !== '' && !VERSION_PART.test(value)) throw new ConfigError(variable, `must be 1 to 100 letters, digits, '-' or '_' (got "${value}")`);
  }
  return { workerDeployment: { name, ...(buildId ? { buildId } : {}), setCurrent: setCurrent ?? false } };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The certificates of a PEM file (a CA file may hold several); refused when there is none. */
function pemCertificates(name: string, bytes: Buffer): X509Certificate[] {
  const blocks = bytes.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  const certificates = blocks.flatMap((block) => {
    try {
      return [new X509Certificate(block)];
    } catch {
      return [];
    }
  });
  if (certificates.length === 0 || certificates.length !== blocks.length) throw new ConfigError(name, 'must name a file of PEM certificates');
  return certificates;
}

/**
 * mTLS files, checked here so a wrong one stops the process with one line instead of a refused
 * TLS handshake later: the client certificate must be readable and not expired, the key must be
 * its own, the CA file must hold certificates. Messages never repeat a path or a file's content.
 */
function clientCertPair(env: Env): { crt: Buffer; key: Buffer } | undefined {
  const crt = fileContents(env, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
  const key = fileContents(env, 'TEMPORAL_TLS_CLIENT_KEY_PATH');
  if (!crt && !key) return undefined;
  if (!crt || !key) {
    throw new ConfigError(crt ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'must be set together with its pair (client certificate and key)');
  }
  const [certificate] = pemCertificates('TEMPORAL_TLS_CLIENT_CERT_PATH', crt);
  const expiry = new Date(certificate.validTo);
  if (expiry.getTime() < Date.now()) throw new ConfigError('TEMPORAL_TLS_CLIENT_CERT_PATH', `names a certificate that expired on ${expiry.toISOString().slice(0, 10)}`);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError('TEMPORAL_TLS_CLIENT_KEY_PATH', 'must name a PEM private key without a passphrase');
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new ConfigError('TEMPORAL_TLS_CLIENT_KEY_PATH', 'is not the key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH');
  return { crt, key };
}

function temporalConfig(env: Env): TemporalConfig {
  const address = text(env, 'TEMPORAL_ADDRESS', 'localhost:7233');
  const parts = /^(?:[^\s:/[\]]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(address);
  if (!parts || Number(parts[1]) < 1 || Number(parts[1]) > 65535) {
    throw new ConfigError('TEMPORAL_ADDRESS', `must be host:port with a port from 1 to 65535 (got "${address}")`);
  }
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const clientCert = clientCertPair(env);
  const ca = fileContents(env, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  if (ca) pemCertificates('TEMPORAL_TLS_SERVER_CA_CERT_PATH', ca);
  const serverName = text(env, 'TEMPORAL_TLS_SERVER_NAME', '') || undefined;
  const tlsFlag = flag(env, 'TEMPORAL_TLS');
  if (tlsFlag === false) {
    // An API key may go without TLS (a local proxy); certificates and a server name cannot.
    const tlsOnly = (['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_NAME'] as const).find((name) => env[name]);
    if (tlsOnly) throw new ConfigError('TEMPORAL_TLS', `is false, but ${tlsOnly} is set: it needs TLS`);
  }
  // TLS is on when asked for, or implied by an API key, certificates or a server name (Temporal Cloud, mTLS).
  const tlsWanted = tlsFlag ?? Boolean(apiKey || clientCert || ca || serverName);
  const tls: TemporalConfig['tls'] = tlsWanted
    ? {
        ...(serverName ? { serverNameOverride: serverName } : {}),
        ...(ca ? { serverRootCACertificate: ca } : {}),
        ...(clientCert ? { clientCertPair: clientCert } : {}),
      }
    : false;
  return {
    address,
    namespace: text(env, 'TEMPORAL_NAMESPACE', 'default'),
    taskQueue: text(env, 'TEMPORAL_TASK_QUEUE', 'sessionflow'),
    tls,
    ...(apiKey ? { apiKey } : {}),
  };
}

/**
 * The sandbox credentials are public: pointing a provider at a real base URL without setting
 * its credentials would sign and verify with them, so that is refused.
 */
function requireCredentialsOffSandbox(env: Env, baseUrl: string, secret: string): void {
  if (env[baseUrl] && !env[secret]) throw new ConfigError(secret, `must be set when ${baseUrl} is set (the default is the sandbox's public test secret)`);
}

function rate(value: number | undefined): { maxCallsPerSecond?: number } {
  return value === undefined ? {} : { maxCallsPerSecond: value };
}

export function loadConfig(env: Env = process.env): Config {
  const sandboxPort = port(env, 'SANDBOX_PORT', 8090);
  const sandboxBase = `http://127.0.0.1:${sandboxPort}`;
  const logLevel = text(env, 'LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  const config: Config = {
    temporal: temporalConfig(env),
    api: {
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
      ...(env.PUBLIC_URL ? { publicUrl: url(env, 'PUBLIC_URL', '') } : {}),
      ...(env.UNTAGGED_NONCES_UNTIL ? { untaggedNoncesUntil: instant(env, 'UNTAGGED_NONCES_UNTIL') } : {}),
    },
    sandbox: {
      host: text(env, 'SANDBOX_HOST', '127.0.0.1'),
      port: sandboxPort,
      ...(env.ATTESTR_WEBHOOK_URL ? { attestrWebhookUrl: url(env, 'ATTESTR_WEBHOOK_URL', '') } : {}),
      ...(webhookSecret(env, 'SANDBOX_INBOX_WEBHOOK_SECRET') ? { inboxWebhookSecret: webhookSecret(env, 'SANDBOX_INBOX_WEBHOOK_SECRET') } : {}),
    },
    accessLog: accessLog(env),
    ...(env.WORKER_METRICS_PORT ? { workerMetricsPort: port(env, 'WORKER_METRICS_PORT', 0) } : {}),
    ...(env.WORKER_HEALTH_PORT ? { workerHealthPort: port(env, 'WORKER_HEALTH_PORT', 9464) } : {}),
    workerMonitoringHost: ipAddress(env, 'WORKER_MONITORING_HOST', '127.0.0.1'),
    ...(env.WORKER_MAX_CACHED_WORKFLOWS
      ? { workerMaxCachedWorkflows: positiveInteger(env, 'WORKER_MAX_CACHED_WORKFLOWS', 1, MAX_CACHED_WORKFLOWS_LIMIT) }
      : {}),
    flowsDir: text(env, 'FLOWS_DIR', 'flows'),
    dataDir: text(env, 'DATA_DIR', '.data'),
    eventRules: eventRules(env),
    ...(env.UNSEALED_SESSIONS_UNTIL ? { unsealedSessionsUntil: instant(env, 'UNSEALED_SESSIONS_UNTIL') } : {}),
    ...(env.WORKFLOW_BUNDLE_PATH ? { workflowBundlePath: text(env, 'WORKFLOW_BUNDLE_PATH', '') } : {}),
    ...workerDeployment(env),
    logLevel: logLevel as Config['logLevel'],
    keys: {
      cacheSeconds: wholeNumber(env, 'SESSIONFLOW_KEY_CACHE_SECONDS', 30, 60),
      ...(keyStoreUrl(env) ? { keyStoreUrl: keyStoreUrl(env) } : {}),
      ...(keks(env) ? { keks: keks(env) } : {}),
      ...(keyStoreId(env) ? { keyStoreId: keyStoreId(env) } : {}),
      devKekDir: devKekDir(env),
    },
    codec: {
      host: text(env, 'CODEC_HOST', '127.0.0.1'),
      port: port(env, 'CODEC_PORT', 8081),
      uiOrigin: url(env, 'CODEC_UI_ORIGIN', 'http://localhost:8233'),
      allowedHosts: hostNames(env, 'CODEC_ALLOWED_HOSTS', ['localhost', '127.0.0.1', '::1']),
      trustedProxies: addressList(env, 'CODEC_TRUSTED_PROXIES'),
      ...(uiCapability(env) ? { uiCapability: uiCapability(env) } : {}),
    },
    providers: {
      // The defaults are the local provider sandboxes and their published test credentials.
      attestr: {
        baseUrl: url(env, 'ATTESTR_BASE_URL', `${sandboxBase}/attestr`),
        clientId: text(env, 'ATTESTR_CLIENT_ID', 'sandbox-client'),
        secret: text(env, 'ATTESTR_CLIENT_SECRET', 'sandbox-secret'),
        ...rate(positiveRate(env, 'ATTESTR_MAX_CALLS_PER_SECOND')),
      },
      finqware: {
        baseUrl: url(env, 'FINQWARE_BASE_URL', `${sandboxBase}/finqware`),
        clientId: text(env, 'FINQWARE_CLIENT_ID', 'sandbox-client'),
        secret: text(env, 'FINQWARE_CLIENT_APP_KEY', 'sandbox-app-key'),
        ...rate(positiveRate(env, 'FINQWARE_MAX_CALLS_PER_SECOND')),
      },
      // A provider's daily limit is waited out up to this long (default 6 hours), then the stage fails.
      quotaWaitCapMs: positiveInteger(env, 'PROVIDER_QUOTA_WAIT_CAP_SECONDS', 6 * 3600, 7 * 24 * 3600) * 1000,
      httpStageSecrets: stringMap(env, 'HTTP_STAGE_SECRETS'),
      // At most 14 s, so no device request is held longer than 15 s (the answer needs a moment too).
      pendingWaitSeconds: positiveInteger(env, 'PROVIDER_PENDING_WAIT_SECONDS', 10, 14),
    },
  };
  // The one shared token gave way to named operators: say so rather than ignore it.
  if (env.CODEC_OPERATOR_TOKEN) throw new ConfigError('CODEC_OPERATOR_TOKEN', 'is no longer read: configure named operators with SESSIONFLOW_OPERATORS_FILE (docs/security/operators-and-codec.md)');
  requireCredentialsOffSandbox(env, 'ATTESTR_BASE_URL', 'ATTESTR_CLIENT_SECRET');
  requireCredentialsOffSandbox(env, 'FINQWARE_BASE_URL', 'FINQWARE_CLIENT_APP_KEY');
  if (config.api.metricsPort === config.api.port) throw new ConfigError('API_METRICS_PORT', 'must differ from PORT (metrics stay off the public port)');
  if (config.codec.port === config.api.port) throw new ConfigError('CODEC_PORT', 'must differ from PORT (the codec server is for operators, not the public)');
  if (config.workerMetricsPort !== undefined && config.workerMetricsPort === config.workerHealthPort) {
    throw new ConfigError('WORKER_METRICS_PORT', 'must differ from WORKER_HEALTH_PORT (each is its own server)');
  }
  return config;
}

/**
 * For process entry points, the one exit of the startup contract: a ConfigError from `load`
 * stops the process with one line on stderr naming the variable, and exit code 2.
 */
export function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sessionflow: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** The configuration alone, for processes that need nothing else (the sandbox, the bench peer). */
export function loadConfigOrExit(env: Env = process.env): Config {
  return exitOnConfigError(() => loadConfig(env));
}
