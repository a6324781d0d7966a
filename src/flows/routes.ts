/**
 * The ways back to a form, checked when flows load: a provider's "wrong input" (the stage's
 * `meta.inputErrors` and its INPUT_ERROR transition) and the user's BACK. Neither may make a
 * provider run again by itself: BACK goes from an input stage to an earlier input stage with
 * only input stages between them (going back over a provider stage would call it again, a new
 * billed call, when the user comes forward); an input error goes back to an input stage, or to
 * the provider stage itself when the stage takes the form (its own `meta.schema`).
 */
import type { FlowStateConfig, StageMeta, TransitionsConfig } from './core/types';
import { ERROR_CODE } from './translations';
import { isObject } from '../util/json';

type States = Record<string, FlowStateConfig>;

function metaOf(states: States, id: string): StageMeta | null {
  const state = Object.hasOwn(states, id) ? states[id] : undefined;
  return state && state.type !== 'final' && isObject(state.meta) ? (state.meta as StageMeta) : null;
}

function kindOf(states: States, id: string): string {
  return metaOf(states, id)?.stage ?? 'final';
}

function targetsOf(config: TransitionsConfig | undefined): string[] {
  if (config === undefined) return [];
  return (Array.isArray(config) ? config : [config]).map((t) => (typeof t === 'string' ? t : t.target));
}

/** The one stage a transition names without a guard, or null when it names several or guards it. */
function soleTarget(config: TransitionsConfig): string | null {
  const list = Array.isArray(config) ? config : [config];
  if (list.length !== 1) return null;
  const [only] = list;
  if (typeof only === 'string') return only;
  return only.guard === undefined ? only.target : null;
}

function propertiesOf(meta: StageMeta | null): string[] {
  return Object.keys(meta?.schema?.properties ?? {});
}

/** The stages a stage leads to going forward: every transition but BACK. */
function forward(states: States, id: string): string[] {
  const state = states[id];
  const on = Object.entries(state.on ?? {}).filter(([event]) => event !== 'BACK').flatMap(([, config]) => targetsOf(config));
  return [...on, ...Object.values(state.after ?? {}).flatMap(targetsOf)];
}

/**
 * The stages on some way forward from `from` to `to` (both included), or null when `from` does
 * not lead to `to`. Ways stop at `to`: what follows it is not between them.
 */
function stagesBetween(states: States, from: string, to: string): Set<string> | null {
  const reached = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (id === to && id !== from) continue;
    for (const next of forward(states, id)) {
      if (!reached.has(next) && metaOf(states, next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  if (!reached.has(to)) return null;
  const between = new Set([to]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const id of reached) {
      if (between.has(id) || id === to) continue;
      if (forward(states, id).some((next) => between.has(next))) {
        between.add(id);
        grew = true;
      }
    }
  }
  return between;
}

function backProblems(states: States, name: string, config: TransitionsConfig): string[] {
  const where = `state "${name}" on BACK`;
  const target = soleTarget(config);
  if (target === null) return [`${where} must name one stage, without a guard`];
  if (target === name) return [`${where} targets the stage itself: BACK goes to an earlier input stage`];
  const kind = kindOf(states, target);
  if (kind !== 'input') return [`${where} targets "${target}", which is a ${kind === 'final' ? 'final state' : `${kind} stage`}: BACK must go to an input stage`];
  const between = stagesBetween(states, target, name);
  if (between === null) return [`${where} targets "${target}", which does not lead to "${name}": BACK goes to an earlier input stage`];
  const crossed = [...between].filter((id) => kindOf(states, id) !== 'input');
  if (crossed.length > 0) {
    const list = crossed.map((id) => `"${id}" (${kindOf(states, id)})`).join(', ');
    return [`${where} to "${target}" crosses ${list}: every way from "${target}" to "${name}" must pass input stages only, so going back never runs a provider again`];
  }
  return [];
}

function inputErrorProblems(states: States, name: string, meta: StageMeta): string[] {
  const where = `state "${name}"`;
  const codes = meta.inputErrors as unknown;
  const route = states[name].on?.INPUT_ERROR;
  if (codes === undefined) return route === undefined ? [] : [`${where} on INPUT_ERROR: the stage has no meta.inputErrors listing the provider codes that take it`];
  if (meta.stage !== 'provider') return [`${where} has meta.inputErrors but is not a provider stage`];
  if (!isObject(codes) || Object.keys(codes).length === 0) return [`${where} meta.inputErrors must be an object of provider code: field name, with at least one code`];
  const problems: string[] = [];
  for (const [code, field] of Object.entries(codes)) {
    if (!ERROR_CODE.test(code)) problems.push(`${where} meta.inputErrors "${code}" is not a provider code (letters, digits, _ . -)`);
    if (typeof field !== 'string' || field === '') problems.push(`${where} meta.inputErrors.${code} must name the field it marks`);
    if (!isObject(meta.providerErrors) || typeof meta.providerErrors[code] !== 'string') {
      problems.push(`${where} meta.inputErrors.${code} has no message: add meta.providerErrors.${code}, the words shown at the field`);
    }
  }
  if (route === undefined) return [...problems, `${where} has meta.inputErrors but no INPUT_ERROR transition: add on.INPUT_ERROR, the form to go back to`];
  const target = soleTarget(route);
  if (target === null) return [...problems, `${where} on INPUT_ERROR must name one stage, without a guard`];
  const targetMeta = metaOf(states, target);
  const form = target === name ? propertiesOf(targetMeta).length > 0 : targetMeta?.stage === 'input';
  if (!form) {
    const kind = kindOf(states, target);
    return [...problems, `${where} on INPUT_ERROR targets "${target}", which is ${target === name ? 'the stage itself without a form' : `a ${kind === 'final' ? 'final state' : `${kind} stage`}`}: it must go back to an input stage, or to "${name}" itself when it takes the form (meta.schema with properties)`];
  }
  const fields = propertiesOf(targetMeta);
  for (const [code, field] of Object.entries(codes)) {
    if (typeof field === 'string' && field !== '' && !fields.includes(field)) {
      problems.push(`${where} meta.inputErrors.${code} marks "${field}", which is not a field of "${target}" (its fields: ${fields.join(', ')})`);
    }
  }
  return problems;
}

/** Every problem of the machine's ways back; run once the machine is otherwise well-formed. */
export function routeProblems(states: States): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(states)) {
    const meta = metaOf(states, name);
    if (!meta) continue;
    problems.push(...inputErrorProblems(states, name, meta));
    const back = states[name].on?.BACK;
    if (back !== undefined) problems.push(...backProblems(states, name, back));
  }
  return problems;
}
