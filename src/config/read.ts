/**
 * Readers of one environment variable each: a value, its default when unset, or a ConfigError
 * naming the variable. Messages never repeat a value that may be a secret or a path.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from '../util/config-error';
import { isWebhookSecret, WEBHOOK_SECRET_RULE } from '../util/webhook-secret';

export type Env = Record<string, string | undefined>;

export function text(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value.trim() !== value) throw new ConfigError(name, 'must not have leading or trailing spaces');
  return value;
}

/** An ISO 8601 date and time with its offset (`2030-01-31T00:00:00Z`), as unix ms. */
export function instant(env: Env, name: string): number {
  const raw = text(env, name, '');
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw) || Number.isNaN(ms)) {
    throw new ConfigError(name, `must be an ISO 8601 date and time with its offset, like 2030-01-31T00:00:00Z (got "${raw}")`);
  }
  return ms;
}

export function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 65535) {
    throw new ConfigError(name, `must be a port number from 1 to 65535 (got "${raw}")`);
  }
  return value;
}

export function positiveInteger(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from 1 to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

/** A rate: a positive number, fractions allowed (0.5 is one call every two seconds). */
export function positiveRate(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) <= 0 || Number(raw) > 100_000) {
    throw new ConfigError(name, `must be a number of calls per second above 0 and at most 100000 (got "${raw}")`);
  }
  return Number(raw);
}

/** A postgres:// URL; the message never repeats the value (it may hold a password). */
export function postgresUrl(env: Env, name: string): string | undefined {
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
export function addressList(env: Env, name: string): string[] {
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

export function wholeNumber(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new ConfigError(name, `must be a whole number from 0 to ${max} (got "${raw}")`);
  return Number(raw);
}

export function flag(env: Env, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

export function url(env: Env, name: string, fallback: string): string {
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
export function stringMap(env: Env, name: string): Record<string, string> {
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
export function fileContents(env: Env, name: string): Buffer | undefined {
  const path = env[name];
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch {
    // The path may name a user's home directory: say which variable, not where it points.
    throw new ConfigError(name, 'names a file that cannot be read');
  }
}
/** A Standard Webhooks secret; the message never repeats the value. */
export function webhookSecret(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!isWebhookSecret(raw)) throw new ConfigError(name, `must be ${WEBHOOK_SECRET_RULE}`);
  return raw;
}
/** An IP address to listen on (the SDK's metrics exporter takes no host name). */
export function ipAddress(env: Env, name: string, fallback: string): string {
  const value = text(env, name, fallback);
  if (isIP(value) === 0) throw new ConfigError(name, `must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0 (got "${value}")`);
  return value;
}

/** Host names, comma-separated: letters, digits, dots and dashes, or an IP address. */
export function hostNames(env: Env, name: string, fallback: string[]): string[] {
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
