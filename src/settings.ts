/**
 * The startup contract: every setting a process needs beyond the environment variables of
 * config.ts (the tenant clients, the flows and the event rules that start them, the device-token
 * secret) is loaded and checked here, once, before the process serves anything. Whatever is
 * wrong is a ConfigError naming its variable; entry points stop with `exitOnConfigError`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config';
import { FlowCatalog, FlowLoadError } from './flows/catalog';
import { loadClients, type LoadedClients } from './tenants/registry';

type Env = Record<string, string | undefined>;

export interface WorkerSettings {
  config: Config;
  clients: LoadedClients;
}

export interface ApiSettings extends WorkerSettings {
  catalog: FlowCatalog;
  /** Signs device client credentials; every api replica needs the same one. */
  deviceTokenSecret: string;
}

/** The worker's settings: the configuration and the clients it signs webhooks for. */
export function loadWorkerSettings(env: Env = process.env): WorkerSettings {
  const config = loadConfig(env);
  return { config, clients: loadClients(env, config.dataDir) };
}

/** The api's settings: the worker's, the flows (with the event rules checked against them) and the device-token secret. */
export function loadApiSettings(env: Env = process.env): ApiSettings {
  const { config, clients } = loadWorkerSettings(env);
  const catalog = loadFlows(config);
  checkEventRules(config, catalog);
  return { config, clients, catalog, deviceTokenSecret: loadDeviceTokenSecret(env, config.dataDir) };
}

function loadFlows(config: Config): FlowCatalog {
  try {
    return FlowCatalog.load(config.flowsDir);
  } catch (err) {
    if (err instanceof FlowLoadError) throw new ConfigError('FLOWS_DIR', `holds a flow that cannot be loaded: ${err.message}`);
    throw err;
  }
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
  const file = join(dataDir, 'device-token-secret');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(file, 'utf8').trim();
}
