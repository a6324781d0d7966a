/**
 * `make bench`: a fresh embedded stack (Temporal dev server with a new database, sandboxes,
 * worker, api), plus the benchmark's own worker, the naive peer and the Restate peer (its own
 * Restate server), all on this machine. It measures the baselines, sessionflow and both peers
 * at each concurrency, history sizes and worker memory, then writes bench/results/
 * (latest.json, latest.md, latency.svg/.png). BENCH_QUICK=1 runs a tenth of it, and
 * BENCH_ONLY, BENCH_DEVICES and BENCH_SESSIONS (bench/selection.ts) a part of it: both write to
 * .data/bench/results instead, to try changes.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { CLIENTS_ENV, CLIENTS_FILE_ENV } from '../src/tenants/registry';
import { CONFIG_VARIABLES, loadConfig } from '../src/config';
import { openEncryption } from '../src/keys/encryption';
import { initialiseKeyStore, initSettings } from '../src/keys/init';
import { writeWorkflowBundle } from '../scripts/bundle-workflows';
import { SOURCE_ROOT } from '../src/worker/workflow-bundle';
import { freePort, startDevServer, type DevServer } from '../scripts/dev-server';
import { compileServices } from '../scripts/compile-services';
import { startService, stopService, stopServices, type LineSink, type Service } from '../scripts/services';
import {
  ATTESTR_PROVIDER_STEP,
  BENCH_TASK_QUEUE,
  HttpJson,
  peerSession,
  rawStarts,
  rawUpdates,
  basicAuth,
  directInputStep,
  openSession,
  pause,
  runConcurrently,
  sessionflowSession,
  type Observer,
  STEPS,
  type SessionRun,
} from './drivers';
import { IDENTITY } from './kyc-http';
import { PEER_POLL_INTERVAL_MS } from './peer-server';
import { historyOf } from './history';
import { writeReports, type BenchResults, type EncryptionResult, type PassResult } from './report';
import { Recorder } from './stats';
import { restateServerVersion, startRestatePeer } from './restate-stack';
import { CONCURRENCY as ALL_CONCURRENCY, readSelection, SYSTEMS, type Concurrency, type System } from './selection';
import { medianBreakdown, sessionSteps, startOtlpReceiver } from './traces';
import { measureFunnelWrites } from './funnel-writes';

const QUICK = process.env.BENCH_QUICK === '1';
const SELECTION = (() => {
  try {
    return readSelection(process.env);
  } catch (err) {
    // A variable it cannot read stops the run before anything starts, in one line.
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
})();
const scale = (n: number) => SELECTION.sessions ?? (QUICK ? Math.max(4, Math.round(n / 10)) : n);

const CONCURRENCY = SELECTION.concurrency;
/** Whole sessions per pass; the raw baselines take as many calls as the sessions take steps. */
const SESSIONS: Record<Concurrency, number> = { 1: scale(150), 8: scale(400), 32: scale(640) };
const measures = (system: System) => SELECTION.systems.includes(system);
/** Temporal's floor is measured when something on Temporal is. */
const MEASURES_FLOOR = measures('sessionflow') || measures('peer');
const MEMORY_POINTS = QUICK ? [100, 500] : [1_000, 5_000];
/** Whole sessions, one at a time, through the traced pair (where each call's time goes). */
const TRACED_SESSIONS = scale(100);
/** Session ends written to a scratch funnel store, to price the funnel's write alone. */
const FUNNEL_WRITES = scale(500);
/** Whole sessions per variant in the encryption comparison, at one device. */
const ENCRYPTION_SESSIONS = scale(150);
const CLIENT_ID = 'bench';

/** What has been started so far, so that a failure halfway through still stops all of it. */
export interface Started {
  server: DevServer | null;
  services: Service[];
  /** The Restate server's data directory, removed once it stopped. */
  restateDir: string | null;
}

/** The caller's environment without anything sessionflow reads: the bench sets all of that. */
function neutralEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [...CONFIG_VARIABLES, CLIENTS_ENV, CLIENTS_FILE_ENV, 'DEVICE_TOKEN_SECRET']) delete env[name];
  return env;
}

