/**
 * `make bench-cluster`: what a whole session costs on the `make cluster` shape (the Temporal server
 * built from its Go module, on PostgreSQL, 2 workers, 2 apis, mTLS), as the inputs of
 * docs/guides/scale.md. Writes bench/results/cluster.json and cluster.md.
 *
 * A fresh cluster under .data/bench-cluster; a warm-up; then whole kyc-basic sessions at 8 and 32
 * devices over both apis (CLUSTER_BENCH_SESSIONS, default 160 and 320), each with webhooks on and
 * its client's retention at 20 s, so a session's cost includes its archive (the retention timer,
 * the purge, the key's destruction, the workflow's close) and its outbox's seven deliveries.
 * Each pass is measured from before its first create to once every session it ran is closed and
 * every webhook received; then CPU of each process, PostgreSQL's writes and growth, and the
 * Temporal server's persistence requests, per session. Every session is checked as the drill
 * checks it (outcome, signature, webhooks, archived): a wrong answer is an error, and any error
 * makes the run fail.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { loadConfig } from '../src/config';
import { clientConnection, startCluster, type Cluster } from '../scripts/cluster';
import { freePort } from '../scripts/dev-server';
import { certsFolders } from '../scripts/temporal-tls';
import { ApiPool, runKycSession } from './kyc-http';
import { cpuMs, historyShards, persistenceRequests, postgresCounters, postgresProcesses, type PostgresCounters } from './cluster-probes';
import { cloudActions, type HistoryEventLike } from './cloud-actions';
import { renderClusterReport, type ClusterPass, type ClusterResults } from './cluster-report';
import { loadClient, loadEnv, startReceiver } from './webhook-receiver';
import { summarize } from './stats';

const DATA_DIR = join('.data', 'bench-cluster');
const RESULTS = join(__dirname, 'results');
const PASSES: Array<{ devices: number; sessions: number }> = (process.env.CLUSTER_BENCH_SESSIONS ?? '160,320')
  .split(',')
  .map((n, i) => ({ devices: [8, 32][i], sessions: Number(n) }));
const WARM_UP = 32;
const RETENTION_SECONDS = 20;
/** created, in_progress, three steps, consumed, archived. */
const WEBHOOKS_PER_SESSION = 7;
/** PostgreSQL's backends report their statistics at most every 10 s when idle (PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 11_000;

/** Stops what the cluster started so far (its Temporal server and PostgreSQL run detached): on a signal and on failure. */
let stopCluster: () => Promise<void> = async () => undefined;

function log(line: string): void {
  process.stdout.write(`[bench-cluster] ${line}\n`);
}

interface Snapshot {
  at: number;
  cpu: Record<string, number>;
  postgresCpuMs: number;
  postgresWriteBytes: number;
  postgresWriteSyscalls: number;
  pg: PostgresCounters;
  persistence: Record<string, number>;
}

async function snapshot(cluster: Cluster, metricsUrl: string): Promise<Snapshot> {
  const usage = process.cpuUsage();
  const procs = postgresProcesses(join(cluster.dir, 'postgres'));
  const pg = await postgresCounters(cluster.postgresUrl);
  return {
    at: Date.now(),
    cpu: {
      temporal: cpuMs(cluster.temporal.current().pid as number),
      ...Object.fromEntries([...cluster.workers, ...cluster.apis, cluster.sandbox, cluster.codec].map((s) => [s.name, cpuMs(s.current().pid as number)])),
      load: (usage.user + usage.system) / 1000,
    },
    postgresCpuMs: procs.cpuMs,
    postgresWriteBytes: procs.writeBytes,
    postgresWriteSyscalls: procs.writeSyscalls,
    pg,
    persistence: await persistenceRequests(metricsUrl),
  };
}

const per = (after: number, before: number, n: number, digits = 1) => Math.round(((after - before) / n) * 10 ** digits) / 10 ** digits;
const perEach = (after: Record<string, number>, before: Record<string, number>, n: number, digits = 1) =>
  Object.fromEntries(Object.keys(after).map((key) => [key, per(after[key], before[key] ?? 0, n, digits)]));

