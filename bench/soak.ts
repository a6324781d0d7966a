/**
 * `make soak`: the bench's stack (bench/run.ts, without the peers) under about half of its
 * saturation for SOAK_MINUTES (default 30), then bench/results/soak.{json,md}.
 *
 * 1. calibration: 32 devices run whole sessions back to back for SOAK_CALIBRATION_SECONDS
 *    (default 60): the stack's saturation, in whole sessions a second;
 * 2. the soak: whole sessions start at SOAK_LOAD (default 0.5) of that rate, evenly spaced, each
 *    as a device and its backend run it (create, launch, three steps, the signed result) and then
 *    archived by the backend, so its workflow ends and leaves the worker's cache; at most
 *    MAX_IN_FLIGHT under way (a start that finds them all busy is shed, and counts as an error);
 * 3. every 10 s: the worker's and the api's RSS (/proc) and V8 heap (every thread of the
 *    process, from bench/heap-probe.ts), and each process's CPU.
 * The first sixth of the soak is warm-up. Judged after it: memory flat (each series' mean over
 * the last ten minutes within 1.1× its mean over the first ten), the last ten minutes' p99 within 1.2× the first ten's
 * (every timed call of a session pooled; each call's own figures reported too), and 0 errors.
 * Exits non-zero when a requirement is not met.
 */
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { basicAuth, runConcurrently, sessionflowSession, type HttpJson } from './drivers';
import { compileScripts, cpuMs, gitRevision, startStack, temporalVersion, type Stack, type Started } from './run';
import { stopServices } from '../scripts/services';
import { Recorder, summarize, type LatencySummary } from './stats';

const MINUTES = Number(process.env.SOAK_MINUTES || 30);
const CALIBRATION_SECONDS = Number(process.env.SOAK_CALIBRATION_SECONDS || 60);
const LOAD = Number(process.env.SOAK_LOAD || 0.5);
const MAX_IN_FLIGHT = 64;
const SAMPLE_EVERY_MS = 10_000;
const CLIENT_ID = 'bench';
const DIR = join('.data', 'soak');
const RESULTS = join(__dirname, 'results');
/** The judged windows, in minutes from the soak's start: warm-up, the first ten, the last ten. */
const WARM_UP = MINUTES / 6;
const WINDOW = Math.min(10, (MINUTES - WARM_UP) / 2);
const FIRST = [WARM_UP, WARM_UP + WINDOW] as const;
const LAST = [MINUTES - WINDOW, MINUTES] as const;
const MEMORY_LIMIT = 1.1;
const P99_LIMIT = 1.2;

/** One timed call of a soak session, at minute `at` of the soak. */
interface Sample {
  op: string;
  at: number;
  ms: number;
}

interface MemorySample {
  at: number;
  rssBytes: Record<string, number>;
  heapBytes: Record<string, number>;
  cpuMs: Record<string, number>;
}

const WATCHED = ['worker', 'api'] as const;

function residentBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) * 1024;
}

/** The process's V8 heap in use: the latest line each of its threads wrote, added up. */
function heapBytes(dir: string, pid: number): number {
  let total = 0;
  for (const file of readdirSync(dir).filter((name) => name.startsWith(`heap-${pid}-`))) {
    const lines = readFileSync(join(dir, file), 'utf8').trimEnd().split('\n');
    total += (JSON.parse(lines[lines.length - 1]) as { heapUsed: number }).heapUsed;
  }
  return total;
}

/** A whole session as the bench runs one, then archived by its backend (its workflow ends). */
function soakSession(api: HttpJson, secret: string) {
  const run = sessionflowSession(api, CLIENT_ID, secret);
  return async (recorder: Recorder, tag: string) => {
    const id = await run(recorder, tag);
    await recorder.time('archive', () => api.call('POST', `/api/v1/public/flowx/handshake/${id}/archive`, undefined, basicAuth(CLIENT_ID, secret)), (answer) => {
      if (answer.status !== 'archived') throw new Error(`archive: expected status "archived", got ${JSON.stringify(answer.status)}`);
    });
  };
}

/** A Recorder that also keeps when each sample was taken (minutes from `start`). */
class TimedRecorder extends Recorder {
  readonly timeline: Sample[] = [];

