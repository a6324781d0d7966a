/**
 * An exclusive lock between the processes of one machine: a file created with O_EXCL, removed
 * when the work is done. A lock left by a process that died is taken over once older than
 * `staleMs`. The append-only file stores (audit, funnel) write under one.
 */
import { open, stat, unlink } from 'node:fs/promises';

export interface LockFileOptions {
  /** How long to wait for the lock before giving up. */
  waitMs: number;
  /** How old a lock must be to count as left by a process that died. */
  staleMs: number;
  /** The error to throw: `reason` is `cannot lock (<code>)` or `held too long`, never a path. */
  unavailable: (reason: string) => Error;
}

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? 'error';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` holding the lock file at `path` (its folder must exist). */
export async function withLockFile<T>(path: string, options: LockFileOptions, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    try {
      await (await open(path, 'wx', 0o600)).close();
      break;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw options.unavailable(`cannot lock (${errorCode(err)})`);
    }
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > options.staleMs) await unlink(path).catch(() => undefined);
    if (Date.now() > deadline) throw options.unavailable('held too long');
    await sleep(5 + Math.random() * 20);
  }
  try {
    return await work();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
