/**
 * Key-encryption keys: data keys are stored only wrapped (AES-256-GCM) under a KEK. Several
 * KEKs may be configured so old wraps still open during a rotation; the first one wraps.
 * A KEK is 32 random bytes, given as 64 hex characters or base64.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyStoreUnavailableError } from './errors';

export interface Kek {
  /** A short fingerprint naming which KEK wrapped a record (not secret: a hash prefix). */
  id: string;
  key: Buffer;
}

/** Where the embedded default keeps its generated KEK (mode 0600). */
export const DEFAULT_KEK_FILE = 'kek';

export function parseKek(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    const key = Buffer.from(value, 'base64');
    return key.length === 32 ? key : null;
  }
  return null;
}

export function kekOf(key: Buffer): Kek {
  return { id: createHash('sha256').update('sessionflow-kek').update(key).digest('hex').slice(0, 16), key };
}

/**
 * The embedded default: one KEK generated once under the data directory by the init step
 * (src/keys/init.ts), readable by the owner only. Beyond one machine, set SESSIONFLOW_KEK or
 * SESSIONFLOW_KEK_FILE instead.
 */
export function createEmbeddedKek(dataDir: string): Kek {
  const path = join(dataDir, DEFAULT_KEK_FILE);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(path, 0o600);
  return embeddedKek(dataDir);
}

/** The generated KEK, for the processes: they never make one (a missing one is a data directory not initialised). */
export function embeddedKek(dataDir: string): Kek {
  const path = join(dataDir, DEFAULT_KEK_FILE);
  if (!existsSync(path)) throw new KeyStoreUnavailableError(`the data directory has no generated KEK (${DEFAULT_KEK_FILE}): run \`npm run keys:init\``);
  const key = parseKek(readFileSync(path, 'utf8'));
  if (!key) throw new KeyStoreUnavailableError(`the generated KEK file ${DEFAULT_KEK_FILE} in the data directory is damaged`);
  return kekOf(key);
}

const WRAP_VERSION = 1;

export interface WrappedKey {
  v: number;
  kek: string;
  iv: string;
  /** Ciphertext followed by the 16-byte GCM tag, base64. */
  data: string;
}

/** Wraps a data key; the key id is the additional data, so a record cannot be moved to another id. */
export function wrapKey(kek: Kek, keyId: string, key: Buffer): WrappedKey {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv);
  cipher.setAAD(Buffer.from(keyId));
  const data = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
  return { v: WRAP_VERSION, kek: kek.id, iv: iv.toString('base64'), data: data.toString('base64') };
}

export function unwrapKey(keks: readonly Kek[], keyId: string, wrapped: WrappedKey): Buffer {
  const kek = keks.find((candidate) => candidate.id === wrapped.kek);
  if (!kek || wrapped.v !== WRAP_VERSION) throw new KeyStoreUnavailableError('a data key is wrapped under a KEK that is not configured');
  try {
    const data = Buffer.from(wrapped.data, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', kek.key, Buffer.from(wrapped.iv, 'base64'));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const key = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    if (key.length !== 32) throw new Error('length');
    return key;
  } catch {
    throw new KeyStoreUnavailableError('a data key does not unwrap under its KEK');
  }
}