/** Compiles bench scripts (and what they import) to plain JavaScript in `outDir`, for node to run as it runs the services. */
export function compileScripts(files: string[], outDir: string): void {
  execFileSync(
    process.execPath,
    [
      require.resolve('typescript/bin/tsc'),
      ...files,
      ...['--outDir', outDir, '--rootDir', '.', '--module', 'commonjs', '--moduleResolution', 'node', '--target', 'ES2022'],
      ...['--esModuleInterop', '--skipLibCheck', '--resolveJsonModule', '--strict', '--types', 'node'],
    ],
    { stdio: 'inherit' },
  );
}

/** What a stack holds beyond sessionflow's own worker, api and sandbox. */
export interface StackOptions {
  /** The naive peer with its worker, the pair without encryption and, if measured, the Restate peer. */
  peers: boolean;
  /** Variables for every service, over the bench's own. */
  extraEnv?: NodeJS.ProcessEnv;
}

export async function startStack(dir: string, sink: LineSink, started: Started, options: StackOptions = { peers: true }) {
  const cli = process.env.TEMPORAL_CLI;
  if (!cli) throw new Error('TEMPORAL_CLI must name the Temporal CLI; run this through `make bench`');
  // An in-memory database, as `make test` uses: the file database of `make start` makes every
  // write wait for the disk, and then the disk is what gets measured.
  const server = await startDevServer({ cli, port: await freePort(), logFile: join(dir, 'temporal.log') });
  started.server = server;
  // The services run compiled, as in production (the Dockerfile's `node dist/...`).
  const dist = await compileServices(join(dir, 'dist'));
  // The pair without encryption (bench/plain-services.ts), compiled the same way.
  const plainDist = join(dir, 'dist-plain');
  if (options.peers) compileScripts(['bench/plain-services.ts', 'src/keys/failure-converter.ts'], plainDist);
  const sessionBundle = join(dir, 'session-workflows.js');
  const benchBundle = join(dir, 'bench-workflows.js');
  await writeWorkflowBundle(sessionBundle);
  if (options.peers) await writeWorkflowBundle(benchBundle, require.resolve('./workflows'));
  // The bench flow, and kyc-basic for the history of an Attestr (one call) provider step.
  const flowsDir = join(dir, 'flows');
  mkdirSync(flowsDir);
  copyFileSync(join('bench', 'flows', 'bench-kyc.json'), join(flowsDir, 'bench-kyc.json'));
  copyFileSync(join('flows', 'kyc-basic.json'), join(flowsDir, 'kyc-basic.json'));
  const [apiPort, sandboxPort, peerPort, workerPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const secret = randomBytes(32).toString('base64url');
  const env: NodeJS.ProcessEnv = {
    ...neutralEnv(),
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    DATA_DIR: dir,
    FLOWS_DIR: flowsDir,
    SANDBOX_PORT: String(sandboxPort),
    SESSIONFLOW_CLIENTS: JSON.stringify([{ id: CLIENT_ID, secret, perSecond: 1_000_000, perDay: 100_000_000 }]),
    DEVICE_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    // Every simulated device talks from 127.0.0.1: the per-address limits (60 launches a minute
    // by default) are for people and scripts, not for the load generator.
    ADDRESS_DEVICE_CLIENTS_PER_MINUTE: '1000000',
    ADDRESS_LAUNCHES_PER_MINUTE: '1000000',
    ADDRESS_AUTH_FAILURES_PER_MINUTE: '1000000',
    ADDRESS_SESSION_REQUESTS_PER_MINUTE: '1000000',
    ADDRESS_SESSION_FAILURES_PER_MINUTE: '1000000',
    WORKFLOW_BUNDLE_PATH: sessionBundle,
    // Room for every session the memory pass opens, so none is evicted from the cache.
    WORKER_MAX_CACHED_WORKFLOWS: String(MEMORY_POINTS[MEMORY_POINTS.length - 1] + 1_000),
    WORKER_METRICS_PORT: String(workerPort),
    ...options.extraEnv,
  };
  // The key store's init step, as make start runs it, before any process that reads keys.
  await initialiseKeyStore(initSettings(loadConfig(env)));
  const { services } = started;
  const start = (name: string, entry: string, extra: NodeJS.ProcessEnv, ready: RegExp) => startService(name, entry, { ...env, ...extra }, ready, sink);
  const startWorker = () => start('worker', join(dist, 'worker.js'), {}, /polling task queue/);
  services.push(await start('sandbox', join(dist, 'sandbox', 'main.js'), {}, /listening on/));
  services.push(await startWorker());
  services.push(await start('api', join(dist, 'api', 'main.js'), { PORT: String(apiPort) }, /Server listening at/));
  if (options.peers) {
    services.push(await start('bench-worker', join(dist, 'worker.js'), { TEMPORAL_TASK_QUEUE: BENCH_TASK_QUEUE, WORKFLOW_BUNDLE_PATH: benchBundle, WORKER_METRICS_PORT: '' }, /polling task queue/));
    services.push(await start('peer', 'bench/peer-server.ts', { PORT: String(peerPort), TEMPORAL_TASK_QUEUE: BENCH_TASK_QUEUE }, /peer listening/));
  }
  let restate: HttpJson | null = null;
  if (options.peers && measures('restate')) {
    // On the disk, outside the repository: Restate's log is durable (fsynced), as it ships.
    started.restateDir = mkdtempSync(join(tmpdir(), 'sessionflow-bench-restate-'));
    restate = new HttpJson(await startRestatePeer(env, sink, services, started.restateDir));
  }
  return {
    server,
    services,
    api: new HttpJson(`http://127.0.0.1:${apiPort}`),
    peer: new HttpJson(`http://127.0.0.1:${peerPort}`),
    restate,
    workerMetrics: `http://127.0.0.1:${workerPort}/metrics`,
    sandbox: `http://127.0.0.1:${sandboxPort}`,
    secret,
    /**
     * Another worker and api on a task queue of their own, for the encryption comparison: the
     * project's own (`dist`, with `extra` settings) or the pair without encryption (`plain`).
     */
    async startPair(name: string, kind: 'dist' | 'plain', extra: NodeJS.ProcessEnv): Promise<{ api: HttpJson; services: Service[] }> {
      const pairEnv = { TEMPORAL_TASK_QUEUE: `sessionflow-${name}`, WORKER_METRICS_PORT: '', ...extra };
      const port = await freePort();
      const [workerEntry, apiEntry] =
        kind === 'dist' ? [join(dist, 'worker.js'), join(dist, 'api', 'main.js')] : [join(plainDist, 'bench', 'plain-services.js'), join(plainDist, 'bench', 'plain-services.js')];
      const role = (r: string) => (kind === 'plain' ? { BENCH_PLAIN_ROLE: r } : {});
      const pair = [await start(`${name}-worker`, workerEntry, { ...pairEnv, ...role('worker') }, /polling task queue/)];
      pair.push(await start(`${name}-api`, apiEntry, { ...pairEnv, ...role('api'), PORT: String(port) }, /Server listening at/));
      services.push(...pair);
      return { api: new HttpJson(`http://127.0.0.1:${port}`), services: pair };
    },
    /** Replaces the session worker with a new process: an empty cache for the memory pass. */
    async restartWorker(): Promise<Service> {
      const index = services.findIndex((service) => service.name === 'worker');
      await stopService(services[index]);
      services[index] = await startWorker();
      return services[index];
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user and system, ms) a process used so far, from /proc. */
export function cpuMs(pid: number): number {
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1000;
}

/** CPU time of every process of the stack, and of this load generator. */
function cpuByProcess(stack: Stack): Record<string, number> {
  const usage = process.cpuUsage();
  return {
    temporal: cpuMs(stack.server.process.pid as number),
    ...Object.fromEntries(stack.services.map((service) => [service.name, cpuMs(service.child.pid as number)])),
    load: (usage.user + usage.system) / 1000,
  };
}

/** CPU ms per unit of work, by process, between two readings. */
function cpuPer(before: Record<string, number>, after: Record<string, number>, units: number): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, ms]) => [name, Math.round(((ms - before[name]) / units) * 10) / 10]));
}