  constructor(private readonly start: number) {
    super();
  }

  override async time<T>(op: string, work: () => Promise<T>, check?: (value: T) => void): Promise<T> {
    const before = this.samples.get(op)?.length ?? 0;
    const value = await super.time(op, work, check);
    const list = this.samples.get(op) as number[];
    if (list.length > before) this.timeline.push({ op, at: (performance.now() - this.start) / 60_000, ms: list[list.length - 1] });
    return value;
  }
}

/** Sessions started at `perSecond`, evenly spaced, for `minutes`; resolves when the last one ended. */
async function openLoop(perSecond: number, minutes: number, recorder: TimedRecorder, session: (recorder: Recorder, tag: string) => Promise<void>) {
  const start = performance.now();
  const gapMs = 1000 / perSecond;
  const running = new Set<Promise<void>>();
  let shed = 0;
  let started = 0;
  for (let i = 0; ; i += 1) {
    const due = start + i * gapMs;
    if (due - start >= minutes * 60_000) break;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
    if (running.size >= MAX_IN_FLIGHT) {
      shed += 1;
      recorder.fail(new Error(`session ${i} shed: ${MAX_IN_FLIGHT} sessions under way`));
      continue;
    }
    started += 1;
    const one: Promise<void> = session(recorder, `soak-${i}`)
      .catch((err: unknown) => recorder.fail(err))
      .finally(() => running.delete(one));
    running.add(one);
  }
  await Promise.all(running);
  return { started, shed };
}

function within(samples: readonly Sample[], [from, to]: readonly [number, number], op?: string): number[] {
  return samples.filter((s) => s.at >= from && s.at < to && (op === undefined || s.op === op)).map((s) => s.ms);
}

/**
 * A series' mean over the first and the last window: flat when the last is at most MEMORY_LIMIT
 * times the first. Window means, not single readings: a heap rises and falls by tens of MiB
 * between two collections, which is not growth.
 */
function drift(samples: readonly MemorySample[], read: (s: MemorySample) => number) {
  const mean = ([from, to]: readonly [number, number]) => {
    const values = samples.filter((s) => s.at >= from && s.at < to).map(read);
    return values.reduce((sum, value) => sum + value, 0) / values.length;
  };
  const after = samples.filter((s) => s.at >= WARM_UP).map(read);
  const [firstBytes, lastBytes] = [mean(FIRST), mean(LAST)];
  return { firstBytes, lastBytes, ratio: Math.round((lastBytes / firstBytes) * 1000) / 1000, lowestBytes: Math.min(...after), highestBytes: Math.max(...after) };
}

