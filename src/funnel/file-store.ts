/**
 * The funnel store on one machine: one JSON record a line, in one file per UTC day the sessions
 * ended on (`<dataDir>/funnel/ends-YYYY-MM-DD.jsonl`), only ever appended to and flushed before
 * the write answers. A write takes the lock file `funnel.lock` (O_EXCL, taken over once older than
 * STALE_LOCK_MS), so the processes of one machine append one at a time and each key is kept
 * once: the writer keeps the keys of the files it wrote to, reading what others appended since.
 * A query reads the days of its window; pruning deletes whole days. A line cut short by a crash
 * is skipped by readers and closed by the next writer, so it never spoils the next record.
 */
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { checkRecord, FunnelUnavailableError, type FunnelRecord } from './record';
import type { FunnelQuery } from './report';
import type { FunnelStore } from './store';
import { withLockFile, type LockFileOptions } from '../util/lock-file';

const LOCK: LockFileOptions = { waitMs: 5_000, staleMs: 30_000, unavailable: (reason) => new FunnelUnavailableError(`the funnel lock: ${reason}`) };
const DAY_MS = 24 * 3600 * 1000;
const FILE = /^ends-(\d{4}-\d{2}-\d{2})\.jsonl$/;

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? 'error';
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The records of a file's text; lines that do not read as a record are skipped. */
function parseLines(text: string): FunnelRecord[] {
  return text.split('\n').flatMap((line) => {
    if (line.trim() === '') return [];
    try {
      return [checkRecord(JSON.parse(line))];
    } catch {
      return [];
    }
  });
}

export class FileFunnelStore implements FunnelStore {
  readonly dir: string;
  private readonly lock: string;
  /** Writers of this process queue here first, so the lock file is contended only across processes. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Per day file written: the keys in it, and how many bytes of it were read for them. */
  private readonly keys = new Map<string, { size: number; keys: Set<string> }>();

  /** `readOnly`: a reader (the console) that never creates, locks or writes anything. */
  constructor(
    dataDir: string,
    private readonly readOnly = false,
  ) {
    this.dir = join(dataDir, 'funnel');
    this.lock = join(this.dir, 'funnel.lock');
  }

  private fileOf(day: string): string {
    return join(this.dir, `ends-${day}.jsonl`);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.readOnly) return Promise.reject(new FunnelUnavailableError('this funnel store was opened read-only'));
    const run = this.queue.then(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
        throw new FunnelUnavailableError(`cannot create the funnel folder (${code(err)})`);
      });
      return withLockFile(this.lock, LOCK, work);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The keys of the day's file, brought up to date with what was appended since the last read. */
  private async keysOf(handle: FileHandle, day: string, size: number): Promise<Set<string>> {
    let known = this.keys.get(day);
    if (!known || known.size > size) known = { size: 0, keys: new Set() }; // new to this process, or replaced
    if (size > known.size) {
      const buffer = Buffer.alloc(size - known.size);
      await handle.read(buffer, 0, buffer.length, known.size);
      for (const record of parseLines(buffer.toString('utf8'))) known.keys.add(record.key);
      known.size = size;
    }
    this.keys.set(day, known);
    return known.keys;
  }

  async write(record: FunnelRecord): Promise<boolean> {
    checkRecord(record);
    const day = dayOf(record.endedAt);
    return this.exclusive(async () => {
      let handle: FileHandle | undefined;
      try {
        handle = await open(this.fileOf(day), 'a+', 0o600);
        const { size } = await handle.stat();
        const keys = await this.keysOf(handle, day, size);
        if (keys.has(record.key)) return false;
        // A line a crash cut short is closed first, so this record stands on a line of its own.
        const last = Buffer.alloc(1);
        if (size > 0) await handle.read(last, 0, 1, size - 1);
        const line = `${size > 0 && last.toString() !== '\n' ? '\n' : ''}${JSON.stringify(record)}\n`;
        await handle.write(line);
        await handle.sync();
        keys.add(record.key);
        this.keys.get(day)!.size = size + Buffer.byteLength(line);
        return true;
      } catch (err) {
        throw new FunnelUnavailableError(`cannot write the funnel (${code(err)})`);
      } finally {
        await handle?.close();
      }
    });
  }

  async ends(query: FunnelQuery): Promise<FunnelRecord[]> {
    const records: FunnelRecord[] = [];
    const seen = new Set<string>();
    for (let day = Date.parse(dayOf(query.from)); day < query.to; day += DAY_MS) {
      let text: string;
      try {
        text = await readFile(this.fileOf(dayOf(day)), 'utf8');
      } catch (err) {
        if (code(err) === 'ENOENT') continue;
        throw new FunnelUnavailableError(`cannot read the funnel (${code(err)})`);
      }
      for (const r of parseLines(text)) {
        const match = r.clientId === query.clientId && r.flowId === query.flowId && r.flowVersion === query.flowVersion && r.endedAt >= query.from && r.endedAt < query.to;
        if (match && !seen.has(r.key)) {
          seen.add(r.key);
          records.push(r);
        }
      }
    }
    return records;
  }

  /** Deletes the day files wholly before `before`'s day: records are dropped a whole day at a time. */
  prune(before: number): Promise<number> {
    return this.exclusive(async () => {
      const cutoff = dayOf(before);
      let removed = 0;
      for (const name of await readdir(this.dir)) {
        const day = FILE.exec(name)?.[1];
        if (!day || day >= cutoff) continue;
        removed += parseLines(await readFile(join(this.dir, name), 'utf8')).length;
        await unlink(join(this.dir, name));
        this.keys.delete(day);
      }
      return removed;
    });
  }

  async close(): Promise<void> {}
}
