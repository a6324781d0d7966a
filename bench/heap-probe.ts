/**
 * Preloaded by the soak (NODE_OPTIONS=--require, compiled) into every service it starts: when
 * BENCH_HEAP_DIR is set, each thread appends its V8 heap to heap-<pid>-<thread>.jsonl there
 * every 5 s. A thread's own heap is all process.memoryUsage() sees, and the worker runs its
 * workflows in a thread of their own, so the soak adds the threads of a process up.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

const dir = process.env.BENCH_HEAP_DIR;
if (dir) {
  const file = join(dir, `heap-${process.pid}-${threadId}.jsonl`);
  setInterval(() => {
    const { heapUsed, heapTotal } = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), heapUsed, heapTotal })}\n`);
  }, 5_000).unref();
}
