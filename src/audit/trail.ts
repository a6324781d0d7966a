/**
 * The audit trail every part appends to (docs/security/operators-and-audit.md).
 *
 * Fail closed, in this order:
 *   1. `intent`, written and flushed before anything happens: if it cannot be written,
 *      AuditUnavailableError, and the action does not happen (a decode answers 503, a result
 *      read 503 with code 5033);
 *   2. the action;
 *   3. `outcome` (ok, refused or failed), naming its intent. If it cannot be written after the
 *      action ran, the caller still gets AuditUnavailableError: a read's answer is withheld.
 * An intent with no outcome is what a crash (or an outage) between 1 and 3 leaves: `verify`
 * lists it as incomplete, not broken; the action may or may not have happened.
 * What is one moment (a refused credential, a sign-in) is one `event` record: `record`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKek } from '../util/key-formats';
import { embeddedSecret } from '../util/secret-file';
import { FileAuditStore } from './file-store';
import { PostgresAuditStore } from './pg-store';
import {
  AuditUnavailableError,
  chainRecord,
  checkEntry,
  checkQuery,
  genesisFields,
  verifyChain,
  type AuditEntry,
  type AuditOutcome,
  type AuditQuery,
  type AuditRecord,
  type VerifyReport,
} from './record';
import type { AuditStore } from './store';
import type { Config } from '../config';

export { AuditEntryError, AuditUnavailableError } from './record';
export type { AuditEntry, AuditQuery, AuditRecord, VerifyReport } from './record';

const DAY_MS = 24 * 3600 * 1000;

export interface AuditConfig {
  dataDir: string;
  /** postgres:// (SESSIONFLOW_AUDIT_URL): the PostgreSQL store; absent: `<dataDir>/audit/`. */
  url?: string;
  /** SESSIONFLOW_AUDIT_KEY / _FILE; absent: the development key generated in devKeyDir. */
  key?: Buffer;
  /** Where the development audit key lives: outside dataDir, beside the development KEKs. */
  devKeyDir: string;
  retentionDays: number;
}

export interface PruneReport {
  removed: number;
  firstKept: number | null;
  checkpoint: number | null;
  /** The run's own record (every run writes one, before it removes anything): the checkpoint when it removed records. */
  record: number;
}

export class AuditTrail {
  constructor(
    private readonly store: AuditStore,
    private readonly key: Buffer,
    readonly retentionDays: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (key.length < 32) throw new Error('the audit key must be at least 32 bytes');
  }

  private async write(entry: AuditEntry, extra: { phase: AuditRecord['phase']; outcome?: AuditOutcome; intent?: number }, detail?: AuditEntry['detail']): Promise<AuditRecord> {
    checkEntry({ ...entry, ...(detail ? { detail } : {}) });
    const fields = { actor: entry.actor, action: entry.action, refs: [...new Set(entry.refs ?? [])].sort(), address: entry.address, requestId: entry.requestId, ...extra, detail: detail ?? entry.detail };
    const written = await this.store.append((head) => {
      const at = this.now();
      const genesis = head ? [] : [chainRecord(this.key, null, genesisFields(), at)];
      const base = head ?? genesis[0];
      return [...genesis, chainRecord(this.key, base, fields, at)];
    });
    return written[written.length - 1];
  }

  /** One `event` record (a failed authentication, a sign-in): the one call item 1 uses. */
  record(entry: AuditEntry & { outcome?: AuditOutcome }): Promise<AuditRecord> {
    const { outcome = 'ok', ...rest } = entry;
    return this.write(rest, { phase: 'event', outcome });
  }

  /**
   * Intent, `action`, outcome: the one call a review decision (item 3) or a read uses.
   * `refused(err)` says which errors are a refusal (the caller's fault) rather than a failure.
   */
  async audited<T>(entry: AuditEntry, action: () => Promise<T>, options: { refused?: (err: unknown) => boolean; detail?: (value: T) => AuditEntry['detail'] } = {}): Promise<T> {
    const intent = await this.write(entry, { phase: 'intent' });
    let value: T;
    try {
      value = await action();
    } catch (err) {
      const outcome: AuditOutcome = options.refused?.(err) ? 'refused' : 'failed';
      // The action's error is the answer; an outcome that cannot be written leaves the intent incomplete.
      await this.write(entry, { phase: 'outcome', outcome, intent: intent.seq }).catch(() => undefined);
      throw err;
    }
    await this.write(entry, { phase: 'outcome', outcome: 'ok', intent: intent.seq }, options.detail?.(value) ?? entry.detail);
    return value;
  }

