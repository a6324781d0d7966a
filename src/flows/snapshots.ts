/**
 * Snapshot ids are derived from the snapshot's content, so a published snapshot cannot be
 * rewritten in place without the loader noticing: editing it changes the id it should have.
 */
import { contentHash } from '../util/hash';
import type { FlowMachine } from './core/types';

/** A UUID-shaped id from the SHA-256 of the machine's canonical JSON. */
export function snapshotIdOf(machine: FlowMachine): string {
  const hex = contentHash(machine);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