/** The raw calls, then sessions through sessionflow and each peer (in turns first), at one concurrency. */
async function measurePass(stack: Stack, temporal: Client, concurrency: Concurrency): Promise<PassResult> {
  const sessions = SESSIONS[concurrency];
  const runs: Record<System, () => SessionRun> = {
    sessionflow: () => sessionflowSession(stack.api, CLIENT_ID, stack.secret),
    peer: () => peerSession(stack.peer),
    // The same driver as the naive peer's: the Restate front answers the same routes.
    restate: () => peerSession(stack.restate as HttpJson),
  };
  const result: PassResult = { concurrency };
  // The floor first, on a server that no earlier pass of this concurrency has loaded.
  if (MEASURES_FLOOR) result.baseline = await measureFloor(stack, temporal, concurrency, sessions);
  // Take turns going first (each concurrency starts with the next), so none always runs on the fuller servers.
  const turn = ALL_CONCURRENCY.indexOf(concurrency);
  const order = [...SYSTEMS.slice(turn), ...SYSTEMS.slice(0, turn)].filter(measures);
  for (const name of order) {
    const recorder = new Recorder();
    const run = runs[name]();
    const before = cpuByProcess(stack);
    const wallMs = await runConcurrently(concurrency, sessions, recorder, (i) => run(recorder, `${name}-c${concurrency}-${i}`));
    const after = cpuByProcess(stack);
    await pause();
    result[name] = {
      ops: recorder.summaries(),
      sessions,
      errors: recorder.errors,
      errorExamples: recorder.errorExamples,
      sessionsPerSecond: (sessions / wallMs) * 1000,
      cpuMsPerSession: cpuPer(before, after, sessions),
    };
  }
  return result;
}

