/**
 * The pure step engine: XState's `initialTransition` and `transition` over a flow machine.
 * Given a definition, the current state and an event, it says where the flow goes next and
 * which delayed events the caller must schedule. It never starts an actor and keeps no state
 * of its own, so the session workflow can call it during replay and get the same answers.
 */
import { initialTransition, setup, transition, type AnyStateMachine } from 'xstate';
import { namesMatch } from './names';
import { slaMs, type FieldMeta, type FinalMeta, type FlowMachine, type JsonSchema, type Outcome, type ProviderName, type StageKind, type StageMeta } from './types';

export interface FlowEvent {
  type: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  data?: unknown;
}

/** A delayed transition of the current state, to be run by a durable timer. */
export interface FlowTimer {
  event: string;
  delayMs: number;
}

export interface FlowPosition {
  state: string;
  done: boolean;
  outcome: Outcome | null;
  timers: FlowTimer[];
}

export interface StageInfo {
  id: string;
  kind: StageKind;
  title?: string;
  description?: string;
  schema: JsonSchema;
  fields?: Record<string, FieldMeta>;
  provider?: ProviderName;
  params?: Record<string, unknown>;
  providerErrors?: Record<string, string>;
  /** Provider stages: the codes that route back to a form, and the field each marks (StageMeta.inputErrors). */
  inputErrors?: Record<string, string>;
  /** Input stages with a BACK transition: the device may go back. */
  back?: true;
  translations?: Record<string, Record<string, string>>;
  /** Review stages: the SLA in milliseconds (null without one), the rejection reasons, what the reviewer sees. */
  review?: { slaMs: number | null; reasons: string[]; show: string[] };
}

/**
 * What a guard reads: the event, and the session's recorded stage results so far under
 * `result` (`result.identity.input.name`), so a transition can compare with an earlier stage.
 * The results are the session's own state, passed in by the caller: the engine stays pure.
 */
export type FlowResults = Record<string, { input: unknown; output: unknown }>;
interface GuardArgs {
  event: FlowEvent;
  context?: { result?: FlowResults };
}

function guardSource({ event, context }: GuardArgs): Record<string, unknown> {
  return { ...event, result: context?.result ?? {} };
}

