/**
 * The report's account of each missed target (issue #31: "where a target is missed, the bench
 * report says by how much and why"): how far over its limit, and why, from the run's own figures
 * (the latency table, the traces' split of each call, the CPU per session by process, the
 * history events). Only what the run measured is claimed.
 */
import { DIRECT_INPUT_STEP } from './drivers';
import type { BenchResults, HistoryCount, PassResult, Target, TargetId } from './report';
import type { TraceBreakdowns } from './traces';

type Pass = PassResult & Required<Pick<PassResult, 'sessionflow' | 'peer' | 'baseline'>>;
/** What a whole run holds (report.ts isWhole); only whole runs judge targets. */
type Whole = Omit<BenchResults, 'passes' | 'history' | 'memory'> & { passes: Pass[]; history: NonNullable<BenchResults['history']>; memory: NonNullable<BenchResults['memory']> };

export interface Miss {
  target: Target;
  by: string;
  why: string;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const times = (value: number) => `${value.toFixed(2)}×`;
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** Where the ratios to the floor are judged (report.ts FLOOR_CONCURRENCY). */
const floorPass = (r: Whole) => r.passes.find((p) => p.concurrency === 1);
const p50 = (pass: Pass | undefined, op: string) => pass?.sessionflow.ops[op]?.p50 ?? Number.NaN;
const rawUpdate = (pass: Pass | undefined) => pass?.baseline.ops['raw update']?.p50 ?? Number.NaN;
const traced = (r: Whole, op: string): TraceBreakdowns[string] | undefined => r.traces?.steps[op];
const tracedCount = (r: Whole) => `${r.traces?.sessions ?? 0} traced sessions at 1 device`;

/** "x ms against a raw update's y ms (r×, limit l×): z ms over". */
function overTheFloor(r: Whole, op: string, limit: number): string {
  const pass = floorPass(r);
  const [value, raw] = [p50(pass, op), rawUpdate(pass)];
  return `at c=1, ${ms(value)} against a raw update's ${ms(raw)} at p50: ${times(value / raw)} where the limit is ${times(limit)}, ${ms(value - limit * raw)} over`;
}

function launchWhy(r: Whole): string {
  const pass = floorPass(r);
  const launch = traced(r, 'launch');
  const waits =
    'The bench launches as soon as create answers. Temporal answers a start before the session\'s first workflow task has run (the run\'s start: its input ' +
    'decoded, the flow set up, the expiry timer started), and runs one workflow task of a workflow at a time, so the launch\'s update waits for that task ' +
    'before its own is dispatched: two workflow tasks and their round trips, where a raw update takes one.';
  const same = `A launch records the same six history events as an input step, which took ${ms(p50(pass, 'input step'))}.`;
  if (!launch || launch.firstTaskMs === undefined) return `${waits} ${same} (This run's traces do not split launch.)`;
  const own = launch.wholeMs - launch.firstTaskMs;
  const step = traced(r, 'input step');
  return (
    `Its traces (${tracedCount(r)}) split a launch's ${ms(launch.wholeMs)} into the api ${ms(launch.apiMs)}, the session's first workflow task ` +
    `${ms(launch.firstTaskMs)}, the launch's own workflow task ${ms(launch.workflowTaskMs)} and the Temporal round trips ${ms(launch.temporalMs)}. ${waits} ${same} ` +
    `Without the wait, the launch's own parts come to ${ms(own)}${step ? `, where a traced input step took ${ms(step.wholeMs)}` : ''}: a device that ` +
    'launches after the session\'s first task has run (seconds after its backend created it, as a device opening a link does) does not wait for it.'
  );
}

function inputStepWhy(r: Whole): string {
  const pass = floorPass(r);
  const raw = rawUpdate(pass);
  const direct = pass?.baseline.ops[DIRECT_INPUT_STEP]?.p50;
  const withoutApi = direct === undefined ? '' : ` Sent straight through a Temporal client, without the api, it took ${ms(direct)}: the api is not where it goes.`;
  const step = traced(r, 'input step');
  const work =
    'the step\'s own work in the worker (decoding its payloads, the session\'s checks of its nonce proof and input, the flow\'s step, the stage\'s ' +
    'search-attribute upsert, one history event more than a raw update records), where a raw update\'s handler does nothing';
  if (!step) return `An input step is one update, as a raw update is; what it adds is ${work}.${withoutApi}`;
  const outside = step.apiMs + step.temporalMs;
  return (
    `Its traces (${tracedCount(r)}) split an input step's ${ms(step.wholeMs)} into the api ${ms(step.apiMs)}, the Temporal round trip ` +
    `${ms(step.temporalMs)} and its workflow task ${ms(step.workflowTaskMs)}. The api and the round trip together (${ms(outside)}) are ` +
    `${outside <= raw ? 'within' : `${ms(outside - raw)} over`} a raw update's ${ms(raw)}; the rest is the workflow task: ${work}.${withoutApi}`
  );
}

/** CPU per whole session of every process on the machine (the two cores they share), and its biggest parts. */
function cpuOf(cpu: Record<string, number>, parts: string[]): { total: number; shown: string } {
  return { total: sum(Object.values(cpu)), shown: parts.map((name) => `${name} ${ms(cpu[name] ?? 0)}`).join(', ') };
}

function saturated(r: Whole): Pass[] {
  return r.passes.filter((p) => p.concurrency >= 8);
}

function sessionsPerSecondBy(r: Whole): string {
  if (saturated(r).length === 0) return 'no pass at 8 or 32 devices, where it is judged';
  return saturated(r)
    .map((p) => `c=${p.concurrency}: ${p.sessionflow.sessionsPerSecond.toFixed(1)} sessions/s against the peer's ${p.peer.sessionsPerSecond.toFixed(1)}, ${times(p.sessionflow.sessionsPerSecond / p.peer.sessionsPerSecond)} where 1.3× needs ${(1.3 * p.peer.sessionsPerSecond).toFixed(1)}`)
    .join('; ');
}

function sessionsPerSecondWhy(r: Whole): string {
  if (saturated(r).length === 0) return 'A run without them cannot meet it.';
  const perPass = saturated(r).map((p) => {
    const ours = cpuOf(p.sessionflow.cpuMsPerSession, ['temporal', 'worker', 'api']);
    const peer = cpuOf(p.peer.cpuMsPerSession, ['temporal', 'bench-worker', 'peer']);
    const budget = peer.total / 1.3;
    const engine = p.sessionflow.cpuMsPerSession.temporal ?? 0;
    return (
      `at c=${p.concurrency} a sessionflow session took ${ms(ours.total)} of CPU (${ours.shown}) and a naive peer's ${ms(peer.total)} ` +
      `(${peer.shown.replace('bench-worker', 'its worker').replace(/\bpeer\b/, 'its server')}); 1.3× the peer's rate needs at most ${ms(budget)}, so with the ` +
      `Temporal server's part as it is, everything else would have to fit in ${ms(budget - engine)}, where it takes ${ms(ours.total - engine)}`
    );
  });
  return (
    'At 8 and 32 devices the two cores are saturated, so sessions/s is the machine\'s CPU over what a whole session costs every process on it (the load ' +
    `generator and the idle peers included): ${perPass.join('; ')}. The Temporal server is the largest part, and about the same for both: the peer's ` +
    'signal and its query polls cost the server about what sessionflow\'s updates do.'
  );
}

/** The peer's p50 over sessionflow's for a step (or the sum of the three steps), at one concurrency. */
function peerRatio(pass: Pass, op: string | null): number {
  const of = (m: Pass['sessionflow']) => (op ? (m.ops[op]?.p50 ?? Number.NaN) : sum(['input step', 'provider step', 'final step'].map((o) => m.ops[o]?.p50 ?? Number.NaN)));
  return of(pass.peer) / of(pass.sessionflow);
}

function peerWhy(r: Whole, op: string | null): string {
  const one = floorPass(r);
  const shown = op ?? 'provider step';
  const step = traced(r, shown);
  const atOne =
    one && step && peerRatio(one, op) < 2
      ? ` At c=1, where the machine is not saturated, a ${shown} is mostly Temporal's own path, which the peer's ${shown} takes too: of its ${ms(step.wholeMs)} ` +
        `traced, ${ms(step.temporalMs)} are Temporal round trips and ${ms(step.workflowTaskMs)} workflow tasks. The peer's own overhead (a signal, then a ` +
        `query polled every ${r.settings.peerPollIntervalMs} ms) adds to that path; it does not double it.`
      : '';
  return (
    'Both run the same sessions on the same Temporal server; at 8 and 32 devices the machine is saturated (see the sessions/s target), so a step\'s ' +
    `latency is mostly its wait for the same two cores, and the two systems' latencies converge.${atOne}`
  );
}

/** A provider step's events, by kind, from its event types. */
function eventsWhy(count: HistoryCount, op: string | undefined): string {
  const entry = count.perOp.find((e) => e.op === op);
  if (!entry) return '';
  const n = (type: string) => entry.types.filter((t) => t === type).length;
  const tasks = n('WORKFLOW_TASK_COMPLETED');
  const activities = n('ACTIVITY_TASK_COMPLETED');
  const upserts = n('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES');
  const rest = entry.events - 3 * tasks - 3 * activities - upserts - 2;
  return (
    `Its ${entry.events} events: ${tasks} workflow task${tasks === 1 ? '' : 's'} (3 events each), ${activities} activit${activities === 1 ? 'y' : 'ies'} ` +
    `(3 each: scheduled, started, completed), the update's accepted and completed, ${upserts} search-attribute upsert${upserts === 1 ? '' : 's'}` +
    `${rest > 0 ? ` and ${rest} more (${entry.types.filter((t) => /TIMER|MARKER/.test(t)).join(', ')})` : ''}. Each provider call is an activity, and ` +
    'the workflow goes on after its result only in a new workflow task: 6 events a call, on top of the update\'s own 5 (its first workflow task, ' +
    'accepted, completed) and the stage\'s upsert, so even one call makes 12.'
  );
}

function memoryBy(r: Whole): string {
  const perSession = r.memory.perSessionBytes / 1024;
  const [first, last] = [r.memory.points[0], r.memory.points[r.memory.points.length - 1]];
  return `${(perSession / 1024).toFixed(3)} MiB per cached session (${first?.sessions} to ${last?.sessions} sessions), ${(perSession - 512).toFixed(0)} KiB over 0.5 MiB`;
}

function createWhy(r: Whole): string {
  const create = traced(r, 'create');
  const api = 'the api\'s own work (authentication, the flow\'s resolution, the session\'s data key created in the key store and flushed to disk, the input encrypted)';
  if (!create) return `A create is one workflow start after ${api}, which a raw start does not do.`;
  return `Its traces (${tracedCount(r)}) split a create's ${ms(create.wholeMs)} into the api ${ms(create.apiMs)} and the Temporal round trip ${ms(create.temporalMs)}: the start, after ${api}, which a raw start does not do.`;
}

/** Each event type of a call, with how many times it came. */
function eventTally(count: HistoryCount, op: string): string {
  const types = count.perOp.find((e) => e.op === op)?.types ?? [];
  const tally = new Map<string, number>();
  for (const type of types) tally.set(type, (tally.get(type) ?? 0) + 1);
  return [...tally].map(([type, n]) => `${n} × ${type}`).join(', ');
}

const WHY: Partial<Record<TargetId, (r: Whole) => { by: string; why: string }>> = {
  create: (r) => ({ by: '', why: createWhy(r) }),
  encryption: () => ({ by: '', why: 'Every payload of the step (its argument, its answer, what the workflow records) is encrypted and decrypted with the session\'s own key; see the encryption table.' }),
  'events-input-step': (r) => ({ by: '', why: `Its events: ${eventTally(r.history.benchKyc, 'input step')}.` }),
  'events-session': (r) => ({ by: '', why: `Its calls' events are in the history table; ${r.history.benchKyc.perOp.map((e) => `${e.op} ${e.events}`).join(', ')}.` }),
  funnel: () => ({ by: '', why: 'The write appends to the day\'s file of the funnel store and fsyncs it; see the funnel\'s section.' }),
  errors: (r) => ({ by: '', why: `The first errors: ${r.passes.flatMap((p) => p.sessionflow.errorExamples).slice(0, 3).join('; ') || 'none recorded'}.` }),
  launch: (r) => ({ by: overTheFloor(r, 'launch', 1.5), why: launchWhy(r) }),
  'input-step': (r) => ({ by: overTheFloor(r, 'input step', 1.2), why: inputStepWhy(r) }),
  'sessions-per-second': (r) => ({ by: sessionsPerSecondBy(r), why: sessionsPerSecondWhy(r) }),
  'peer-steps': (r) => ({ by: '', why: peerWhy(r, null) }),
  'peer-input-step': (r) => ({ by: '', why: peerWhy(r, 'input step') }),
  'peer-provider-step': (r) => ({ by: '', why: peerWhy(r, 'provider step') }),
  'events-attestr': (r) => ({ by: '', why: eventsWhy(r.history.kycBasic, r.history.kycBasic.perOp.find((e) => e.op.startsWith('provider step'))?.op) }),
  'events-finqware': (r) => ({ by: '', why: eventsWhy(r.history.benchKyc, 'provider step') }),
  memory: (r) => ({
    by: memoryBy(r),
    why:
      'Each open session waits in the worker\'s cache with its run: its input, which carries the whole resolved flow definition, the session\'s state, ' +
      'and the workflow\'s handlers and timers. This run does not split the figure further.',
  }),
};

/** Each missed target's account; a target with no account of its own says by how much only. */
export function misses(results: Whole, verdicts: Target[]): Miss[] {
  return verdicts
    .filter((target) => !target.met)
    .map((target) => {
      const account = WHY[target.id]?.(results);
      return { target, by: account?.by || `${target.measured} against ${target.limit}`, why: account?.why ?? '' };
    });
}

/** The section under the targets table. */
export function missesSection(results: Whole, verdicts: Target[]): string[] {
  const list = misses(results, verdicts);
  if (list.length === 0) return [];
  return [
    '### Where a target is missed: by how much, and why',
    '',
    ...list.map(({ target, by, why }) => `- **${target.name}**: ${by}.${why ? ` ${why}` : ''}`),
    '',
  ];
}
