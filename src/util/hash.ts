/**
 * Content hashes: request hashes for Idempotency-Key checks, step update ids, snapshot ids.
 * Equal JSON values hash the same whatever their key order (see canonicalJson).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './json';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Lowercase hex SHA-256 of the value's canonical JSON. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