/** Temporal's floor (raw starts and updates), then sessionflow's input step without the api. */
async function measureFloor(stack: Stack, temporal: Client, concurrency: Concurrency, sessions: number): Promise<NonNullable<PassResult['baseline']>> {
  const baseline = new Recorder();
  const calls = sessions * STEPS.length;
  const cpuBefore = cpuByProcess(stack);
  await rawStarts(temporal, baseline, concurrency, calls);
  await pause();
  await rawUpdates(temporal, baseline, concurrency, calls);
  const cpuAfter = cpuByProcess(stack);
  await pause();
  if (measures('sessionflow')) {
    const direct = directInputStep(stack.api, temporal, CLIENT_ID, stack.secret);
    await runConcurrently(concurrency, sessions, baseline, (i) => direct(baseline, `direct-c${concurrency}-${i}`));
    await pause();
  }
  return { ops: baseline.summaries(), errors: baseline.errors, errorExamples: baseline.errorExamples, cpuMsPerCall: cpuPer(cpuBefore, cpuAfter, calls * 2) };
}

/**
 * What payload encryption costs, at one device: the same sessions, taking turns, through three
 * api and worker pairs on one server: the stack's own (encrypted, keys cached), one without
 * encryption (bench/plain-services.ts), and one encrypting with the key cache off
 * (SESSIONFLOW_KEY_CACHE_SECONDS=0: every payload reads its key from the store), which shows
 * what the cache saves.
 */
async function measureEncryption(stack: Stack): Promise<EncryptionResult> {
  const plain = await stack.startPair('plain', 'plain', {});
  const uncached = await stack.startPair('uncached', 'dist', { SESSIONFLOW_KEY_CACHE_SECONDS: '0' });
  const variants = [
    { name: 'encrypted' as const, api: stack.api, recorder: new Recorder() },
    { name: 'plain' as const, api: plain.api, recorder: new Recorder() },
    { name: 'encryptedWithoutKeyCache' as const, api: uncached.api, recorder: new Recorder() },
  ];
  try {
    // A few untimed sessions each first: the new processes warm up as the stack's did.
    const warmup = new Recorder();
    for (const variant of variants) await runConcurrently(1, 5, warmup, (i) => sessionflowSession(variant.api, CLIENT_ID, stack.secret)(warmup, `warm-${variant.name}-${i}`));
    if (warmup.errors > 0) throw new Error(`the encryption warm-up failed: ${warmup.errorExamples.join('; ')}`);
    await pause();
    for (let i = 0; i < ENCRYPTION_SESSIONS; i += 1) {
      // Turns, each round starting with the next variant, so none always runs on the fuller server.
      for (let k = 0; k < variants.length; k += 1) {
        const { name, api, recorder } = variants[(i + k) % variants.length];
        await runConcurrently(1, 1, recorder, () => sessionflowSession(api, CLIENT_ID, stack.secret)(recorder, `${name}-${i}`));
      }
    }
  } finally {
    await Promise.all([plain.api.close(), uncached.api.close()]);
    const pairs = [...plain.services, ...uncached.services];
    await stopServices(pairs);
    // Gone from the stack's list too: its CPU readings look at every listed process.
    for (const service of pairs) stack.services.splice(stack.services.indexOf(service), 1);
  }
  const result = { sessions: ENCRYPTION_SESSIONS } as EncryptionResult;
  for (const { name, recorder } of variants) result[name] = { ops: recorder.summaries(), errors: recorder.errors, errorExamples: recorder.errorExamples };
  return result;
}

