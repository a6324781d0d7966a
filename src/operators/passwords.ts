/**
 * Operator passwords, kept only as a slow hash: `scrypt$N$r$p$<salt>$<hash>` (salt and hash
 * base64url), from node:crypto's scrypt. The cost is N=2^15, r=8, p=1: 32 MiB and about 0.1 s
 * a guess on a server core, so a stolen registry is slow to guess through. A password is checked
 * at sign-in only; the signed session cookie (./sessions.ts) carries the operator after that.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Shortest password hash-password accepts: long enough that the slow hash is not the only guard. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;
const FORMAT = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{43})$/;

export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function derive(password: string, salt: Buffer, cost: Pick<ScryptHash, 'N' | 'r' | 'p'>): Promise<Buffer> {
  // maxmem above the 128·N·r bytes scrypt needs, which the default (32 MiB) just misses.
  const options: ScryptOptions = { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, HASH_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Parses a stored hash; null when it is not one this code writes (N a power of two from 2^14 to 2^20). */
export function parseScryptHash(text: string): ScryptHash | null {
  const match = FORMAT.exec(text);
  if (!match) return null;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (N < 2 ** 14 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  return { N, r, p, salt: Buffer.from(match[4], 'base64url'), hash: Buffer.from(match[5], 'base64url') };
}

/** A password's problem for hash-password, or null when it may be hashed. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `a password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}

/** The registry's `passwordScrypt` value for a password, with a fresh salt. */
export async function hashPassword(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new Error(problem);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, SCRYPT_COST);
  return `scrypt$${SCRYPT_COST.N}$${SCRYPT_COST.r}$${SCRYPT_COST.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Whether the password matches the stored hash (constant-time compare; an over-long password never is). */
export async function checkPassword(stored: ScryptHash, password: string): Promise<boolean> {
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) return false;
  const derived = await derive(password, stored.salt, stored);
  return timingSafeEqual(derived, stored.hash);
}

/** What a sign-in for an unknown name or one without a password is checked against, so it costs the same time. */
export const DECOY_HASH: ScryptHash = { ...SCRYPT_COST, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) };
