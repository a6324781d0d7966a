/** bench/results/cluster.json's shape, and cluster.md rendered from it (bench/cluster-bench.ts). */
import type { PostgresCounters } from './cluster-probes';
import { scaleFor, type ScaleInputs } from './scale';

export interface ClusterPass {
  devices: number;
  sessions: number;
  completed: number;
  sessionsPerSecond: number;
  /** From the first create to the last webhook and close, the settling pause included. */
  windowSeconds: number;
  stepLatencyMs: { p50: number; p99: number; steps: number };
  perSession: {
    cpuMs: Record<string, number>;
    /** The counters' growth per session, and the bytes and write calls of PostgreSQL's processes. */
    postgres: PostgresCounters & { writeBytes: number; writeSyscalls: number };
    persistenceRequests: Record<string, number>;
  };
}

export interface ClusterResults {
  generatedAt: string;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; loadAverage: { median: number | null; max: number | null } };
  cluster: { historyShards: number; temporalProcesses: number; workers: number; apis: number; flow: string; webhooksPerSession: number; clientRetentionSeconds: number };
  idleCpuMsPerSecond: Record<string, number>;
  passes: ClusterPass[];
  history: Array<{ workflowType: string; perSession: number; events: number; cloudActions: number }>;
  errors: string[];
  errorCount: number;
  wallSeconds: number;
}

const sum = (values: Record<string, number>, prefix: string) => Object.entries(values).filter(([name]) => name.startsWith(prefix)).reduce((total, [, v]) => total + v, 0);
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The scale page's inputs: per session, the larger of the two passes' figures (the cautious one). */
export function scaleInputs(results: ClusterResults): ScaleInputs {
  const most = (pick: (pass: ClusterPass) => number) => Math.max(...results.passes.map(pick));
  const postgres = (pass: ClusterPass) => pass.perSession.postgres;
  return {
    temporalCpuMs: most((p) => p.perSession.cpuMs.temporal),
    postgresCpuMs: most((p) => p.perSession.cpuMs.postgres),
    workerCpuMs: most((p) => sum(p.perSession.cpuMs, 'worker-')),
    apiCpuMs: most((p) => sum(p.perSession.cpuMs, 'api-')),
    temporalDbBytes: most((p) => postgres(p).databaseBytes.temporal + postgres(p).databaseBytes.temporal_visibility),
    sessionflowDbBytes: most((p) => postgres(p).databaseBytes.sessionflow),
    walBytes: most((p) => postgres(p).walBytes),
    writeIos: most((p) => postgres(p).walWrites + postgres(p).walSyncs + postgres(p).dataPageWrites),
    persistenceRequests: most((p) => sum(p.perSession.persistenceRequests, '')),
    cloudActions: results.history.reduce((total, h) => total + h.perSession * h.cloudActions, 0),
  };
}