function difference(before: Snapshot, after: Snapshot, n: number): ClusterPass['perSession'] {
  return {
    cpuMs: { ...perEach(after.cpu, before.cpu, n), postgres: per(after.postgresCpuMs, before.postgresCpuMs, n) },
    postgres: {
      writeBytes: per(after.postgresWriteBytes, before.postgresWriteBytes, n, 0),
      writeSyscalls: per(after.postgresWriteSyscalls, before.postgresWriteSyscalls, n),
      walBytes: per(after.pg.walBytes, before.pg.walBytes, n, 0),
      walRecords: per(after.pg.walRecords, before.pg.walRecords, n),
      walFullPageImages: per(after.pg.walFullPageImages, before.pg.walFullPageImages, n),
      walWrites: per(after.pg.walWrites, before.pg.walWrites, n),
      walSyncs: per(after.pg.walSyncs, before.pg.walSyncs, n),
      dataPageWrites: per(after.pg.dataPageWrites, before.pg.dataPageWrites, n),
      commits: perEach(after.pg.commits, before.pg.commits, n),
      databaseBytes: perEach(after.pg.databaseBytes, before.pg.databaseBytes, n, 0),
    },
    persistenceRequests: perEach(after.persistence, before.persistence, n),
  };
}

async function main(): Promise<void> {
  const temporalCli = process.env.TEMPORAL_CLI;
  if (!temporalCli) throw new Error('TEMPORAL_CLI must name the Temporal CLI; run this through `make bench-cluster`');
  const processStart = Date.now();
  rmSync(DATA_DIR, { recursive: true, force: true });
  mkdirSync(DATA_DIR, { recursive: true });
  const receiver = await startReceiver();
  const client = loadClient('bench-cluster-client', receiver.url, { retentionSeconds: RETENTION_SECONDS });
  const env = loadEnv(DATA_DIR, client);
  const config = loadConfig({ ...process.env, ...env });
  const metricsPort = await freePort();
  const clusterLog = createWriteStream(join(DATA_DIR, 'cluster-output.log'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopCluster().then(() => process.exit(130)));
  const cluster = await startCluster({
    config,
    temporalCli,
    env,
    serverEnv: { PROMETHEUS_ENDPOINT: `127.0.0.1:${metricsPort}` },
    ui: false,
    sink: (line) => clusterLog.write(`${new Date().toISOString()} ${line}\n`),
    onStop: (stop) => (stopCluster = stop),
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  log(`cluster up: apis ${cluster.apiUrls.length}, workers ${cluster.workers.length}`);
  const connection = await Connection.connect(clientConnection(cluster.temporalAddress, certsFolders(cluster.certsDir).clients, 'cli'));
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const apis = new ApiPool(cluster.apiUrls, 300_000);
  const errors: string[] = [];
  const loads: number[] = [];
  const loadSampler = setInterval(() => loads.push(loadavg()[0]), 5_000);

  const open = async () => (await temporal.workflow.count(`ExecutionStatus = "Running" AND WorkflowType IN (${WORKFLOW_TYPES.map((t) => `"${t}"`).join(', ')})`)).count;
  /** Runs `count` whole sessions from `devices` devices; answers their ids, step times and wall time. */
  const runSessions = async (name: string, devices: number, count: number) => {
    let next = 0;
    const ids: string[] = [];
    const stepMs: number[] = [];
    const device = async (d: number) => {
      for (let n = next++; n < count; n = next++) {
        try {
          const session = await runKycSession(apis, cluster.sandboxUrl, client, `${name}-${n}-${randomUUID()}`, { api: d % cluster.apiUrls.length, webhook: true });
          if (session.result.outcome !== 'success') throw new Error(`session ${session.id}: outcome ${String(session.result.outcome)}`);
          if (!session.signatureValid) throw new Error(`session ${session.id}: invalid result signature`);
          ids.push(session.id);
          stepMs.push(...session.stepMs);
        } catch (err) {
          errors.push((err as Error).message.replace(/DS\w+/g, 'DS…'));
        }
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: devices }, (_, d) => device(d)));
    return { ids, stepMs, seconds: (Date.now() - started) / 1000 };
  };
  /** Waits until every session is archived and closed, its outbox too, and every webhook arrived. */
  const settle = async (ids: string[], openBefore: number) => {
    const deadline = Date.now() + RETENTION_SECONDS * 1000 + 240_000;
    const missing = () => ids.flatMap((id) => Array.from({ length: WEBHOOKS_PER_SESSION }, (_, i) => `${id}.${i + 1}`)).filter((wid) => !receiver.received.has(wid));
    for (;;) {
      const [stillOpen, notReceived] = [(await open()) - openBefore, missing().length];
      if (stillOpen <= 0 && notReceived === 0) return;
      if (Date.now() > deadline) {
        errors.push(`${stillOpen} workflows still open and ${notReceived} webhooks missing ${RETENTION_SECONDS + 240} s after the pass`);
        return;
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  };

  log(`warm-up: ${WARM_UP} sessions at 8 devices`);
  const openAtStart = await open();
  const warm = await runSessions('warm', 8, WARM_UP);
  await settle(warm.ids, openAtStart);
  // The server's CPU while nothing runs (its timers, shard leases, queue scans): how much of a
  // pass's figures is idle cost rather than the sessions'.
  const idleBefore = await snapshot(cluster, metricsUrl);
  await new Promise((r) => setTimeout(r, 30_000));
  const idleAfter = await snapshot(cluster, metricsUrl);
  const idleSeconds = (idleAfter.at - idleBefore.at) / 1000;
  const idleCpuMsPerSecond = { ...perEach(idleAfter.cpu, idleBefore.cpu, idleSeconds), postgres: per(idleAfter.postgresCpuMs, idleBefore.postgresCpuMs, idleSeconds) };

  const passes: ClusterPass[] = [];
  for (const { devices, sessions } of PASSES) {
    log(`pass: ${sessions} sessions at ${devices} devices`);
    const openBefore = await open();
    const before = await snapshot(cluster, metricsUrl);
    const run = await runSessions(`c${devices}`, devices, sessions);
    await settle(run.ids, openBefore);
    await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
    const after = await snapshot(cluster, metricsUrl);
    const steps = summarize(run.stepMs);
    passes.push({
      devices,
      sessions,
      completed: run.ids.length,
      sessionsPerSecond: Math.round((run.ids.length / run.seconds) * 100) / 100,
      windowSeconds: Math.round((after.at - before.at) / 100) / 10,
      stepLatencyMs: { p50: steps.p50, p99: steps.p99, steps: steps.n },
      perSession: difference(before, after, run.ids.length || 1),
    });
    log(`c=${devices}: ${run.ids.length}/${sessions} in ${run.seconds.toFixed(0)} s, step p50 ${steps.p50} ms, p99 ${steps.p99} ms`);
  }
  clearInterval(loadSampler);

  // Per workflow type: how many each session made, and one closed history's events and Cloud actions.
  const sessionsRun = WARM_UP + passes.reduce((sum, pass) => sum + pass.sessions, 0);
  const history: ClusterResults['history'] = [];
  for (const type of WORKFLOW_TYPES) {
    const count = (await temporal.workflow.count(`WorkflowType = "${type}"`)).count;
    const events = await closedHistory(temporal, config.temporal.namespace, type);
    history.push({ workflowType: type, perSession: Math.round((count / sessionsRun) * 100) / 100, events: events.length, cloudActions: cloudActions(events) });
  }
  const shards = await historyShards(cluster.postgresUrl);

  const results: ClusterResults = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      node: process.version,
      loadAverage: { median: [...loads].sort((a, b) => a - b)[Math.floor(loads.length / 2)] ?? null, max: loads.length ? Math.max(...loads) : null },
    },
    cluster: {
      historyShards: shards,
      temporalProcesses: 1,
      workers: cluster.workers.length,
      apis: cluster.apis.length,
      flow: 'kyc-basic',
      webhooksPerSession: WEBHOOKS_PER_SESSION,
      clientRetentionSeconds: RETENTION_SECONDS,
    },
    idleCpuMsPerSecond,
    passes,
    history,
    errors: [...new Set(errors)].slice(0, 10),
    errorCount: errors.length,
    wallSeconds: Math.round((Date.now() - processStart) / 1000),
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'cluster.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(RESULTS, 'cluster.md'), renderClusterReport(results));
  log(`written bench/results/cluster.{json,md}; ${errors.length} errors`);
  await connection.close();
  await cluster.stop();
  clusterLog.end();
  receiver.close();
  process.exit(errors.length === 0 ? 0 : 1);
}

/** The workflows a kyc-basic session makes: itself, its webhook outbox, and the shredding of its key once archived. */
const WORKFLOW_TYPES = ['sessionWorkflow', 'webhookOutboxWorkflow', 'shredSessionWorkflow'] as const;

/** The events of one completed workflow of `type`, with what cloudActions reads (raw: its memo is encrypted, and nothing here is decoded). */
async function closedHistory(temporal: Client, namespace: string, type: string): Promise<HistoryEventLike[]> {
  const found = await temporal.workflowService.listWorkflowExecutions({ namespace, query: `WorkflowType = "${type}" AND ExecutionStatus = "Completed"`, pageSize: 1 });
  const execution = found.executions?.[0]?.execution;
  if (!execution?.workflowId) throw new Error(`no completed ${type} workflow`);
  const history = await temporal.workflow.getHandle(execution.workflowId, execution.runId ?? undefined).fetchHistory();
  return (history.events ?? []).map((event) => ({
    eventType: (proto.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, ''),
    markerName: event.markerRecordedEventAttributes?.markerName ?? undefined,
    attempt: event.activityTaskStartedEventAttributes?.attempt ?? undefined,
  }));
}

main().catch(async (err: unknown) => {
  process.stderr.write(`make bench-cluster failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  await stopCluster().catch(() => undefined);
  process.exit(1);
});
