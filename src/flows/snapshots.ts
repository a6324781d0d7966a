/**
 * Snapshot ids are derived from the snapshot's content, so a published snapshot cannot be
 * rewritten in place without the loader noticing: editing it changes the id it should have.
 */
import { createHash } from 'node:crypto';
import type { FlowMachine } from './types';

/** JSON with object keys sorted at every level: the same machine always hashes the same. */
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

/** A UUID-shaped id from the SHA-256 of the machine's canonical JSON. */
export function snapshotIdOf(machine: FlowMachine): string {
  const hex = createHash('sha256').update(canonicalJson(machine)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
