/**
 * Signed operator sessions: what a sign-in (token, password or OIDC) gives the browser, so the
 * UI's many /decode calls cost no scrypt and no token lookup. The cookie's value is
 * `s1.<payload>.<mac>`: the payload (base64url JSON) names the operator, the role and the expiry;
 * the MAC is an HMAC-SHA256 of it under the session key (SESSIONFLOW_OPERATOR_SESSION_KEY or
 * _FILE; in development a key beside the development KEKs). A changed byte, another key or a
 * passed expiry is no session. The registry is asked again on each request, so an operator
 * removed from it, or whose role changed, loses the session at once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../util/config-error';
import { parseKek } from '../util/key-formats';
import { embeddedSecret } from '../util/secret-file';
import { isOperatorRole, type OperatorRole } from './roles';
import { OPERATOR_NAME_PATTERN, type Operator } from './registry';

/** How long a signed session lasts: one working day. */
export const SESSION_LIFETIME_SECONDS = 8 * 3600;
const PREFIX = 's1';
const MAC_CONTEXT = 'sessionflow-operator-session-v1\u0000';

export interface OperatorSession extends Operator {
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** How the operator signed in. */
  via: 'token' | 'password' | 'oidc';
}

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(MAC_CONTEXT).update(payload).digest();

export function signSession(key: Buffer, operator: Operator, via: OperatorSession['via'], now = Date.now()): { value: string; maxAge: number } {
  const session: OperatorSession = { name: operator.name, role: operator.role, via, exp: Math.floor(now / 1000) + SESSION_LIFETIME_SECONDS };
  const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
  return { value: `${PREFIX}.${payload}.${mac(key, payload).toString('base64url')}`, maxAge: SESSION_LIFETIME_SECONDS };
}

/** The session a cookie value carries, or null (not one, tampered, another key, expired). */
export function openSession(key: Buffer, value: string, now = Date.now()): OperatorSession | null {
  const [prefix, payload, given, ...rest] = value.split('.');
  if (prefix !== PREFIX || !payload || !given || rest.length > 0) return null;
  const expected = mac(key, payload);
  const presented = Buffer.from(given, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return null;
  let session: Partial<OperatorSession>;
  try {
    session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<OperatorSession>;
  } catch {
    return null;
  }
  const { name, role, exp, via } = session;
  if (typeof name !== 'string' || !OPERATOR_NAME_PATTERN.test(name) || !isOperatorRole(role) || typeof exp !== 'number' || exp * 1000 <= now) return null;
  if (via !== 'token' && via !== 'password' && via !== 'oidc') return null;
  return { name, role: role as OperatorRole, exp, via };
}

type Env = Record<string, string | undefined>;
const DEV_KEY_ID_FILE = 'operator-session-key-id';

/** The development session key: like the development audit key, in devKeyDir, named by an id in dataDir. */
function devSessionKey(dataDir: string, devKeyDir: string): Buffer {
  const id = embeddedSecret(dataDir, DEV_KEY_ID_FILE, () => randomBytes(16).toString('hex'));
  if (!/^[0-9a-f]{32}$/.test(id)) throw new ConfigError(`the data directory's ${DEV_KEY_ID_FILE}`, 'is damaged');
  const path = join(devKeyDir, `operator-session-${id}`);
  if (!existsSync(path)) {
    mkdirSync(devKeyDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError('the development operator session key', 'cannot be created');
    }
  }
  chmodSync(path, 0o600);
  const key = parseKek(readFileSync(path, 'utf8'));
  if (!key) throw new ConfigError('the development operator session key', 'is damaged');
  return key;
}

/** SESSIONFLOW_OPERATOR_SESSION_KEY or _FILE (32 bytes, hex or base64, as a KEK), else the development key. */
export function loadSessionKey(env: Env, dataDir: string, devKeyDir: string): Buffer {
  const inline = env.SESSIONFLOW_OPERATOR_SESSION_KEY;
  const file = env.SESSIONFLOW_OPERATOR_SESSION_KEY_FILE;
  if (inline && file) throw new ConfigError('SESSIONFLOW_OPERATOR_SESSION_KEY', 'and SESSIONFLOW_OPERATOR_SESSION_KEY_FILE are both set; set only one of them');
  if (!inline && !file) return devSessionKey(dataDir, devKeyDir);
  const name = inline ? 'SESSIONFLOW_OPERATOR_SESSION_KEY' : 'SESSIONFLOW_OPERATOR_SESSION_KEY_FILE';
  let raw = inline;
  if (!raw) {
    try {
      raw = readFileSync(file!, 'utf8');
    } catch {
      throw new ConfigError(name, 'names a file that cannot be read');
    }
  }
  const key = parseKek(raw);
  if (!key) throw new ConfigError(name, 'must be 32 bytes as 64 hex characters or base64');
  return key;
}