/**
 * Where each call's time goes: whole sessions at one device through another api and worker pair,
 * with tracing on (the traced workflow bundle) and exporting to the bench's own OTLP receiver;
 * each create's, launch's and step's trace split by bench/traces.ts. Apart from the stack's pair, so no other
 * measurement pays for tracing.
 */
async function measureTraces(stack: Stack, dir: string): Promise<NonNullable<BenchResults['traces']>> {
  const receiver = await startOtlpReceiver();
  const bundle = join(dir, 'session-workflows-traced.js');
  await writeWorkflowBundle(bundle, undefined, { root: SOURCE_ROOT, traced: true });
  const pair = await stack.startPair('traced', 'dist', { SESSIONFLOW_OTLP_ENDPOINT: receiver.url, WORKFLOW_BUNDLE_PATH: bundle });
  const stepNames = STEPS.map((step) => step.op);
  const seen = () => Math.min(...[...sessionSteps(receiver.spans, stepNames).values()].map((steps) => steps.length));
  try {
    const recorder = new Recorder();
    await runConcurrently(1, TRACED_SESSIONS, recorder, (i) => sessionflowSession(pair.api, CLIENT_ID, stack.secret)(recorder, `traced-${i}`));
    if (recorder.errors > 0) throw new Error(`the traced sessions failed: ${recorder.errorExamples.join('; ')}`);
    // The processes export in batches (every few seconds): wait for the last ones, a while at most.
    for (let waited = 0; seen() < TRACED_SESSIONS && waited < 30; waited += 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
  } finally {
    await pair.api.close();
    await stopServices(pair.services);
    for (const service of pair.services) stack.services.splice(stack.services.indexOf(service), 1);
    await receiver.close();
  }
  const steps = sessionSteps(receiver.spans, stepNames);
  return { sessions: seen(), steps: Object.fromEntries([...steps].map(([op, list]) => [op, medianBreakdown(list)])) };
}

/**
 * kyc-basic, call by call: its Attestr stage is a provider step of one provider call (the
 * bench flow's Finqware step makes two), and its identity step enters that stage, which
 * creates the Attestr handshake.
 */
function kycBasicRun(stack: Stack): (observe: Observer) => Promise<unknown> {
  return async (observe) => {
    const call = async (op: string, path: string, body?: unknown, headers?: Record<string, string>) => {
      const answer = await stack.api.call('POST', path, body, headers);
      await observe(op, answer);
      return answer;
    };
    const created = await call('create', '/api/v1/public/flowx/handshake', { flow: 'kyc-basic', snapshot: null, tag: 'history-kyc' }, basicAuth(CLIENT_ID, stack.secret));
    const steps = `/v1/sessions/${String(created._id)}/steps`;
    const step = (nonce: unknown, name: string, data: unknown) => ({ client_id: CLIENT_ID, skill: 'kyc-basic', nonce, step: name, data });
    const launched = await call('launch', `/v1/handshakes/${String(created._id)}/launch`);
    // The sandbox's sample person: the national ID's name matches, so no review stops the session.
    const identity = await call('input step, entering the Attestr stage (creates its handshake: one call)', steps, step(launched.nonce, 'identity', IDENTITY));
    const handshake = String((identity.data as Record<string, unknown>).handshakeId);
    // The user finishing Attestr's own flow, as the sandbox plays it (no webhook here).
    const completed = await fetch(`${stack.sandbox}/attestr/_device/handshakes/${handshake}/complete`, { method: 'POST' });
    if (!completed.ok) throw new Error(`the Attestr sandbox did not complete the handshake (${completed.status})`);
    const aadhaar = await call(ATTESTR_PROVIDER_STEP, steps, step(identity.nonce, 'aadhaar', {}));
    if ((aadhaar.data as Record<string, unknown>).step !== 'bank') throw new Error('kyc-basic: the Attestr step did not move on to bank');
    const bank = await call('final provider step: Finqware (two calls)', steps, step(aadhaar.nonce, 'bank', STEPS[1].data));
    if ((bank.data as Record<string, unknown>).outcome !== 'success') throw new Error('kyc-basic: the session did not end in success');
  };
}

/** The worker's resident memory: the median of a few reads, once the process settled. */
async function residentBytes(pid: number): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    reads.push(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024);
  }
  return reads.sort((a, b) => a - b)[2];
}

