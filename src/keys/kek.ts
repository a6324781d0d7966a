/**
 * Key-encryption keys: data keys are stored only wrapped (AES-256-GCM) under a KEK. Several
 * KEKs may be configured so old wraps still open during a rotation; the first one wraps.
 * A KEK is 32 random bytes, given as 64 hex characters or base64.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKek } from '../util/key-formats';
import { KeyStoreUnavailableError } from './errors';

export interface Kek {
  /** A short fingerprint naming which KEK wrapped a record (not secret: a hash prefix). */
  id: string;
  key: Buffer;
}

/**
 * The embedded default's KEK lives outside the data folder (Config keys.devKekDir), so a copy
 * of the folder holds wrapped keys only: with the KEK beside them, anyone who copied it could
 * read a shredded session's data from an older copy of its key. The folder keeps only `kek-id`,
 * the name (not a secret) of its KEK in devKekDir.
 */
export const DEV_KEK_ID_FILE = 'kek-id';
/** Where the KEK was generated before it moved out; a folder from then has it moved once. */
const LEGACY_KEK_FILE = 'kek';

/** Hard links are missing on some filesystems (some network and container volumes). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** Creates `file` with `text` unless it exists, never visible half written; false when another process's file was there first. */
function createOnce(file: string, text: string): boolean {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_LINKS.has(code)) throw err;
    try {
      writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw inner;
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * The embedded default: one KEK per data folder, generated once in `devKekDir` (mode 0600) by
 * the init step (src/keys/init.ts), the only place one is made. A folder from before the KEK
 * moved out has its `kek` moved once. Beyond one machine, set SESSIONFLOW_KEK or
 * SESSIONFLOW_KEK_FILE instead.
 */
export function createEmbeddedKek(dataDir: string, devKekDir: string): Kek {
  const idFile = join(dataDir, DEV_KEK_ID_FILE);
  const legacy = join(dataDir, LEGACY_KEK_FILE);
  if (!existsSync(idFile)) {
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(devKekDir, { recursive: true, mode: 0o700 });
    const id = randomBytes(16).toString('hex');
    // The KEK first, then the id naming it: whoever reads the id finds its KEK.
    const text = existsSync(legacy) ? readFileSync(legacy, 'utf8') : `${randomBytes(32).toString('hex')}\n`;
    createOnce(join(devKekDir, id), text);
    if (!createOnce(idFile, `${id}\n`)) rmSync(join(devKekDir, id), { force: true });
  }
  const kek = embeddedKek(dataDir, devKekDir);
  // Moved out: the copy beside the keys goes (only when it is the same KEK, so none is ever lost).
  if (existsSync(legacy) && parseKek(readFileSync(legacy, 'utf8'))?.equals(kek.key)) rmSync(legacy, { force: true });
  return kek;
}

/** Whether this data folder has a development KEK (named by `kek-id`, or still beside the keys from before it moved out). */
export function hasEmbeddedKek(dataDir: string): boolean {
  return existsSync(join(dataDir, DEV_KEK_ID_FILE)) || existsSync(join(dataDir, LEGACY_KEK_FILE));
}

/**
 * The generated KEK, for the processes: they never make one. A folder without one was not
 * initialised; a folder whose KEK is not in devKekDir (copied from another machine or user) is
 * unavailable, never given a new KEK.
 */
export function embeddedKek(dataDir: string, devKekDir: string): Kek {
  const idFile = join(dataDir, DEV_KEK_ID_FILE);
  if (!existsSync(idFile)) throw new KeyStoreUnavailableError('the data directory has no generated KEK: run `npm run keys:init`');
  const id = readFileSync(idFile, 'utf8').trim();
  if (!/^[0-9a-f]{32}$/.test(id)) throw new KeyStoreUnavailableError(`the data directory's ${DEV_KEK_ID_FILE} is damaged`);
  const path = join(devKekDir, id);
  if (!existsSync(path)) throw new KeyStoreUnavailableError("the data directory's development KEK is not in SESSIONFLOW_DEV_KEK_DIR (was the folder copied from elsewhere?)");
  chmodSync(path, 0o600);
  const key = parseKek(readFileSync(path, 'utf8'));
  if (!key) throw new KeyStoreUnavailableError('the generated development KEK file is damaged');
  return kekOf(key);
}

export function kekOf(key: Buffer): Kek {
  return { id: createHash('sha256').update('sessionflow-kek').update(key).digest('hex').slice(0, 16), key };
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
