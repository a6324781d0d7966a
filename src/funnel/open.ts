/**
 * The configured funnel store: PostgreSQL when SESSIONFLOW_FUNNEL_URL names one (the cluster),
 * else files under `<dataDir>/funnel/` (one machine). The worker writes (`openFunnelWriter`,
 * which also drops what is past the retention); the console reads (`openFunnelSource`, read-only).
 */
import type { Config } from '../config/types';
import { FileFunnelStore } from './file-store';
import { PostgresFunnelStore } from './pg-store';
import { checkQuery, funnelReport } from './query';
import { funnelKey, type FunnelRecord } from './record';
import type { FunnelQuery, FunnelReport, FunnelSource } from './report';
import type { FunnelStore } from './store';
import type { SessionEnd } from '../contract/funnel';

const DAY_MS = 24 * 3600 * 1000;
/** How often a writer drops what is past the retention: at most once an hour, on a write. */
const PRUNE_EVERY_MS = 3600 * 1000;

export type FunnelConfig = Pick<Config, 'dataDir' | 'funnel'>;

export function openFunnelStore(config: FunnelConfig, readOnly = false): FunnelStore {
  return config.funnel.url ? new PostgresFunnelStore(config.funnel.url, readOnly) : new FileFunnelStore(config.dataDir, readOnly);
}

/** Funnels from a store: what the console reads. */
export class FunnelReader implements FunnelSource {
  constructor(private readonly store: FunnelStore) {}

  /** Throws FunnelQueryInvalid for a query that is not one (nothing is read). */
  async funnel(query: FunnelQuery): Promise<FunnelReport> {
    checkQuery(query);
    return funnelReport(query, await this.store.ends(query));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** The configured store, read-only: for the console (the codec server's process). */
export function openFunnelSource(config: FunnelConfig): FunnelReader {
  return new FunnelReader(openFunnelStore(config, true));
}

/** The worker's side: writes each session's end once, and keeps the store within its retention. */
export class FunnelWriter {
  private prunedAt = 0;

  constructor(
    private readonly store: FunnelStore,
    readonly retentionDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Writes the end of the session `workflowId`: true when it was new (its metrics count then, once). */
  async write(workflowId: string, end: SessionEnd): Promise<{ record: FunnelRecord; fresh: boolean }> {
    const record: FunnelRecord = { key: funnelKey(workflowId), ...end };
    const fresh = await this.store.write(record);
    await this.pruneNowAndThen();
    return { record, fresh };
  }

  /** A failed prune waits for the next hour: it never fails a write. */
  private async pruneNowAndThen(): Promise<void> {
    if (this.now() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = this.now();
    await this.store.prune(this.now() - this.retentionDays * DAY_MS).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

export function openFunnelWriter(config: FunnelConfig): FunnelWriter {
  return new FunnelWriter(openFunnelStore(config), config.funnel.retentionDays);
}
