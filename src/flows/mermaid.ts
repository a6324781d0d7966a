/**
 * A flow machine as a Mermaid `stateDiagram-v2`, for documentation and operator tooling.
 *
 * The output, one statement a line, without notes or composite states:
 *
 *   stateDiagram-v2
 *   [*] --> <initial>
 *   <state> : <title or state name> (<stage kind>)      one per stage, in state order
 *   <state> : <outcome>                                  one per final state
 *   <from> --> <to> : <EVENT> [<guard>]                  one per transition, see below
 *   <state> --> [*]                                      one per final state
 *
 * Transitions are listed state by state: the `on` events in the order written, each event's
 * transitions (string shorthand or array) in the order written, then the `after` delays in
 * ascending milliseconds, labelled `after <ms> ms`. Guards are shown as
 * `[equals <path> = <JSON value>]` or `[exists <path>]`.
 *
 * Mermaid's state grammar ends a label at `:`, `;` or a newline and treats `#` as the start of
 * an entity, so label text is escaped with Mermaid entity codes (`#quot;`, `#58;`, ...), which
 * Mermaid decodes when it renders; whitespace runs, newlines included, become one space. State
 * names that Mermaid cannot take as ids (a `-` in them, or a keyword of its grammar) are given
 * a safe id, and the description then shows the real name when the stage has no title.
 */
import type { FinalMeta, FlowMachine, FlowStateConfig, GuardRef, StageMeta, TransitionsConfig } from './core/types';

const LABEL_ENTITIES: Record<string, string> = {
  '"': '#quot;',
  '#': '#35;',
  ':': '#58;',
  ';': '#59;',
  '%': '#37;',
  '&': '#amp;',
  '<': '#lt;',
  '>': '#gt;',
};

/** Text made safe for a Mermaid state description or transition label. */
export function mermaidLabel(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\s\u0000-\u001f\u007f]+/g, ' ')
      .trim()
      .replace(/["#:;%&<>]/g, (ch) => LABEL_ENTITIES[ch])
      // Mermaid reads any line holding "direction TB" (LR, ...) as a direction statement.
      .replace(/(direction) (?=tb|bt|rl|lr)/gi, '$1#32;')
  );
}

const SAFE_ID = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Words Mermaid's state lexer reads as keywords where a state id starts a statement. */
const KEYWORDS = new Set(['state', 'note', 'class', 'classdef', 'scale', 'acctitle', 'accdescr', 'statediagram', 'hide']);

function isReserved(id: string): boolean {
  const lower = id.toLowerCase();
  return KEYWORDS.has(lower) || lower.startsWith('default');
}

/** Mermaid ids for every state: the state name itself whenever Mermaid can take it. */
function stateIds(names: string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const taken = new Set(names.filter((name) => SAFE_ID.test(name) && !isReserved(name)));
  for (const name of names) {
    if (taken.has(name)) {
      ids.set(name, name);
      continue;
    }
    let base = name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z]/.test(base) || isReserved(base)) base = `s_${base}`;
    let id = base;
    for (let n = 2; taken.has(id); n += 1) id = `${base}_${n}`;
    taken.add(id);
    ids.set(name, id);
  }
  return ids;
}

function guardText(guard: GuardRef): string {
  const params = guard.params ?? {};
  const parts = [guard.type];
  if (typeof params.path === 'string') parts.push(params.path);
  let text = parts.join(' ');
  if (guard.type === 'equals' || Object.hasOwn(params, 'value')) {
    text += ` = ${JSON.stringify(params.value) ?? 'undefined'}`;
  }
  return `[${text}]`;
}

function transitionList(config: TransitionsConfig): Array<{ target: string; guard?: GuardRef }> {
  const list = Array.isArray(config) ? config : [config];
  return list.map((item) => (typeof item === 'string' ? { target: item } : item));
}

function isFinal(state: FlowStateConfig): boolean {
  return state.type === 'final';
}

export function toMermaid(machine: FlowMachine): string {
  const names = Object.keys(machine.states);
  const ids = stateIds(names);
  const id = (name: string): string => ids.get(name) ?? name;

  const lines = ['stateDiagram-v2', `[*] --> ${id(machine.initial)}`];

  for (const name of names) {
    const state = machine.states[name];
    if (isFinal(state)) {
      const outcome = (state.meta as FinalMeta | undefined)?.outcome ?? 'final';
      lines.push(`${id(name)} : ${mermaidLabel(outcome)}`);
    } else {
      const meta = state.meta as StageMeta | undefined;
      const title = meta?.title !== undefined && meta.title.trim() !== '' ? meta.title : name;
      const kind = meta?.stage === undefined ? '' : ` (${meta.stage})`;
      lines.push(`${id(name)} : ${mermaidLabel(title + kind)}`);
    }
  }

  for (const name of names) {
    const state = machine.states[name];
    const edges: Array<[label: string, config: TransitionsConfig]> = [];
    for (const [event, config] of Object.entries(state.on ?? {})) edges.push([event, config]);
    const delays = Object.keys(state.after ?? {}).sort((a, b) => Number(a) - Number(b));
    for (const delay of delays) edges.push([`after ${delay} ms`, (state.after ?? {})[delay]]);
    for (const [label, config] of edges) {
      for (const transition of transitionList(config)) {
        const guard = transition.guard ? ` ${guardText(transition.guard)}` : '';
        lines.push(`${id(name)} --> ${id(transition.target)} : ${mermaidLabel(label + guard)}`);
      }
    }
  }

  for (const name of names) {
    if (isFinal(machine.states[name])) lines.push(`${id(name)} --> [*]`);
  }
  return `${lines.join('\n')}\n`;
}