  async query(query: AuditQuery): Promise<AuditRecord[]> {
    return this.store.query(checkQuery(query));
  }

  async verify(): Promise<VerifyReport> {
    return verifyChain(this.key, await this.store.all());
  }

  /**
   * The retention run: records older than the retention period go, after a checkpoint record
   * (itself chained) names the first kept record and the MAC before it, which verify starts from.
   */
  async prune(actor: string): Promise<PruneReport> {
    const cutoff = new Date(this.now().getTime() - this.retentionDays * DAY_MS).toISOString();
    const [first, [oldest]] = await Promise.all([this.store.firstAtOrAfter(cutoff), this.store.query({ limit: 1 })]);
    if (!first || !oldest || first.seq <= oldest.seq) {
      // A run with nothing to remove is recorded too (an auditor asks for every retention run);
      // it names no firstKept, so verify never takes it for a checkpoint.
      const run = await this.write({ actor, action: 'audit.prune', refs: [] }, { phase: 'event', outcome: 'ok' }, { removed: 0, before: cutoff });
      return { removed: 0, firstKept: null, checkpoint: null, record: run.seq };
    }
    const checkpoint = await this.write({ actor, action: 'audit.prune', refs: [] }, { phase: 'event', outcome: 'ok' }, { firstKept: first.seq, prevMac: first.prev, before: cutoff });
    const removed = await this.store.removeBefore(first.seq);
    return { removed, firstKept: first.seq, checkpoint: checkpoint.seq, record: checkpoint.seq };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

const DEV_KEY_ID_FILE = 'audit-key-id';

/**
 * The development audit key's file: 256 random bits in `<devKeyDir>/audit-<id>`, its id in
 * `<dataDir>/audit-key-id`, so a copy of the data folder holds no key (as with the development
 * KEK). `make cluster` hands this file to each of its processes as SESSIONFLOW_AUDIT_KEY_FILE.
 */
export function devAuditKeyFile(dataDir: string, devKeyDir: string): string {
  const id = embeddedSecret(dataDir, DEV_KEY_ID_FILE, () => randomBytes(16).toString('hex'));
  if (!/^[0-9a-f]{32}$/.test(id)) throw new AuditUnavailableError(`the data directory's ${DEV_KEY_ID_FILE} is damaged`);
  const path = join(devKeyDir, `audit-${id}`);
  if (!existsSync(path)) {
    mkdirSync(devKeyDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditUnavailableError('the development audit key cannot be created');
    }
  }
  chmodSync(path, 0o600);
  return path;
}

/** The development audit key itself (see devAuditKeyFile). */
export function devAuditKey(dataDir: string, devKeyDir: string): Buffer {
  const key = parseKek(readFileSync(devAuditKeyFile(dataDir, devKeyDir), 'utf8'));
  if (!key) throw new AuditUnavailableError('the development audit key is damaged');
  return key;
}

export function openAuditStore(config: Pick<AuditConfig, 'dataDir' | 'url'>): AuditStore {
  return config.url ? new PostgresAuditStore(config.url) : new FileAuditStore(config.dataDir);
}

/** The configured trail: the store and key the configuration names. */
export function openAuditTrail(config: AuditConfig): AuditTrail {
  return new AuditTrail(openAuditStore(config), config.key ?? devAuditKey(config.dataDir, config.devKeyDir), config.retentionDays);
}

/** The trail a process's configuration names (its development key beside the development KEKs). */
export function configuredAuditTrail(config: Pick<Config, 'dataDir' | 'keys' | 'audit'>): AuditTrail {
  return openAuditTrail({ dataDir: config.dataDir, devKeyDir: config.keys.devKekDir, ...config.audit });
}
