/**
 * "Step N of M" for each stage of a flow machine, computed from the flow alone. Every input,
 * provider and wait stage counts: the hosted page shows a screen for each. A review stage is a
 * reviewer's step that most sessions never reach: it counts for nothing and shows no step, and
 * paths run on through it. Paths run from the
 * initial stage along the transitions (`on` and `after`), leaving out BACK and INPUT_ERROR and
 * any other that leads back to a stage on the way there (a retry), so a loop never counts as more
 * steps, and going back shows the earlier stage's own step again.
 *
 * - N: the stage's place on the longest path that reaches it. A branch that skips stages jumps
 *   ahead; N never counts back.
 * - M: N plus the most stages that can still follow it. A short branch shows a smaller total
 *   rather than promising steps that will not come.
 */
import type { FlowMachine, StageMeta, TransitionsConfig } from '../../flows/core/types';

export type StageProgress = Record<string, [position: number, total: number]>;

function targets(transitions: TransitionsConfig | undefined): string[] {
  if (transitions === undefined) return [];
  const list = Array.isArray(transitions) ? transitions : [transitions];
  return list.map((t) => (typeof t === 'string' ? t : t.target));
}

function isStage(machine: FlowMachine, id: string): boolean {
  const state = Object.hasOwn(machine.states, id) ? machine.states[id] : undefined;
  return state !== undefined && state.type !== 'final' && state.meta !== undefined && 'stage' in state.meta;
}

/** BACK and INPUT_ERROR lead back to a form already on the way: never a step further. */
const WAYS_BACK = new Set(['BACK', 'INPUT_ERROR']);

function nextStages(machine: FlowMachine, id: string): string[] {
  const state = machine.states[id];
  const forward = Object.entries(state.on ?? {}).filter(([event]) => !WAYS_BACK.has(event)).map(([, config]) => config);
  const all = [...forward, ...Object.values(state.after ?? {})].flatMap(targets);
  return [...new Set(all)].filter((target) => isStage(machine, target));
}

/** The flow's stages and transitions without the ones that lead back (retries): a DAG, in visiting order. */
function forwardGraph(machine: FlowMachine): Map<string, string[]> {
  const forward = new Map<string, string[]>();
  const onPath = new Set<string>();
  const visit = (id: string): void => {
    onPath.add(id);
    forward.set(id, []);
    for (const next of nextStages(machine, id)) {
      if (onPath.has(next)) continue;
      forward.get(id)!.push(next);
      if (!forward.has(next)) visit(next);
    }
    onPath.delete(id);
  };
  visit(machine.initial);
  return forward;
}

export function stageProgress(machine: FlowMachine): StageProgress {
  if (!isStage(machine, machine.initial)) return {};
  const forward = forwardGraph(machine);
  // A review is a person's step, not the user's, and most sessions never reach one: it counts for nothing.
  const weight = (id: string): number => ((machine.states[id].meta as StageMeta).stage === 'review' ? 0 : 1);
  const after = new Map<string, number>();
  /** The most counted stages that can follow `id`. */
  const stagesAfter = (id: string): number => {
    if (!after.has(id)) after.set(id, Math.max(0, ...forward.get(id)!.map((next) => weight(next) + stagesAfter(next))));
    return after.get(id)!;
  };
  const reach = new Map<string, number>();
  /** The place of `id` on the longest path to it: its own weight + the most of its predecessors'. */
  const place = (id: string): number => {
    if (!reach.has(id)) {
      const before = [...forward].filter(([, nexts]) => nexts.includes(id)).map(([from]) => place(from));
      reach.set(id, weight(id) + Math.max(0, ...before));
    }
    return reach.get(id)!;
  };
  const progress: StageProgress = {};
  for (const id of forward.keys()) if (weight(id) > 0) progress[id] = [place(id), place(id) + stagesAfter(id)];
  return progress;
}
