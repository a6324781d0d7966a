/**
 * The flow catalog: every `flows/<id>.json` file, checked at load. A file that is not a valid
 * flow stops the load with a FlowLoadError naming the file and the problems, so a bad deploy
 * fails at start instead of on a user's device.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { snapshotIdOf } from './snapshots';
import { DEFAULT_MAX_STEPS, MAX_STEPS_LIMIT, type FlowDefinition, type FlowFile, type FlowMachine, type StageKind } from './core/types';
import { validateFlowMachine } from './validate';

export class FlowLoadError extends Error {
  override readonly name = 'FlowLoadError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`flow file ${file}: ${problems.join('; ')}`);
  }
}

export type ResolveResult =
  | { ok: true; definition: FlowDefinition }
  | { ok: false; reason: 'unknown_flow' | 'inactive_flow' | 'unknown_snapshot' };

const FILE_KEYS = new Set(['id', 'name', 'description', 'active', 'maxSteps', 'draft', 'snapshots']);

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

export class FlowCatalog {
  private constructor(private readonly flows: ReadonlyMap<string, FlowFile>) {}

  static fromFiles(files: Array<{ file: string; text: string }>): FlowCatalog {
    const flows = new Map<string, FlowFile>();
    for (const { file, text } of files) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        throw new FlowLoadError(file, [`is not valid JSON (${(err as Error).message})`]);
      }
      const problems = problemsOf(file, raw);
      if (problems.length > 0) throw new FlowLoadError(file, problems);
      const flow = raw as FlowFile;
      flows.set(flow.id, flow);
    }
    return new FlowCatalog(flows);
  }

  static load(dir: string): FlowCatalog {
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
    } catch {
      throw new FlowLoadError(dir, ['the flows directory cannot be read']);
    }
    return FlowCatalog.fromFiles(names.map((name) => ({ file: name, text: readFileSync(join(dir, name), 'utf8') })));
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
    if (!flow) return { ok: false, reason: 'unknown_flow' };
    if (!flow.active) return { ok: false, reason: 'inactive_flow' };
    const machine = snapshotId === null ? flow.draft : Object.hasOwn(flow.snapshots, snapshotId) ? flow.snapshots[snapshotId] : undefined;
    if (!machine) return { ok: false, reason: 'unknown_snapshot' };
    return {
      ok: true,
      definition: { flowId, snapshotId, maxSteps: flow.maxSteps ?? DEFAULT_MAX_STEPS, machine },
    };
  }
}