async function main(): Promise<number> {
  rmSync(DIR, { recursive: true, force: true });
  const heapDir = resolve(DIR, 'heap');
  mkdirSync(heapDir, { recursive: true });
  const log = createWriteStream(join(DIR, 'services.log'));
  const say = (line: string) => process.stdout.write(`soak: ${line}\n`);
  const started: Started = { server: null, services: [], restateDir: null };
  let stack: Stack | null = null;
  const stopAll = async () => {
    await stopServices(started.services);
    await stack?.api.close();
    await started.server?.stop();
    log.end();
  };
  const interrupt = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    say(`starting the bench's stack without its peers (logs in ${join(DIR, 'services.log')})`);
    compileScripts(['bench/heap-probe.ts'], join(DIR, 'probe'));
    const extraEnv = { NODE_OPTIONS: `--require ${resolve(DIR, 'probe', 'bench', 'heap-probe.js')}`, BENCH_HEAP_DIR: heapDir };
    stack = await startStack(DIR, (line) => log.write(`${line}\n`), started, { peers: false, extraEnv });
    const api = stack.api;
    const session = soakSession(api, stack.secret);
    const warm = new Recorder();
    await runConcurrently(4, 20, warm, (i) => session(warm, `warm-${i}`));
    if (warm.errors > 0) throw new Error(`the warm-up failed: ${warm.errorExamples.join('; ')}`);

    say(`calibration: 32 devices for ${CALIBRATION_SECONDS} s`);
    const calibration = new Recorder();
    let calibrated = 0;
    const from = performance.now();
    const until = from + CALIBRATION_SECONDS * 1000;
    // Devices running whole sessions back to back until the time is over; any failure stops it.
    await Promise.all(
      Array.from({ length: 32 }, async (_, device) => {
        for (let i = 0; performance.now() < until; i += 1) {
          await session(calibration, `calibrate-${device}-${i}`);
          calibrated += 1;
        }
      }),
    );
    const saturation = (calibrated / (performance.now() - from)) * 1000;
    const rate = saturation * LOAD;
    say(`saturation ${saturation.toFixed(2)} sessions/s; soaking at ${rate.toFixed(2)} sessions/s for ${MINUTES} minutes`);
    await new Promise((done) => setTimeout(done, 5_000));

    const start = performance.now();
    const recorder = new TimedRecorder(start);
    const memory: MemorySample[] = [];
    const pids = Object.fromEntries(stack.services.map((s) => [s.name, s.child.pid as number]));
    const sample = () => {
      const at = (performance.now() - start) / 60_000;
      memory.push({
        at,
        rssBytes: Object.fromEntries(WATCHED.map((name) => [name, residentBytes(pids[name])])),
        heapBytes: Object.fromEntries(WATCHED.map((name) => [name, heapBytes(heapDir, pids[name])])),
        cpuMs: { temporal: cpuMs(stack!.server.process.pid as number), ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)])) },
      });
    };
    sample();
    const sampler = setInterval(sample, SAMPLE_EVERY_MS);
    const progress = setInterval(() => say(`${((performance.now() - start) / 60_000).toFixed(0)} min, ${recorder.timeline.length} calls, ${recorder.errors} errors`), 5 * 60_000);
    const load = await openLoop(rate, MINUTES, recorder, session);
    clearInterval(sampler);
    clearInterval(progress);
    sample();

    const ops = [...recorder.samples.keys()];
    const windowSummary = (range: readonly [number, number]) => ({
      all: summarize(within(recorder.timeline, range)),
      byCall: Object.fromEntries(ops.map((op) => [op, summarize(within(recorder.timeline, range, op))])) as Record<string, LatencySummary>,
    });
    const first = windowSummary(FIRST);
    const last = windowSummary(LAST);
    const memoryFlatness = Object.fromEntries(
      WATCHED.map((name) => [name, { rss: drift(memory, (s) => s.rssBytes[name]), heap: drift(memory, (s) => s.heapBytes[name]) }]),
    );
    const end = memory[memory.length - 1];
    const soakSeconds = (end.at - memory[0].at) * 60;
    const cpuShare = Object.fromEntries(Object.keys(end.cpuMs).map((name) => [name, Math.round(((end.cpuMs[name] - memory[0].cpuMs[name]) / 1000 / soakSeconds) * 1000) / 1000]));
    const p99Ratio = Math.round((last.all.p99 / first.all.p99) * 1000) / 1000;
    const memoryMet = Object.values(memoryFlatness).every((m) => m.rss.ratio <= MEMORY_LIMIT && m.heap.ratio <= MEMORY_LIMIT);
    const report = {
      generatedAt: new Date().toISOString(),
      revision: gitRevision(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, temporal: temporalVersion() },
      settings: { minutes: MINUTES, calibrationSeconds: CALIBRATION_SECONDS, load: LOAD, maxInFlight: MAX_IN_FLIGHT, sampleEveryMs: SAMPLE_EVERY_MS, windowsMinutes: { warmUp: [0, WARM_UP], first: FIRST, last: LAST } },
      saturationSessionsPerSecond: Math.round(saturation * 100) / 100,
      sessionsPerSecond: Math.round(rate * 100) / 100,
      sessions: { started: load.started, shed: load.shed, completed: recorder.samples.get('archive')?.length ?? 0 },
      cpuCoresUsed: cpuShare,
      errors: recorder.errors,
      errorExamples: recorder.errorExamples,
      latencyMs: { first, last },
      memory: memoryFlatness,
      memorySamples: memory,
      requirements: {
        memoryFlat: { limit: MEMORY_LIMIT, met: memoryMet },
        p99: { limit: P99_LIMIT, ratio: p99Ratio, met: p99Ratio <= P99_LIMIT },
        errors: { limit: 0, met: recorder.errors === 0 },
      },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(RESULTS, 'soak.md'), soakMarkdown(report));
    process.stdout.write(`\n${soakMarkdown(report)}\n`);
    const met = Object.values(report.requirements).every((r) => r.met);
    say(met ? 'every requirement met' : 'a requirement is not met');
    return met ? 0 : 1;
  } finally {
    await stopAll();
  }
}

