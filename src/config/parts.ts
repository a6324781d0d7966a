/**
 * The slices of the configuration that need more than one reader: the keys, the codec server,
 * the providers, the event rules and Worker Versioning.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseJsonArray } from '../util/config-error';
import { parseKek, STORE_ID_PATTERN } from '../util/key-formats';
import { addressList, fileContents, flag, hostNames, port, positiveInteger, positiveRate, stringMap, text, url, wholeNumber, type Env } from './read';
import type { AuditConfigSlice, CodecConfig, Config, EventRule, FunnelConfigSlice, KeysConfig, ProvidersConfig } from './types';

export function eventRules(env: Env): EventRule[] {
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
export function accessLog(env: Env): Config['accessLog'] {
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

export function workerDeployment(env: Env): Pick<Config, 'workerDeployment'> {
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
/**
 * The sandbox credentials are public: pointing a provider at a real base URL without setting
 * its credentials would sign and verify with them, so that is refused.
 */
export function requireCredentialsOffSandbox(env: Env, baseUrl: string, secret: string): void {
  if (env[baseUrl] && !env[secret]) throw new ConfigError(secret, `must be set when ${baseUrl} is set (the default is the sandbox's public test secret)`);
}

function rate(value: number | undefined): { maxCallsPerSecond?: number } {
  return value === undefined ? {} : { maxCallsPerSecond: value };
}

export function keysConfig(env: Env): KeysConfig {
  return {
    cacheSeconds: wholeNumber(env, 'SESSIONFLOW_KEY_CACHE_SECONDS', 30, 60),
    ...(keyStoreUrl(env) ? { keyStoreUrl: keyStoreUrl(env) } : {}),
    ...(keks(env) ? { keks: keks(env) } : {}),
    ...(keyStoreId(env) ? { keyStoreId: keyStoreId(env) } : {}),
    devKekDir: devKekDir(env),
  };
}

/** A 256-bit key as a KEK is written (SESSIONFLOW_AUDIT_KEY, or a file SESSIONFLOW_AUDIT_KEY_FILE names); the message never repeats it. */
function auditKey(env: Env): Buffer | undefined {
  if (env.SESSIONFLOW_AUDIT_KEY && env.SESSIONFLOW_AUDIT_KEY_FILE) throw new ConfigError('SESSIONFLOW_AUDIT_KEY', 'and SESSIONFLOW_AUDIT_KEY_FILE are both set; set only one of them');
  const name = env.SESSIONFLOW_AUDIT_KEY ? 'SESSIONFLOW_AUDIT_KEY' : 'SESSIONFLOW_AUDIT_KEY_FILE';
  const raw = env.SESSIONFLOW_AUDIT_KEY || fileContents(env, 'SESSIONFLOW_AUDIT_KEY_FILE')?.toString('utf8');
  if (raw === undefined) return undefined;
  const key = parseKek(raw);
  if (!key) throw new ConfigError(name, 'must be 32 bytes as 64 hex characters or base64');
  return key;
}

/** The audit trail: its store, its chain key and how long records are kept (at least a year by default). */
export function auditConfig(env: Env): AuditConfigSlice {
  const raw = env.SESSIONFLOW_AUDIT_URL;
  if (raw && !/^postgres(ql)?:\/\/\S+$/.test(raw)) throw new ConfigError('SESSIONFLOW_AUDIT_URL', 'must be a postgres:// URL');
  const key = auditKey(env);
  return {
    ...(raw ? { url: raw } : {}),
    ...(key ? { key } : {}),
    retentionDays: positiveInteger(env, 'SESSIONFLOW_AUDIT_RETENTION_DAYS', 400, 36_500),
  };
}

/** The funnel's store, and how long it keeps session ends: at least 90 days, so a quarter always compares. */
export function funnelConfig(env: Env): FunnelConfigSlice {
  const url = env.SESSIONFLOW_FUNNEL_URL;
  if (url && !/^postgres(ql)?:\/\/\S+$/.test(url)) throw new ConfigError('SESSIONFLOW_FUNNEL_URL', 'must be a postgres:// URL');
  const retentionDays = positiveInteger(env, 'SESSIONFLOW_FUNNEL_RETENTION_DAYS', 400, 36_500);
  if (retentionDays < 90) throw new ConfigError('SESSIONFLOW_FUNNEL_RETENTION_DAYS', `must be at least 90 (got "${retentionDays}")`);
  return { ...(url ? { url } : {}), retentionDays };
}

export function codecConfig(env: Env): CodecConfig {
  return {
    host: text(env, 'CODEC_HOST', '127.0.0.1'),
    port: port(env, 'CODEC_PORT', 8081),
    uiOrigin: url(env, 'CODEC_UI_ORIGIN', 'http://localhost:8233'),
    allowedHosts: hostNames(env, 'CODEC_ALLOWED_HOSTS', ['localhost', '127.0.0.1', '::1']),
    trustedProxies: addressList(env, 'CODEC_TRUSTED_PROXIES'),
    ...(uiCapability(env) ? { uiCapability: uiCapability(env) } : {}),
  };
}

/** `sandboxBase`: where the local provider sandboxes answer, the providers' default. */
export function providersConfig(env: Env, sandboxBase: string): ProvidersConfig {
  return {
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
  };
}
