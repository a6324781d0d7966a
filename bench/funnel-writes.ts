/**
 * What the funnel costs a session (issue 30): each session writes its end once, through a local
 * activity in the worker, as one fsync'd append to the day's file (src/funnel/file-store.ts, the
 * embedded stack's store). Measured alone in this process, so the figure is the write's own and
 * not lost in the noise of a whole session's: CPU and wall time per write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionEnd } from '../src/contract/funnel';
import { FileFunnelStore } from '../src/funnel/file-store';
import { FunnelWriter } from '../src/funnel/open';

export interface FunnelWriteCost {
  writes: number;
  cpuMsPerWrite: number;
  p50Ms: number;
  p99Ms: number;
}

/** The bench flow's end, as its sessions write it: three stages passed, success. */
function benchEnd(i: number, now: number): SessionEnd {
  const stages: SessionEnd['stages'] = [
    { id: 'details', kind: 'input' },
    { id: 'bank', kind: 'provider' },
    { id: 'consent', kind: 'input' },
  ];
  return {
    clientId: 'bench-client',
    flowId: 'bench-kyc',
    flowVersion: 'draft',
    stages,
    visits: stages.map((stage) => ({ stage: stage.id, ms: 1_000 })),
    journey: 'full',
    ending: 'completed',
    outcome: 'success',
    createdAt: now - 4_000 - i,
    endedAt: now,
  };
}

export async function measureFunnelWrites(writes: number): Promise<FunnelWriteCost> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionflow-bench-funnel-'));
  const writer = new FunnelWriter(new FileFunnelStore(dir), 400);
  const now = Date.now();
  const times: number[] = [];
  try {
    const cpu = process.cpuUsage();
    for (let i = 0; i < writes; i += 1) {
      const started = process.hrtime.bigint();
      await writer.write(`session-bench-${i}`, benchEnd(i, now));
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const used = process.cpuUsage(cpu);
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
    return { writes, cpuMsPerWrite: (used.user + used.system) / 1000 / writes, p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