async function stickyCacheSize(metricsUrl: string): Promise<number | null> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const line = text.split('\n').find((l) => l.startsWith('temporal_sticky_cache_size'));
    return line ? Number(line.trim().split(/\s+/).pop()) : null;
  } catch {
    return null;
  }
}

/** Worker RSS with N open (created and launched, so cached) sessions, on a fresh worker. */
async function measureMemory(stack: Stack): Promise<BenchResults['memory']> {
  const worker = await stack.restartWorker();
  const pid = worker.child.pid as number;
  const recorder = new Recorder();
  const open = async (from: number, to: number) =>
    runConcurrently(32, to - from, recorder, (i) => openSession(stack.api, CLIENT_ID, stack.secret, `open-${from + i}`));
  // A few sessions first, so the baseline includes the loaded workflow code and connections.
  const warm = 20;
  await open(0, warm);
  const points = [{ sessions: warm, rssBytes: await residentBytes(pid), cached: await stickyCacheSize(stack.workerMetrics) }];
  for (const target of MEMORY_POINTS) {
    await open(points[points.length - 1].sessions, target);
    points.push({ sessions: target, rssBytes: await residentBytes(pid), cached: await stickyCacheSize(stack.workerMetrics) });
  }
  const [base, ...rest] = points;
  const last = rest[rest.length - 1];
  const perSessionBytes = (last.rssBytes - base.rssBytes) / (last.sessions - base.sessions);
  const marginal = (last.rssBytes - rest[0].rssBytes) / (last.sessions - rest[0].sessions);
  return { points, perSessionBytes, marginalPerSessionBytes: marginal, errors: recorder.errors, errorExamples: recorder.errorExamples };
}

/** The commit measured, `+changes` when the working tree differed from it. */
export function gitRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results'], { encoding: 'utf8' }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

/** The Restate server's and SDK's versions, as the report names them. */
function restateVersion(): string {
  const sdk = (JSON.parse(readFileSync(require.resolve('@restatedev/restate-sdk/package.json'), 'utf8')) as { version: string }).version;
  return `${restateServerVersion()}, TypeScript SDK ${sdk}`;
}

/** Whole sessions per pass, for the concurrencies measured. */
function sessionsPerPass(): Partial<Record<Concurrency, number>> {
  return Object.fromEntries(CONCURRENCY.map((c) => [c, SESSIONS[c]]));
}

