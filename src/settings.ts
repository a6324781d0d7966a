/**
 * The startup contract: every setting a process needs beyond the environment variables of
 * src/config (the tenant clients, the flows and the event rules that start them, the device-token
 * secret) is loaded and checked here, once, before the process serves anything. Whatever is
 * wrong is a ConfigError naming its variable; entry points stop with `exitOnConfigError`.
 */
import { ConfigError, loadConfig, type Config } from './config';
import { embeddedSecret } from './util/secret-file';
import { FlowCatalog, FlowLoadError } from './flows/catalog';
import { FlowWatcher } from './flows/watch';
import { loadClients, type LoadedClients } from './tenants/registry';
import { loadOperators, type LoadedOperators } from './operators/load';
import { loadOidcConfig, type OidcConfig } from './operators/oidc';
import { loadSessionKey } from './operators/sessions';
import { tenantPageUrls } from './util/tenant-pages';

type Env = Record<string, string | undefined>;

export interface WorkerSettings {
  config: Config;
  clients: LoadedClients;
}

export interface ApiSettings extends WorkerSettings {
  catalog: FlowCatalog;
  /** Keeps `catalog` in step with the flows directory once started (src/flows/watch.ts). */
  flowWatcher: FlowWatcher;
  /** Signs device client credentials; every api replica needs the same one. */
  deviceTokenSecret: string;
}

/** The worker's settings: the configuration and the clients it signs webhooks for. */
export function loadWorkerSettings(env: Env = process.env): WorkerSettings {
  const config = loadConfig(env);
  return { config, clients: loadTenantClients(config, env) };
}

/** The clients; the development client's webhooks and returns go to the sandbox's pages by default. */
export function loadTenantClients(config: Config, env: Env = process.env): LoadedClients {
  return loadClients(env, config.dataDir, tenantPageUrls(config.sandbox.port));
}

/** The api's settings: the worker's, the flows (with the event rules checked against them) and the device-token secret. */
export function loadApiSettings(env: Env = process.env): ApiSettings {
  const { config, clients } = loadWorkerSettings(env);
  const flowWatcher = loadFlows(config);
  checkEventRules(config, flowWatcher.catalog);
  return { config, clients, catalog: flowWatcher.catalog, flowWatcher, deviceTokenSecret: loadDeviceTokenSecret(env, config.dataDir) };
}

export interface CodecSettings {
  config: Config;
  operators: LoadedOperators;
  /** Signs operators' session cookies (SESSIONFLOW_OPERATOR_SESSION_KEY / _FILE, or the development key). */
  sessionKey: Buffer;
  /** OIDC access tokens as operator credentials (SESSIONFLOW_OIDC_*), or null. */
  oidc: OidcConfig | null;
}

/** The codec server's settings: the configuration and the operators, the UI capability's operator among them. */
export function loadCodecSettings(env: Env = process.env): CodecSettings {
  const config = loadConfig(env);
  const operators = loadOperators(env, config.dataDir);
  const capability = config.codec.uiCapability;
  if (capability && !operators.registry.byName(capability.operator)) {
    throw new ConfigError('CODEC_UI_CAPABILITY', `names operator "${capability.operator}", who is not configured`);
  }
  return { config, operators, sessionKey: loadSessionKey(env, config.dataDir, config.keys.devKekDir), oidc: loadOidcConfig(env) };
}

/** The valid flow files; an invalid one is reported (once the api's logger is attached) and skipped. */
function loadFlows(config: Config): FlowWatcher {
  const watcher = new FlowWatcher(config.flowsDir, FlowCatalog.empty());
  try {
    watcher.scan();
  } catch (err) {
    if (err instanceof FlowLoadError) throw new ConfigError('FLOWS_DIR', 'names a directory that cannot be read');
    throw err;
  }
  return watcher;
}

/** A rule that starts sessions must name a flow that can run. */
function checkEventRules(config: Config, catalog: FlowCatalog): void {
  for (const rule of config.eventRules) {
    if (rule.action !== 'start') continue;
    const resolved = catalog.resolve(rule.flowId, rule.snapshot);
    if (!resolved.ok) {
      throw new ConfigError('SESSIONFLOW_EVENT_RULES', `has a rule for "${rule.type}" that starts a flow that cannot run (${resolved.reason})`);
    }
  }
}

/**
 * DEVICE_TOKEN_SECRET, or for the embedded default a random one kept in `<dataDir>` (so
 * credentials survive a restart of `make start`). Every api replica must share the same one.
 */
export function loadDeviceTokenSecret(env: Record<string, string | undefined>, dataDir: string): string {
  const configured = env.DEVICE_TOKEN_SECRET;
  if (configured) {
    if (configured.length < 32) throw new ConfigError('DEVICE_TOKEN_SECRET', 'must have at least 32 characters');
    return configured;
  }
  return embeddedSecret(dataDir, 'device-token-secret');
}