/** Reads a dotted path (`input.accepted`); a `*` segment takes the first value under it that has the rest (`output.result.*.output.name`). */
function readPath(source: unknown, path: string | string[]): unknown {
  const keys = typeof path === 'string' ? path.split('.') : path;
  let value: unknown = source;
  for (const [index, key] of keys.entries()) {
    if (value === null || typeof value !== 'object') return undefined;
    if (key === '*') {
      for (const item of Object.values(value)) {
        const found = readPath(item, keys.slice(index + 1));
        if (found !== undefined) return found;
      }
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Guards a flow may name in its transitions; each `path` reads the guard source above. */
export const GUARDS = {
  equals: (args: GuardArgs, params: { path: string; value: unknown }) => JSON.stringify(readPath(guardSource(args), params.path)) === JSON.stringify(params.value),
  exists: (args: GuardArgs, params: { path: string }) => {
    const value = readPath(guardSource(args), params.path);
    return value !== undefined && value !== null;
  },
  /** The two names are the same name (names.ts): `path` and `other` are paths, as above. */
  namesMatch: (args: GuardArgs, params: { path: string; other: string }) => namesMatch(readPath(guardSource(args), params.path), readPath(guardSource(args), params.other)),
};

export const GUARD_NAMES: ReadonlySet<string> = new Set(Object.keys(GUARDS));

export function buildMachine(machine: FlowMachine): AnyStateMachine {
  // The flow JSON is checked by validateFlowMachine before it gets here; XState's own types
  // cannot express "any JSON config", hence the casts.
  return setup({ guards: GUARDS }).createMachine(machine as never) as unknown as AnyStateMachine;
}

/** The delayed transitions of `state`, as XState names their events. */
export function timersOf(machine: FlowMachine, state: string): FlowTimer[] {
  const after = machine.states[state]?.after ?? {};
  return Object.keys(after).map((delay) => ({
    event: `xstate.after.${delay}.${machine.id}.${state}`,
    delayMs: Number(delay),
  }));
}

function position(machine: FlowMachine, state: string): FlowPosition {
  const config = machine.states[state];
  const outcome = config?.type === 'final' ? ((config.meta as FinalMeta | undefined)?.outcome ?? null) : null;
  return { state, done: config?.type === 'final', outcome, timers: timersOf(machine, state) };
}

function stateName(value: unknown): string {
  if (typeof value !== 'string') throw new Error('flow machines must be flat: nested states are not supported');
  return value;
}

/**
 * A flow machine with its XState logic built once. Building it is most of the cost of a
 * transition, and a session asks several questions of its flow per run.
 */
export class CompiledFlow {
  private readonly logic: AnyStateMachine;

  constructor(readonly machine: FlowMachine) {
    this.logic = buildMachine(machine);
  }

  start(): FlowPosition {
    const [snapshot] = initialTransition(this.logic);
    return position(this.machine, stateName(snapshot.value));
  }

  /**
   * Whether `state` takes `event` (a transition whose guards pass), without computing where it
   * leads: what an update validator asks, so that only its handler computes the transition.
   * The same answer as `advance(state, event) !== null`.
   */
  takes(state: string, event: FlowEvent, result: FlowResults = {}): boolean {
    return this.logic.resolveState({ value: state, context: { result } }).can(event as never);
  }

  /**
   * The position after `event` in `state`, or null when the state does not take that event
   * (no matching transition or no guard passed): the caller refuses the event and nothing moves.
   */
  advance(state: string, event: FlowEvent, result: FlowResults = {}): FlowPosition | null {
    const current = this.logic.resolveState({ value: state, context: { result } });
    if (!current.can(event as never)) return null;
    // A transition back to the same state counts as entering it anew (fresh nonce, timers).
    const [next] = transition(this.logic, current, event as never);
    return position(this.machine, stateName(next.value));
  }
}

export function startFlow(machine: FlowMachine): FlowPosition {
  return new CompiledFlow(machine).start();
}

/** One transition of a machine used once; see CompiledFlow for repeated ones. */
export function advanceFlow(machine: FlowMachine, state: string, event: FlowEvent): FlowPosition | null {
  return new CompiledFlow(machine).advance(state, event);
}

export function stageInfo(machine: FlowMachine, state: string): StageInfo | null {
  const config = machine.states[state];
  if (!config || config.type === 'final') return null;
  const meta = config.meta as StageMeta;
  return {
    id: state,
    kind: meta.stage,
    ...(meta.title ? { title: meta.title } : {}),
    ...(meta.description ? { description: meta.description } : {}),
    schema: meta.schema ?? { type: 'object', additionalProperties: false },
    ...(meta.fields ? { fields: meta.fields } : {}),
    ...(meta.provider ? { provider: meta.provider } : {}),
    ...(meta.params ? { params: meta.params } : {}),
    ...(meta.providerErrors ? { providerErrors: meta.providerErrors } : {}),
    ...(meta.inputErrors ? { inputErrors: meta.inputErrors } : {}),
    ...(meta.stage === 'input' && config.on?.BACK !== undefined ? { back: true as const } : {}),
    ...(meta.translations ? { translations: meta.translations } : {}),
    ...(meta.stage === 'review' ? { review: { slaMs: meta.sla === undefined ? null : slaMs(meta.sla), reasons: meta.reasons ?? [], show: meta.show ?? [] } } : {}),
  };
}

/** Whether entering the stage calls the provider before the device submits (Attestr's handshake). */
export function needsPreparation(stage: StageInfo): boolean {
  return stage.kind === 'provider' && stage.provider === 'attestr';
}
