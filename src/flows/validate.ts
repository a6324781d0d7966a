/**
 * Structural checks of a flow machine, run when flows are loaded so that a session never
 * starts on a machine the engine cannot step. Returns every problem found, each naming where.
 */
import { GUARD_NAMES, startFlow } from './core/engine';
import { httpParamsProblems } from './core/http-stage';
import { lintSchema } from './core/schema';
import { fieldsProblems } from './fields';
import { routeProblems } from './routes';
import { translationProblems } from './translations';
import {
  OUTCOMES,
  PROVIDERS,
  SLA_PATTERN,
  STAGE_EVENTS,
  STAGE_KINDS,
  TENANT_LINKS,
  type FlowMachine,
  type FlowStateConfig,
  type StageMeta,
} from './core/types';
import { isObject } from '../util/json';

const STATE_KEYS = new Set(['type', 'meta', 'on', 'after']);
/** What each provider's stage needs in meta.params. */
const REQUIRED_PARAMS: Record<string, string[]> = { attestr: ['flow'], finqware: ['skill', 'step'] };
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function checkTransitions(
  where: string,
  config: unknown,
  states: Record<string, unknown>,
  problems: string[],
): void {
  const list = Array.isArray(config) ? config : [config];
  if (list.length === 0) problems.push(`${where} has no transitions`);
  for (const item of list) {
    if (typeof item === 'string') {
      if (!Object.hasOwn(states, item)) problems.push(`${where} targets unknown state "${item}"`);
      continue;
    }
    if (!isObject(item) || typeof item.target !== 'string') {
      problems.push(`${where} must be a state name or { target, guard? }`);
      continue;
    }
    if (!Object.hasOwn(states, item.target)) problems.push(`${where} targets unknown state "${item.target}"`);
    for (const key of Object.keys(item)) {
      if (key !== 'target' && key !== 'guard') problems.push(`${where} has unsupported key "${key}"`);
    }
    if (item.guard !== undefined) {
      const guard = item.guard as Record<string, unknown>;
      if (!isObject(guard) || typeof guard.type !== 'string' || !GUARD_NAMES.has(guard.type)) {
        problems.push(`${where} guard must be { type: ${[...GUARD_NAMES].join('|')}, params }`);
      } else if (!isObject(guard.params) || typeof guard.params.path !== 'string') {
        problems.push(`${where} guard "${guard.type}" needs params.path`);
      } else if (guard.type === 'equals' && !Object.hasOwn(guard.params, 'value')) {
        problems.push(`${where} guard "equals" needs params.value`);
      } else if (guard.type === 'namesMatch' && typeof guard.params.other !== 'string') {
        problems.push(`${where} guard "namesMatch" needs params.other`);
      }
    }
  }
}

function isTenantLinkList(links: unknown): boolean {
  return Array.isArray(links) && links.every((link) => TENANT_LINKS.includes(link as never)) && new Set(links).size === links.length;
}

function checkStage(name: string, meta: unknown, problems: string[]): StageMeta | null {
  const where = `state "${name}"`;
  if (!isObject(meta) || !STAGE_KINDS.includes(meta.stage as never)) {
    problems.push(`${where} needs meta.stage: one of ${STAGE_KINDS.join(', ')}`);
    return null;
  }
  const stage = meta as unknown as StageMeta;
  if (stage.stage === 'input' && stage.schema === undefined) problems.push(`${where} is an input stage without meta.schema`);
  if (stage.schema !== undefined) problems.push(...lintSchema(stage.schema).map((p) => `${where} ${p}`));
  problems.push(...fieldsProblems(stage.fields, stage.schema).map((p) => `${where} ${p}`));
  if (stage.stage === 'provider' && !PROVIDERS.includes(stage.provider as never)) {
    problems.push(`${where} needs meta.provider: one of ${PROVIDERS.join(', ')}`);
  }
  if (stage.stage !== 'provider' && stage.provider !== undefined) problems.push(`${where} has a provider but is not a provider stage`);
  if (stage.provider === 'http') problems.push(...httpParamsProblems(stage.params).map((p) => `${where} ${p}`));
  const params = isObject(stage.params) ? stage.params : {};
  for (const name of stage.stage === 'provider' ? (REQUIRED_PARAMS[stage.provider as string] ?? []) : []) {
    if (typeof params[name] !== 'string' || params[name] === '') problems.push(`${where} needs params.${name} (a string)`);
  }
  if (stage.params !== undefined && !isObject(stage.params)) problems.push(`${where} meta.params must be an object`);
  for (const key of ['title', 'description'] as const) {
    if (stage[key] !== undefined && typeof stage[key] !== 'string') problems.push(`${where} meta.${key} must be a string`);
  }
  if (stage.links !== undefined && !isTenantLinkList(stage.links)) problems.push(`${where} meta.links must list, once each, some of ${TENANT_LINKS.join(', ')}`);
  problems.push(...reviewProblems(where, stage));
  return stage;
}

