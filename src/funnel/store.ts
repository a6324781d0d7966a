/**
 * The one interface both funnel stores implement (file-store.ts on one machine, pg-store.ts in
 * the cluster): records of session ends, appended once per key and never changed, read by
 * tenant, flow, version and the time they ended, dropped whole once past the retention.
 */
import type { FunnelQuery } from './report';
import type { FunnelRecord } from './record';

export interface FunnelStore {
  /** Keeps `record` unless one with its key is kept already: true when it was new. Only a read-write store writes. */
  write(record: FunnelRecord): Promise<boolean>;
  /** The records of the query's tenant, flow and version that ended in [from, to), one per key. */
  ends(query: FunnelQuery): Promise<FunnelRecord[]>;
  /** Drops the records that ended before `before` (Unix ms); how many went (the file store: per whole day). */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}