export function renderClusterReport(results: ClusterResults): string {
  const gib = (bytes: number) => `${round(bytes / 2 ** 30)} GiB`;
  const processes = Object.keys(results.passes[0]?.perSession.cpuMs ?? {});
  const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  const inputs = scaleInputs(results);
  const lines = [
    '# make bench-cluster',
    '',
    `Run ${results.generatedAt} on ${results.machine.cpus} × ${results.machine.cpuModel}, ${gib(results.machine.memoryBytes)}, Node ${results.machine.node}; 1-minute load average ${results.machine.loadAverage.median} (median) to ${results.machine.loadAverage.max} (max). Everything (PostgreSQL, the Temporal server, ${results.cluster.workers} workers, ${results.cluster.apis} apis, the sandboxes, the codec server and the load) shares this machine.`,
    '',
    `The \`make cluster\` shape: one Temporal server process (frontend, history, matching and its internal worker together) with ${results.cluster.historyShards} history shards, on PostgreSQL, mTLS between Temporal and its clients. Whole \`${results.cluster.flow}\` sessions over both apis, webhooks on (${results.cluster.webhooksPerSession} per session), the client's retention ${results.cluster.clientRetentionSeconds} s: each session's figures include its archive, the destruction of its key and the close of its workflows. Per session, each figure is the pass's total over its sessions, from before the first create to the last webhook and close (PostgreSQL checkpointed at both ends). ${results.errorCount} errors${results.errors.length ? `: ${results.errors.join('; ')}` : ''}. The whole run took ${results.wallSeconds} s.`,
    '',
    '## Throughput and latency',
    '',
    row(['devices', 'sessions', 'completed', 'whole sessions/s', 'step p50 (ms)', 'step p99 (ms)', 'measured window (s)']),
    row(['---', '---', '---', '---', '---', '---', '---']),
    ...results.passes.map((p) => row([p.devices, p.sessions, p.completed, p.sessionsPerSecond, p.stepLatencyMs.p50, p.stepLatencyMs.p99, p.windowSeconds])),
    '',
    '## CPU per whole session (ms), by process',
    '',
    row(['devices', ...processes]),
    row(['---', ...processes.map(() => '---')]),
    ...results.passes.map((p) => row([p.devices, ...processes.map((name) => p.perSession.cpuMs[name])])),
    row(['idle, per second', ...processes.map((name) => results.idleCpuMsPerSecond[name] ?? '')]),
    '',
    '`postgres` is the postmaster and every backend it forked (exited ones included); `load` is the bench process itself. The idle row is CPU per second over 30 s with no session running (timers, shard leases, queue scans): part of each pass\'s figures is that, not the sessions.',
    '',
    '## PostgreSQL per whole session',
    '',
    row(['devices', 'WAL bytes', 'WAL records', 'full-page images', 'WAL writes', 'WAL fsyncs', 'data pages written', 'bytes written (/proc)', 'write calls (/proc)', 'commits (temporal / visibility / sessionflow)', 'growth, bytes (temporal / visibility / sessionflow)']),
    row(Array.from({ length: 11 }, () => '---')),
    ...results.passes.map((p) => {
      const pg = p.perSession.postgres;
      const three = (values: Record<string, number>) => ['temporal', 'temporal_visibility', 'sessionflow'].map((db) => values[db]).join(' / ');
      return row([p.devices, pg.walBytes, pg.walRecords, pg.walFullPageImages, pg.walWrites, pg.walSyncs, pg.dataPageWrites, pg.writeBytes, pg.writeSyscalls, three(pg.commits), three(pg.databaseBytes)]);
    }),
    '',
    'Data pages are counted after a CHECKPOINT at each end of the pass, so every page the pass dirtied is written once in it; a production checkpoint every few minutes writes a hot page once for many sessions, so this is an upper bound. Growth is `pg_database_size` after minus before.',
    '',
    '## The Temporal server\'s persistence requests per whole session, by service',
    '',
    row(['devices', ...Object.keys(results.passes[0]?.perSession.persistenceRequests ?? {})]),
    row(['---', ...Object.keys(results.passes[0]?.perSession.persistenceRequests ?? {}).map(() => '---')]),
    ...results.passes.map((p) => row([p.devices, ...Object.values(p.perSession.persistenceRequests)])),
    '',
    '## Workflows, events and Temporal Cloud actions per session',
    '',
    row(['workflow type', 'per session', 'events (one closed history)', 'Cloud actions in it']),
    row(['---', '---', '---', '---']),
    ...results.history.map((h) => row([`\`${h.workflowType}\``, h.perSession, h.events, h.cloudActions])),
    '',
    `Cloud actions per session, from histories: ${round(inputs.cloudActions)} (rules: https://docs.temporal.io/cloud/actions; queries and activity heartbeats leave no event and are not in it).`,
    '',
    '## On paper',
    '',
    'docs/guides/scale.md explains each line; the inputs are the larger of the two passes\' figures.',
    '',
    row(['sessions a day', 'average/s', 'peak/s', 'Temporal server cores', 'PostgreSQL cores', 'worker cores', 'api cores', 'PostgreSQL write IOPS at peak', 'WAL GiB a day', 'Temporal databases, GiB kept', 'sessionflow database, GiB kept', 'open sessions', 'history shards', 'persistence requests/s at peak', 'Cloud APS at peak']),
    row(Array.from({ length: 15 }, () => '---')),
    ...[1e6, 1e7].map((perDay) => {
      const s = scaleFor(inputs, perDay);
      return row([perDay.toLocaleString('en'), s.averagePerSecond, s.peakPerSecond, s.temporalCores, s.postgresCores, s.workerCores, s.apiCores, s.writeIops, s.walGiBPerDay, s.temporalStorageGiB, s.sessionflowStorageGiB, s.openSessions.toLocaleString('en'), s.historyShards, s.persistenceRequestsPerSecond, s.cloudActionsPerSecond]);
    }),
    '',
  ];
  return lines.join('\n');
}