type SoakReport = {
  generatedAt: string;
  revision: string;
  machine: { cpus: number; cpuModel: string; node: string; temporal: string };
  settings: { minutes: number; load: number };
  saturationSessionsPerSecond: number;
  sessionsPerSecond: number;
  sessions: { started: number; shed: number; completed: number };
  cpuCoresUsed: Record<string, number>;
  errors: number;
  errorExamples: string[];
  latencyMs: Record<'first' | 'last', { all: LatencySummary; byCall: Record<string, LatencySummary> }>;
  memory: Record<string, Record<'rss' | 'heap', { firstBytes: number; lastBytes: number; ratio: number; lowestBytes: number; highestBytes: number }>>;
  requirements: Record<'memoryFlat' | 'p99' | 'errors', { limit: number; met: boolean; ratio?: number }>;
};

function soakMarkdown(report: SoakReport): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const verdict = (met: boolean) => (met ? 'met' : '**not met**');
  const { first, last } = report.latencyMs;
  const cores = Object.values(report.cpuCoresUsed).reduce((sum, value) => sum + value, 0);
  return [
    '# make soak',
    '',
    `${report.generatedAt}, commit ${report.revision}, ${report.machine.cpus} cores (${report.machine.cpuModel}), Node ${report.machine.node}, ${report.machine.temporal}.`,
    '',
    `The bench's stack (Temporal dev server in memory, sandbox, one worker, one api) for ${report.settings.minutes} minutes at ${report.sessionsPerSecond} whole sessions a second: ${report.settings.load} of the ${report.saturationSessionsPerSecond} the stack ran at 32 devices just before. Each session: create, launch, three steps, the signed result, then archived. Its processes used ${cores.toFixed(2)} of ${report.machine.cpus} cores (${Object.entries(report.cpuCoresUsed).map(([name, value]) => `${name} ${value}`).join(', ')}).`,
    '',
    '| requirement | measured | |',
    '|---|---|---|',
    `| worker and api RSS and heap flat after warm-up, within 10 % (mean of the last ten minutes against the first ten) | ${Object.entries(report.memory).map(([name, m]) => `${name} RSS ${mib(m.rss.firstBytes)} → ${mib(m.rss.lastBytes)} (${m.rss.ratio}×), heap ${mib(m.heap.firstBytes)} → ${mib(m.heap.lastBytes)} (${m.heap.ratio}×)`).join('; ')} | ${verdict(report.requirements.memoryFlat.met)} |`,
    `| the last 10 minutes' p99 within 1.2× the first 10's (every call) | ${first.all.p99.toFixed(1)} → ${last.all.p99.toFixed(1)} ms (${report.requirements.p99.ratio}×) | ${verdict(report.requirements.p99.met)} |`,
    `| 0 errors | ${report.errors} (${report.sessions.started} sessions started, ${report.sessions.completed} archived, ${report.sessions.shed} shed) | ${verdict(report.requirements.errors.met)} |`,
    '',
    'Each call, first ten minutes after warm-up → last ten (ms):',
    '',
    '| call | n | p50 | p99 |',
    '|---|---|---|---|',
    ...Object.keys(first.byCall).map((op) => `| ${op} | ${first.byCall[op].n} → ${last.byCall[op].n} | ${first.byCall[op].p50.toFixed(1)} → ${last.byCall[op].p50.toFixed(1)} | ${first.byCall[op].p99.toFixed(1)} → ${last.byCall[op].p99.toFixed(1)} |`),
    ...(report.errorExamples.length ? ['', 'Errors, first few:', '', ...report.errorExamples.map((e) => `- ${e}`)] : []),
    '',
  ].join('\n');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
