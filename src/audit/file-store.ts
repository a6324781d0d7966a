/**
 * The audit store on one machine: one JSON record a line in `<dataDir>/audit/audit.jsonl`,
 * only ever appended to (and flushed to disk before the action it records goes ahead).
 * Writers (the api, the worker, the codec server and the CLI, each its own process) take an
 * exclusive lock file, `audit.lock`, created with O_EXCL: one machine, one chain. A lock left by
 * a process that died is taken over once it is older than 30 s (src/util/lock-file.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditUnavailableError, matches, type AuditQuery, type AuditRecord } from './record';
import type { AuditStore } from './store';
import { withLockFile, type LockFileOptions } from '../util/lock-file';

const LOCK: LockFileOptions = {
  waitMs: 5_000,
  staleMs: 30_000,
  // The messages as they were before the lock moved to src/util: `cannot lock the audit folder (EACCES)`.
  unavailable: (reason) => new AuditUnavailableError(reason === 'held too long' ? 'the audit lock is held too long' : reason.replace('cannot lock', 'cannot lock the audit folder')),
};
const TAIL_BYTES = 64 * 1024;

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? 'error';

export class FileAuditStore implements AuditStore {
  readonly dir: string;
  private readonly file: string;
  private readonly lock: string;
  /** Writers of this process queue here first, so the lock file is contended only across processes. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'audit');
    this.file = join(this.dir, 'audit.jsonl');
    this.lock = join(this.dir, 'audit.lock');
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      try {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new AuditUnavailableError(`cannot create the audit folder (${code(err)})`);
      }
      return withLockFile(this.lock, LOCK, work);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The last line's record, read from the file's tail. */
  private async head(): Promise<{ seq: number; mac: string } | null> {
    let handle;
    try {
      handle = await open(this.file, 'r');
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw new AuditUnavailableError(`cannot read the audit trail (${code(err)})`);
    }
    try {
      const { size } = await handle.stat();
      if (size === 0) return null;
      const length = Math.min(size, TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const lines = buffer.toString('utf8').split('\n').filter((line) => line.trim() !== '');
      const last = JSON.parse(lines[lines.length - 1]) as AuditRecord;
      if (!Number.isSafeInteger(last.seq) || typeof last.mac !== 'string') throw new Error('damaged');
      return { seq: last.seq, mac: last.mac };
    } catch (err) {
      if (err instanceof AuditUnavailableError) throw err;
      // A damaged last line: refuse to extend the chain rather than fork it.
      throw new AuditUnavailableError('the last audit record cannot be read: run `npm run audit -- verify`');
    } finally {
      await handle.close();
    }
  }

  append(next: (head: { seq: number; mac: string } | null) => AuditRecord[]): Promise<AuditRecord[]> {
    return this.exclusive(async () => {
      const records = next(await this.head());
      try {
        const handle = await open(this.file, 'a', 0o600);
        try {
          await handle.writeFile(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
          await handle.sync();
        } finally {
          await handle.close();
        }
      } catch (err) {
        throw new AuditUnavailableError(`cannot write the audit trail (${code(err)})`);
      }
      return records;
    });
  }

  async all(): Promise<unknown[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (code(err) === 'ENOENT') return [];
      throw new AuditUnavailableError(`cannot read the audit trail (${code(err)})`);
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          return { unreadable: true };
        }
      });
  }

  private async records(): Promise<AuditRecord[]> {
    return (await this.all()).filter((raw): raw is AuditRecord => typeof (raw as AuditRecord).seq === 'number' && Array.isArray((raw as AuditRecord).refs));
  }

  async query(query: AuditQuery & { limit: number }): Promise<AuditRecord[]> {
    return (await this.records()).filter((record) => matches(record, query)).slice(0, query.limit);
  }

  async firstAtOrAfter(at: string): Promise<AuditRecord | null> {
    return (await this.records()).find((record) => record.at >= at) ?? null;
  }

  async bySeq(seq: number): Promise<AuditRecord | null> {
    return (await this.records()).find((record) => record.seq === seq) ?? null;
  }

  removeBefore(firstKept: number): Promise<number> {
    return this.exclusive(async () => {
      const all = await this.all();
      const kept = all.filter((raw) => !(typeof (raw as AuditRecord).seq === 'number' && (raw as AuditRecord).seq < firstKept));
      const temporary = join(this.dir, `.prune-${randomBytes(6).toString('hex')}`);
      try {
        const handle = await open(temporary, 'wx', 0o600);
        try {
          await handle.writeFile(kept.map((raw) => `${JSON.stringify(raw)}\n`).join(''));
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, this.file);
      } catch (err) {
        await unlink(temporary).catch(() => undefined);
        throw new AuditUnavailableError(`cannot prune the audit trail (${code(err)})`);
      }
      return all.length - kept.length;
    });
  }

  async close(): Promise<void> {}
}
