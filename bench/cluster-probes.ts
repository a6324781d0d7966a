/**
 * Readings of a running `make cluster` for bench/cluster-bench.ts: CPU and disk writes of its
 * processes from /proc, PostgreSQL's own counters, and the Temporal server's persistence
 * requests from its Prometheus endpoint. Each reading is a snapshot; the bench subtracts two.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';

const CLOCK_TICKS_PER_SECOND = 100;

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

const ticksToMs = (ticks: number) => (ticks / CLOCK_TICKS_PER_SECOND) * 1000;

/** CPU (user and system, ms) a process used so far. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  return ticksToMs(Number(fields[11]) + Number(fields[12]));
}

/** /proc/<pid>/io: bytes a process caused to be written to storage, and its write system calls. */
function writes(pid: number): { bytes: number; syscalls: number } {
  const io = Object.fromEntries(
    readFileSync(`/proc/${pid}/io`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(': ') as [string, string]),
  );
  return { bytes: Number(io.write_bytes), syscalls: Number(io.syscw) };
}

export interface PostgresProcesses {
  cpuMs: number;
  writeBytes: number;
  writeSyscalls: number;
  backends: number;
}

/**
 * PostgreSQL as a whole: the postmaster (from postmaster.pid in its data folder) and every
 * process it forked. A backend that has exited was reaped by the postmaster, and Linux then adds
 * its CPU to the postmaster's children's times (cutime, cstime) and its I/O to the postmaster's
 * own /proc/<pid>/io, so the sum holds across connections that come and go.
 */
export function postgresProcesses(dataDir: string): PostgresProcesses {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const fields = statFields(postmaster);
  let cpu = ticksToMs(Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
  let { bytes, syscalls } = writes(postmaster);
  let backends = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (Number(statFields(pid)[1]) !== postmaster) continue;
      cpu += cpuMs(pid);
      const child = writes(pid);
      bytes += child.bytes;
      syscalls += child.syscalls;
      backends += 1;
    } catch {
      // Gone between the listing and the read: its figures are now the postmaster's.
    }
  }
  return { cpuMs: cpu, writeBytes: bytes, writeSyscalls: syscalls, backends };
}

/** PostgreSQL's counters; the bench's per-session figures have the same shape (differences over a pass, per session). */
export interface PostgresCounters {
  /** Bytes of WAL generated (from the WAL position, so exact). */
  walBytes: number;
  walRecords: number;
  walFullPageImages: number;
  /** WAL write and fsync calls (pg_stat_wal). */
  walWrites: number;
  walSyncs: number;
  /** Data pages written by checkpoints, the background writer and backends (pg_stat_bgwriter). */
  dataPageWrites: number;
  /** Committed transactions in the three databases. */
  commits: Record<string, number>;
  /** pg_database_size of each database (per session: its growth). */
  databaseBytes: Record<string, number>;
}

export const DATABASES = ['temporal', 'temporal_visibility', 'sessionflow'] as const;

/**
 * PostgreSQL's counters, after a CHECKPOINT so the pages dirtied so far count as written (a
 * production checkpoint every few minutes writes a page once for many changes: an upper bound).
 */
export async function postgresCounters(url: string): Promise<PostgresCounters> {
  const client = new PgClient({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
    await client.query('SELECT pg_stat_clear_snapshot()');
    const lsn = await client.query<{ bytes: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS bytes");
    const wal = await client.query<{ wal_records: string; wal_fpi: string; wal_write: string; wal_sync: string }>('SELECT wal_records, wal_fpi, wal_write, wal_sync FROM pg_stat_wal');
    const bg = await client.query<{ pages: string }>('SELECT (buffers_checkpoint + buffers_clean + buffers_backend)::text AS pages FROM pg_stat_bgwriter');
    const dbs = await client.query<{ datname: string; commits: string; size: string }>(
      'SELECT datname, xact_commit::text AS commits, pg_database_size(datname)::text AS size FROM pg_stat_database WHERE datname = ANY($1)',
      [DATABASES],
    );
    return {
      walBytes: Number(lsn.rows[0].bytes),
      walRecords: Number(wal.rows[0].wal_records),
      walFullPageImages: Number(wal.rows[0].wal_fpi),
      walWrites: Number(wal.rows[0].wal_write),
      walSyncs: Number(wal.rows[0].wal_sync),
      dataPageWrites: Number(bg.rows[0].pages),
      commits: Object.fromEntries(dbs.rows.map((row) => [row.datname, Number(row.commits)])),
      databaseBytes: Object.fromEntries(dbs.rows.map((row) => [row.datname, Number(row.size)])),
    };
  } finally {
    await client.end();
  }
}

/** The history shards the cluster's database holds (one row each, made when the server first starts). */
export async function historyShards(url: string): Promise<number> {
  const client = new PgClient({ connectionString: url.replace(/\/[^/]*$/, '/temporal') });
  await client.connect();
  try {
    const answer = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM shards');
    return Number(answer.rows[0].n);
  } finally {
    await client.end();
  }
}

/**
 * The Temporal server's persistence requests so far, by service (its `persistence_requests`
 * counter, summed over operations): what `<service>.persistenceMaxQPS` limits.
 */
export async function persistenceRequests(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  const byService: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^persistence_requests(?:_total)?\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
    if (!match) continue;
    const service = /service_name="([^"]*)"/.exec(match[1])?.[1] ?? 'unknown';
    byService[service] = (byService[service] ?? 0) + Number(match[2]);
  }
  return byService;
}
