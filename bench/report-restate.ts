/**
 * The report's section on the Restate peer (issue #31): its figures beside sessionflow's and
 * the naive peer's, and where the difference comes from. No target: an honest number.
 */
import type { LatencySummary } from './stats';
import type { PassResult } from './report';

/** Restate's default that decides what a durable step costs, at the version the bench pins. */
export const RESTATE_FSYNC_REFERENCE = 'https://github.com/restatedev/restate/blob/v1.7.12/crates/types/src/config/log_server.rs';

const ms = (summary: LatencySummary | undefined) => (summary ? summary.p50.toFixed(1) : '');
const rate = (value: number | undefined) => (value === undefined ? '' : value.toFixed(1));
const cpu = (value: number | undefined) => (value === undefined ? 'n/a' : value.toFixed(1));

/** A cell of three: Restate's value, then sessionflow's, then the naive peer's. */
const three = (pass: PassResult, pick: (m: NonNullable<PassResult['restate']>) => string) =>
  [pass.restate, pass.sessionflow, pass.peer].map((m) => (m ? pick(m) : '–')).join(' / ');

function comparison(passes: PassResult[]): string {
  const header = [
    'concurrent devices',
    'input step p50 (ms)',
    'provider step p50 (ms)',
    'final step p50 (ms)',
    'whole sessions/s',
    "engine's CPU per session (ms)",
    'CPU of the rest per session (ms)',
  ];
  // The engine is the Restate server for the Restate peer, the Temporal server for the other two.
  const engineCpu = (m: NonNullable<PassResult['restate']>, engine: string) => cpu(m.cpuMsPerSession[engine]);
  const rest = (m: NonNullable<PassResult['restate']>, processes: string[]) => cpu(processes.reduce((sum, name) => sum + (m.cpuMsPerSession[name] ?? 0), 0));
  const rows = passes
    .filter((pass) => pass.restate)
    .map((pass) => [
      String(pass.concurrency),
      three(pass, (m) => ms(m.ops['input step'])),
      three(pass, (m) => ms(m.ops['provider step'])),
      three(pass, (m) => ms(m.ops['final step'])),
      three(pass, (m) => rate(m.sessionsPerSecond)),
      [pass.restate && engineCpu(pass.restate, 'restate'), pass.sessionflow && engineCpu(pass.sessionflow, 'temporal'), pass.peer && engineCpu(pass.peer, 'temporal')]
        .map((v) => v ?? '–')
        .join(' / '),
      [
        pass.restate && rest(pass.restate, ['restate-service', 'restate-front']),
        pass.sessionflow && rest(pass.sessionflow, ['worker', 'api']),
        pass.peer && rest(pass.peer, ['bench-worker', 'peer']),
      ]
        .map((v) => v ?? '–')
        .join(' / '),
    ]);
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

/** The run's own figures for the explanation: the engines' CPU and an input step, at the first concurrency measuring both. */
function inNumbers(passes: PassResult[]): string[] {
  const pass = passes.find((p) => p.restate && p.sessionflow);
  if (!pass?.restate || !pass.sessionflow) return [];
  const restateCpu = pass.restate.cpuMsPerSession.restate ?? Number.NaN;
  const temporalCpu = pass.sessionflow.cpuMsPerSession.temporal ?? Number.NaN;
  const step = (m: NonNullable<PassResult['restate']>) => m.ops['input step']?.p50 ?? Number.NaN;
  return [
    `In this run, at ${pass.concurrency} device${pass.concurrency === 1 ? '' : 's'}, a whole session cost the Restate server ` +
      `${restateCpu.toFixed(1)} ms of CPU and the Temporal server ${temporalCpu.toFixed(1)} ms for sessionflow ` +
      `(${(temporalCpu / restateCpu).toFixed(1)}×); an input step took ${step(pass.restate).toFixed(1)} ms on Restate and ` +
      `${step(pass.sessionflow).toFixed(1)} ms on sessionflow at p50.`,
    '',
  ];
}

export function restateSection(passes: PassResult[]): string[] {
  if (!passes.some((pass) => pass.restate)) return [];
  return [
    '## The Restate peer',
    '',
    'The same three-step flow as a Restate virtual object keyed by the session (`bench/restate-peer.ts`, TypeScript SDK), ' +
      'behind the same routes as the naive peer (`bench/restate-front.ts`), driven by the same driver. Each cell reads ' +
      'Restate / sessionflow / naive peer. "The rest" is the service and front processes: the Restate service endpoint and ' +
      'its front, sessionflow\'s worker and api, the naive peer\'s worker and front.',
    '',
    comparison(passes),
    '',
    'Where the difference comes from:',
    '',
    ...inNumbers(passes),
    '- **Engine.** Restate is one Rust process that is ingress, durable log, partition processors and invoker at once. A step ' +
      'is one HTTP call to its ingress, one invocation of the handler over an HTTP/2 stream to the service (the session\'s ' +
      'state travels with it), and the answer once the invocation is done. A Temporal update goes through the frontend and ' +
      'history services and, as a workflow task, through matching to a worker\'s long poll, and is answered once the task\'s ' +
      'completion is recorded in the history; the ' +
      'naive peer sends a signal and then polls a query, two trips of that path. A provider step on Temporal is three workflow ' +
      'tasks and two activity tasks, each a poll and a completion; on Restate the two calls run inside the one invocation.',
    '- **Storage.** The Temporal dev server of this bench keeps its database in memory: nothing it records reaches the disk ' +
      '(a file database makes every write wait for the disk; see bench/README.md). The Restate server runs as it ships: every ' +
      'journal entry and state change is appended to its durable log on disk (RocksDB, in a fresh directory under the ' +
      'system\'s temporary folder), and the SDK runs no `ctx.run` side effect until the previous one\'s result is durable.',
    `- **fsync.** By default Restate's log server fsyncs its RocksDB write-ahead log on every write batch ` +
      `(\`log-server.rocksdb-disable-wal-fsync = false\`: [log_server.rs](${RESTATE_FSYNC_REFERENCE}); \`restate-server --dump-config\` prints it). ` +
      'So each Restate step waits for at least one fsync, and a provider step for one per `ctx.run` besides; Temporal here waits for none. ' +
      'What that costs depends on the disk: bench/README.md gives a count and a cost measured with strace. ' +
      'A batch holds whatever appends are waiting, so with more devices one fsync serves several sessions\' steps. Of the three, ' +
      'only the Restate peer would keep an acknowledged step through a power cut; a Temporal on PostgreSQL (`make cluster`) pays for its commits too.',
    '',
  ];
}
