/** "Step N of M" from a flow machine alone: linear flows, branches, retries, and the sample flows. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stageProgress } from '../../src/api/hosted/progress';
import type { FlowMachine, FlowStateConfig } from '../../src/flows/core/types';

const input = (on: FlowStateConfig['on'], after?: FlowStateConfig['after']): FlowStateConfig => ({ meta: { stage: 'input' }, on, ...(after ? { after } : {}) });
const final: FlowStateConfig = { type: 'final', meta: { outcome: 'success' } };

function machine(initial: string, states: Record<string, FlowStateConfig>): FlowMachine {
  return { id: 'm', initial, states };
}

function sample(file: string): FlowMachine {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'flows', file), 'utf8')).draft;
}

test('the sample flows: kyc-basic counts its three stages, not its review; consent-only its one', () => {
  expect(sample('kyc-basic.json').states.review.meta).toMatchObject({ stage: 'review' });
  expect(stageProgress(sample('kyc-basic.json'))).toEqual({ identity: [1, 3], aadhaar: [2, 3], bank: [3, 3] });
  expect(stageProgress(sample('consent-only.json'))).toEqual({ consent: [1, 1] });
});

test('a branch: the total is what can still follow, so a short branch does not promise more', () => {
  // a -> (b -> c -> d) | e
  const flow = machine('a', {
    a: input({ SUBMIT: [{ target: 'b', guard: { type: 'equals', params: { path: 'input.long', value: true } } }, { target: 'e' }] }),
    b: input({ SUBMIT: 'c' }),
    c: input({ SUBMIT: 'd' }),
    d: input({ SUBMIT: 'done' }),
    e: input({ SUBMIT: 'done' }),
    done: final,
  });
  expect(stageProgress(flow)).toEqual({ a: [1, 4], b: [2, 4], c: [3, 4], d: [4, 4], e: [2, 2] });
});

test('a branch that skips a stage jumps ahead to the place on the longest way; it never counts back', () => {
  // a -> b -> c, and a -> c
  const flow = machine('a', { a: input({ SUBMIT: ['b', 'c'] }), b: input({ SUBMIT: 'c' }), c: input({ SUBMIT: 'done' }), done: final });
  expect(stageProgress(flow)).toEqual({ a: [1, 3], b: [2, 3], c: [3, 3] });
});

test('a retry back to an earlier stage, and a timer to a stage, are not more steps; final and unreachable states are not steps', () => {
  const flow = machine('a', {
    a: input({ SUBMIT: 'b' }),
    b: input({ SUBMIT: ['a', 'b', 'c'] }),
    c: input({ SUBMIT: 'done' }, { 60000: 'late' }),
    late: { meta: { stage: 'wait' }, on: { EVENT: 'done' } },
    orphan: input({ SUBMIT: 'done' }),
    done: final,
  });
  expect(stageProgress(flow)).toEqual({ a: [1, 4], b: [2, 4], c: [3, 4], late: [4, 4] });
});

test('a flow whose initial state is not a stage has no steps', () => {
  expect(stageProgress(machine('done', { done: final }))).toEqual({});
});
