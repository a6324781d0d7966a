/**
 * Plain-JSON helpers with no I/O and no Node built-ins, so workflow code may use them too.
 */

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted at every level: equal values always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Set (not enumerable, so JSON and spreads never see it) on a value decoded from a payload the
 * codec did not decrypt: `unencrypted`, or `undecryptable` (then the value is `{}`). See
 * src/keys/payload-converter.ts, which sets it, and src/workflows/session/inbound.ts.
 */
const NOT_DECRYPTED = Symbol.for('sessionflow.not-decrypted');

export type NotDecrypted = 'unencrypted' | 'undecryptable';

export function markNotDecrypted(value: unknown, why: NotDecrypted): void {
  if (typeof value === 'object' && value !== null && Object.isExtensible(value)) Object.defineProperty(value, NOT_DECRYPTED, { value: why });
}

/** Why `value` was not decrypted, or null when it was (or is not an object, which cannot be marked). */
export function notDecryptedBecause(value: unknown): NotDecrypted | null {
  if (typeof value !== 'object' || value === null) return null;
  return ((value as Record<symbol, unknown>)[NOT_DECRYPTED] as NotDecrypted | undefined) ?? null;
}
