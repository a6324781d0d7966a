/**
 * The flow catalog: every `flows/<id>.json` file, checked at load. `load` and `fromFiles` refuse
 * a file that is not a valid flow with a FlowLoadError naming the file and every problem (for
 * tests and `flow:publish`); the running api keeps its catalog current with a FlowWatcher
 * (watch.ts), which skips such a file instead, so one bad file stops nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { snapshotIdOf } from './snapshots';
import { DEFAULT_MAX_STEPS, MAX_STEPS_LIMIT, type FlowDefinition, type FlowFile, type FlowMachine, type StageKind } from './core/types';
import { validateFlowMachine } from './validate';

/** The `.json` files of a flows directory, by name. */
export function readFlowFiles(dir: string): Array<{ file: string; text: string }> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  } catch {
    throw new FlowLoadError(dir, ['the flows directory cannot be read']);
  }
  return names.map((name) => ({ file: name, text: readFileSync(join(dir, name), 'utf8') }));
}

export class FlowLoadError extends Error {
  override readonly name = 'FlowLoadError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`flow file ${file}: ${problems.join('; ')}`);
  }
}

/** `unavailable_flow`: no version of the flow serves because its file failed to load. */
export type ResolveResult =
  | { ok: true; definition: FlowDefinition }
  | { ok: false; reason: 'unknown_flow' | 'unavailable_flow' | 'inactive_flow' | 'unknown_snapshot' };

/** A flow file the running api could not load, with the loader's problems. */
export interface FlowFileFailure {
  file: string;
  problems: string[];
  /** An earlier valid version of the file's flow still serves. */
  servesEarlierVersion: boolean;
}

const FILE_KEYS = new Set(['id', 'name', 'description', 'translationReview', 'active', 'maxSteps', 'draft', 'snapshots']);

function problemsOf(file: string, raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return ['must hold a JSON object'];
  const flow = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(flow)) if (!FILE_KEYS.has(key)) problems.push(`unsupported key "${key}"`);
  const expectedId = basename(file, '.json');
  if (flow.id !== expectedId) problems.push(`id must be "${expectedId}", the file's name`);
  if (typeof flow.name !== 'string' || flow.name === '') problems.push('name must be a non-empty string');
  if (flow.description !== undefined && typeof flow.description !== 'string') problems.push('description must be a string');
  if (typeof flow.active !== 'boolean') problems.push('active must be true or false');
  const review = flow.translationReview;
  if (review !== undefined && (typeof review !== 'object' || review === null || Array.isArray(review) || Object.values(review).some((note) => typeof note !== 'string' || note.trim() === ''))) {
    problems.push('translationReview must be an object of language: note (what review a translation still needs)');
  }
  if (
    flow.maxSteps !== undefined &&
    !(Number.isInteger(flow.maxSteps) && (flow.maxSteps as number) >= 1 && (flow.maxSteps as number) <= MAX_STEPS_LIMIT)
  ) {
    problems.push(`maxSteps must be a whole number from 1 to ${MAX_STEPS_LIMIT}`);
  }
  problems.push(...validateFlowMachine(flow.draft).map((p) => `draft: ${p}`));
  if (typeof flow.snapshots !== 'object' || flow.snapshots === null || Array.isArray(flow.snapshots)) {
    problems.push('snapshots must be an object (empty when nothing is published)');
  } else {
    for (const [id, machine] of Object.entries(flow.snapshots)) {
      const machineProblems = validateFlowMachine(machine);
      problems.push(...machineProblems.map((p) => `snapshot ${id}: ${p}`));
      if (machineProblems.length === 0 && snapshotIdOf(machine as FlowMachine) !== id) {
        problems.push(`snapshot ${id} does not match its content: published snapshots are immutable, publish a new one instead`);
      }
    }
  }
  return problems;
}

/** One file read: the flow, or every problem that keeps it from being one. */
export type ParsedFlowFile = { ok: true; flow: FlowFile } | { ok: false; problems: string[] };

export function parseFlowFile(file: string, text: string): ParsedFlowFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [`is not valid JSON (${(err as Error).message})`] };
  }
  const problems = problemsOf(file, raw);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, flow: raw as FlowFile };
}

export class FlowCatalog {
  private failures: readonly FlowFileFailure[] = [];

  private constructor(private flows: ReadonlyMap<string, FlowFile>) {}

  static empty(): FlowCatalog {
    return new FlowCatalog(new Map());
  }

  static fromFiles(files: Array<{ file: string; text: string }>): FlowCatalog {
    const flows = new Map<string, FlowFile>();
    for (const { file, text } of files) {
      const parsed = parseFlowFile(file, text);
      if (!parsed.ok) throw new FlowLoadError(file, parsed.problems);
      flows.set(parsed.flow.id, parsed.flow);
    }
    return new FlowCatalog(flows);
  }

  static load(dir: string): FlowCatalog {
    return FlowCatalog.fromFiles(readFlowFiles(dir));
  }

  /**
   * Serves `flows` from now on; sessions already running keep the definition they started with.
   * `failures`: the files that failed to load (a flow is named by its file, `<id>.json`).
   */
  replace(flows: ReadonlyMap<string, FlowFile>, failures: readonly FlowFileFailure[] = []): void {
    this.flows = flows;
    this.failures = failures;
  }

  /** The flow files that failed to load, by file name, for operators. */
  failedFiles(): FlowFileFailure[] {
    return [...this.failures].sort((a, b) => a.file.localeCompare(b.file));
  }

  /** Whether the flow serves nothing because its file failed to load (rather than being unknown). */
  failedToLoad(flowId: string): boolean {
    return !this.flows.has(flowId) && this.failures.some((failure) => failure.file === `${flowId}.json`);
  }

  list(): FlowFile[] {
    return [...this.flows.values()];
  }

  get(flowId: string): FlowFile | undefined {
    return this.flows.get(flowId);
  }

  /** The kind of a stage of this flow, from its draft or else a snapshot; undefined when none has it. */
  stageKind(flowId: string, stageId: string): StageKind | undefined {
    const flow = this.flows.get(flowId);
    for (const machine of flow ? [flow.draft, ...Object.values(flow.snapshots)] : []) {
      const meta = Object.hasOwn(machine.states, stageId) ? machine.states[stageId].meta : undefined;
      if (meta && 'stage' in meta) return meta.stage;
    }
    return undefined;
  }

  /** The definition a new session of this flow runs: the draft for `null`, else that snapshot. */
  resolve(flowId: string, snapshotId: string | null): ResolveResult {
    const flow = this.flows.get(flowId);
    if (!flow) return { ok: false, reason: this.failedToLoad(flowId) ? 'unavailable_flow' : 'unknown_flow' };
    if (!flow.active) return { ok: false, reason: 'inactive_flow' };
    const machine = snapshotId === null ? flow.draft : Object.hasOwn(flow.snapshots, snapshotId) ? flow.snapshots[snapshotId] : undefined;
    if (!machine) return { ok: false, reason: 'unknown_snapshot' };
    return {
      ok: true,
      definition: { flowId, snapshotId, maxSteps: flow.maxSteps ?? DEFAULT_MAX_STEPS, machine },
    };
  }
}