const REASON_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/** A review stage: its reasons, SLA and what it shows; any other stage has none of them. */
function reviewProblems(where: string, stage: StageMeta): string[] {
  const problems: string[] = [];
  if (stage.stage !== 'review') {
    for (const key of ['sla', 'reasons', 'show'] as const) if (stage[key] !== undefined) problems.push(`${where} has meta.${key} but is not a review stage`);
    return problems;
  }
  if (stage.schema !== undefined) problems.push(`${where} is a review stage: the device submits nothing, so it has no meta.schema`);
  const reasons = stage.reasons as unknown;
  if (!Array.isArray(reasons) || reasons.length === 0 || !reasons.every((r) => typeof r === 'string' && REASON_CODE.test(r)) || new Set(reasons).size !== reasons.length) {
    problems.push(`${where} needs meta.reasons: a list of distinct reason codes (lower case letters, digits and _)`);
  }
  if (stage.sla !== undefined && (typeof stage.sla !== 'string' || !SLA_PATTERN.test(stage.sla))) problems.push(`${where} meta.sla must be a duration such as "30m", "4h" or "2d"`);
  const show = stage.show as unknown;
  if (show !== undefined && !(Array.isArray(show) && show.every((path) => typeof path === 'string' && /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/.test(path)))) {
    problems.push(`${where} meta.show must be a list of paths into stage results, such as "identity.input.name"`);
  }
  return problems;
}

function stagesOf(states: Record<string, unknown>): Array<{ name: string; meta: StageMeta }> {
  return Object.entries(states).flatMap(([name, raw]) => (isObject(raw) && raw.type !== 'final' ? [{ name, meta: raw.meta as StageMeta }] : []));
}

export function validateFlowMachine(machine: unknown): string[] {
  if (!isObject(machine)) return ['the machine must be an object'];
  const problems: string[] = [];
  for (const key of Object.keys(machine)) {
    if (!['id', 'initial', 'states'].includes(key)) problems.push(`the machine has unsupported key "${key}"`);
  }
  if (typeof machine.id !== 'string' || !IDENTIFIER.test(machine.id)) problems.push('the machine needs an id (letters, digits, - and _)');
  if (!isObject(machine.states) || Object.keys(machine.states).length === 0) return [...problems, 'the machine needs states'];
  const states = machine.states;
  if (typeof machine.initial !== 'string' || !Object.hasOwn(states, machine.initial)) problems.push('the machine needs an initial state that exists');

  let finals = 0;
  for (const [name, raw] of Object.entries(states)) {
    const where = `state "${name}"`;
    if (!IDENTIFIER.test(name)) problems.push(`${where}: state names are letters, digits, - and _`);
    if (!isObject(raw)) {
      problems.push(`${where} must be an object`);
      continue;
    }
    for (const key of Object.keys(raw)) {
      if (!STATE_KEYS.has(key)) problems.push(`${where} has unsupported key "${key}" (flows are flat machines)`);
    }
    if (raw.type === 'final') {
      finals += 1;
      if (!isObject(raw.meta) || !OUTCOMES.includes(raw.meta.outcome as never)) {
        problems.push(`${where} is final and needs meta.outcome: one of ${OUTCOMES.join(', ')}`);
      }
      if (raw.on !== undefined || raw.after !== undefined) problems.push(`${where} is final and cannot have transitions`);
      continue;
    }
    if (raw.type !== undefined) problems.push(`${where} type must be "final" or absent`);
    const stage = checkStage(name, raw.meta, problems);
    const on = raw.on === undefined ? {} : raw.on;
    if (!isObject(on)) {
      problems.push(`${where} on must be an object`);
      continue;
    }
    if (stage) {
      const allowed = STAGE_EVENTS[stage.stage];
      for (const event of Object.keys(on)) {
        if (event === 'BACK' && stage.stage !== 'input') problems.push(`${where} on BACK: only an input stage may go back, and this is a ${stage.stage} stage`);
        else if (!allowed.includes(event)) problems.push(`${where} is a ${stage.stage} stage and takes only ${allowed.join(', ')}, not ${event}`);
      }
      if (stage.stage === 'provider' && (!('DONE' in on) || !('ERROR' in on))) {
        problems.push(`${where} is a provider stage and needs both DONE and ERROR transitions`);
      }
      if (stage.stage === 'review' && (!('APPROVED' in on) || !('REJECTED' in on))) {
        problems.push(`${where} is a review stage and needs both APPROVED and REJECTED transitions`);
      }
    }
    for (const [event, config] of Object.entries(on)) checkTransitions(`${where} on ${event}`, config, states, problems);
    if (raw.after !== undefined) {
      if (!isObject(raw.after)) problems.push(`${where} after must be an object`);
      else {
        for (const [delay, config] of Object.entries(raw.after)) {
          if (!/^[1-9]\d{0,11}$/.test(delay)) problems.push(`${where} after "${delay}" must be a delay in milliseconds`);
          checkTransitions(`${where} after ${delay}`, config, states, problems);
        }
      }
    }
    const delays = isObject(raw.after) ? Object.keys(raw.after).length : 0;
    if (Object.keys(on).length === 0 && delays === 0) problems.push(`${where} has no way out`);
  }
  if (finals === 0) problems.push('the machine needs at least one final state');
  // Translations and ways back are checked against well-formed stages only: their keys and fields come from the schemas.
  if (problems.length === 0) problems.push(...translationProblems(stagesOf(states)), ...routeProblems(states as Record<string, FlowStateConfig>));
  if (problems.length === 0) {
    try {
      startFlow(machine as unknown as FlowMachine);
    } catch (err) {
      problems.push(`XState refused the machine: ${(err as Error).message}`);
    }
  }
  return problems;
}
