/**
 * The one interface both audit stores implement (file-store.ts on one machine, pg-store.ts in
 * the cluster). A store keeps records in seq order and only appends; `append` runs under the
 * store's one writers' lock, so every writer (api replicas, the worker, the codec server, the
 * CLI) extends the same chain: it reads the head, builds the next record and writes it before
 * anyone else may read the head.
 */
import type { AuditQuery, AuditRecord } from './record';

export interface AuditStore {
  /** Under the writers' lock: `next(head)` builds the record after the head (null: empty store), which is then written. */
  append(next: (head: { seq: number; mac: string } | null) => AuditRecord[]): Promise<AuditRecord[]>;
  /** Records matching the query, oldest first. */
  query(query: AuditQuery & { limit: number }): Promise<AuditRecord[]>;
  /** Every record as stored, oldest first (unreadable ones as they are), for verify. */
  all(): Promise<unknown[]>;
  /** The first record at or after `at` (ISO), or null: where a prune may cut. */
  firstAtOrAfter(at: string): Promise<AuditRecord | null>;
  /** A record by seq, or null. */
  bySeq(seq: number): Promise<AuditRecord | null>;
  /** Removes records with seq below `firstKept` (pruning only: after its checkpoint is written). */
  removeBefore(firstKept: number): Promise<number>;
  close(): Promise<void>;
}