export function temporalVersion(): string {
  try {
    return execFileSync(process.env.TEMPORAL_CLI as string, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const dir = join('.data', 'bench');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = createWriteStream(join(dir, 'services.log'));
  const say = (line: string) => process.stdout.write(`bench: ${line}\n`);
  say(`starting a fresh stack (logs in ${join(dir, 'services.log')})`);
  let stack: Stack | null = null;
  const started: Started = { server: null, services: [], restateDir: null };
  const stopAll = async () => {
    await stopServices(started.services);
    await Promise.all([stack?.api.close(), stack?.peer.close(), stack?.restate?.close()]);
    await started.server?.stop();
    if (started.restateDir) rmSync(started.restateDir, { recursive: true, force: true });
    log.end();
  };
  // Ctrl-C stops the whole stack too, not only this process.
  const interrupt = () => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    stack = await startStack(dir, (line) => log.write(`${line}\n`), started);
    const connection = await Connection.connect({ address: stack.server.address });
    // The bench's own client encrypts like the api: its keys are the stack's (same data directory).
    const encryption = openEncryption(loadConfig({ DATA_DIR: dir, TEMPORAL_NAMESPACE: 'default' }));
    const temporal = new Client({ connection, namespace: 'default', dataConverter: encryption.dataConverter });

    say(`warming up ${SELECTION.systems.join(', ')}`);
    const warmup = new Recorder();
    if (measures('sessionflow')) await runConcurrently(4, 20, warmup, (i) => sessionflowSession(stack!.api, CLIENT_ID, stack!.secret)(warmup, `warm-${i}`));
    if (measures('peer')) await runConcurrently(4, 20, warmup, (i) => peerSession(stack!.peer)(warmup, `warm-${i}`));
    if (measures('restate')) await runConcurrently(4, 20, warmup, (i) => peerSession(stack!.restate as HttpJson)(warmup, `warm-${i}`));
    if (MEASURES_FLOOR) {
      await rawStarts(temporal, warmup, 4, 40);
      await rawUpdates(temporal, warmup, 4, 40);
    }
    if (warmup.errors > 0) throw new Error(`the warm-up failed: ${warmup.errorExamples.join('; ')}`);

    // A partial run measures the passes only: history, encryption and memory are sessionflow's, and long.
    const whole = !SELECTION.partial;
    if (whole) say('history sizes');
    const history = whole
      ? {
          benchKyc: await historyOf(temporal, (observe) => sessionflowSession(stack!.api, CLIENT_ID, stack!.secret, observe)(new Recorder(), 'history-probe')),
          kycBasic: await historyOf(temporal, kycBasicRun(stack)),
        }
      : undefined;
    const passes: PassResult[] = [];
    for (const concurrency of CONCURRENCY) {
      say(`concurrency ${concurrency}: ${MEASURES_FLOOR ? 'the raw calls, then ' : ''}${SESSIONS[concurrency]} sessions each through ${SELECTION.systems.join(', ')}`);
      passes.push(await measurePass(stack, temporal, concurrency));
    }
    if (whole) say(`payload encryption: ${ENCRYPTION_SESSIONS} sessions at 1 device each encrypted, without encryption, and without the key cache`);
    const encryptionCost = whole ? await measureEncryption(stack) : undefined;
    if (whole) say(`worker memory with ${MEMORY_POINTS.join(' and ')} open sessions`);
    const memory = whole ? await measureMemory(stack) : undefined;
    if (whole) say(`where each call's time goes: ${TRACED_SESSIONS} sessions at 1 device through a pair with tracing on`);
    const traces = whole ? await measureTraces(stack, dir) : undefined;
    if (whole) say(`the funnel: ${FUNNEL_WRITES} session ends written to a scratch store`);
    const funnelWrites = whole ? await measureFunnelWrites(FUNNEL_WRITES) : undefined;
    await connection.close();

    const results: BenchResults = {
      generatedAt: new Date().toISOString(),
      quick: QUICK,
      partial: SELECTION.partial,
      revision: gitRevision(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryBytes: totalmem(),
        node: process.version,
        temporal: temporalVersion(),
        ...(measures('restate') ? { restate: restateVersion() } : {}),
      },
      settings: { sessionsPerPass: sessionsPerPass(), peerPollIntervalMs: PEER_POLL_INTERVAL_MS, memoryPoints: MEMORY_POINTS, systems: SELECTION.systems },
      passes,
      encryption: encryptionCost,
      history,
      traces,
      funnelWrites,
      memory,
    };
    const outDir = QUICK || SELECTION.partial ? join(dir, 'results') : join('bench', 'results');
    const summary = await writeReports(results, outDir);
    process.stdout.write(`\n${summary}\n`);
    say(`results in ${outDir}`);
    const measured = [
      ...passes.flatMap((pass) => [pass.baseline, ...SYSTEMS.map((name) => pass[name])]),
      memory,
      encryptionCost?.encrypted,
      encryptionCost?.plain,
      encryptionCost?.encryptedWithoutKeyCache,
    ];
    const errors = measured.reduce((sum, part) => sum + (part?.errors ?? 0), 0);
    if (errors > 0) {
      say(`${errors} errors; the results are not valid`);
      return 1;
    }
    return 0;
  } finally {
    await stopAll();
  }
}

// Run by `make bench`; the soak (bench/soak.ts) imports the stack from here.
if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
