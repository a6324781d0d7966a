/**
 * A session's end for the funnel, from its state: the stages it passed through with their
 * times, and how it left the last one. Sessions are driven through the SessionModel as the
 * workflow drives it; each expectation is written out by hand.
 */
import type { FlowPosition } from '../../src/flows/core/engine';
import { SessionModel } from '../../src/workflows/session/model';
import { sessionEnd, stageOrder } from '../../src/workflows/session/journey';
import { sampleDraft, sessionInputOf } from './fixtures';

const kyc = sampleDraft('kyc-basic');
const CREATED_AT = 1_700_000_000_000;
const LAUNCHED_AT = CREATED_AT + 60_000;

const input = (snapshotId: string | null = null) => sessionInputOf(kyc, CREATED_AT, snapshotId);

const at = (state: string): FlowPosition => ({ state, done: false, outcome: null, timers: [] });
const finalAt = (state: string, outcome: 'success' | 'error' | 'skipped'): FlowPosition => ({ state, done: true, outcome, timers: [] });

/** Launched, its identity step accepted 10 s after launch: at aadhaar. */
function atAadhaar(snapshotId: string | null = null): SessionModel {
  const model = new SessionModel(input(snapshotId));
  model.launch({ nonceHash: 'nonce-one-0000001' }, LAUNCHED_AT);
  model.record('identity', {}, {});
  model.countStep();
  model.enter(at('aadhaar'), LAUNCHED_AT + 10_000);
  return model;
}

test("the version's stages in its machine's order, final states left out", () => {
  expect(stageOrder(kyc)).toEqual([
    { id: 'identity', kind: 'input' },
    { id: 'aadhaar', kind: 'provider' },
    { id: 'review', kind: 'review' },
    { id: 'bank', kind: 'provider' },
  ]);
});

test('a completed session: every stage with its time from the launch on, ended completed at its last stage', () => {
  const model = atAadhaar('snap-1');
  model.record('aadhaar', {}, { verified: true });
  model.enter(at('bank'), LAUNCHED_AT + 30_000);
  model.record('bank', {}, { status: 'ok' });
  model.enter(finalAt('verified', 'success'), LAUNCHED_AT + 35_000);
  expect(sessionEnd(model)).toEqual({
    clientId: 'client-1',
    flowId: 'kyc-basic',
    flowVersion: 'snap-1',
    stages: stageOrder(kyc),
    visits: [
      { stage: 'identity', ms: 10_000 },
      { stage: 'aadhaar', ms: 20_000 },
      { stage: 'bank', ms: 5_000 },
    ],
    journey: 'full',
    ending: 'completed',
    outcome: 'success',
    createdAt: CREATED_AT,
    endedAt: LAUNCHED_AT + 35_000,
  });
});

test('a provider error: the ERROR that reached a final state; a draft is version `draft`', () => {
  const model = atAadhaar();
  model.record('aadhaar', {}, { error: { type: 'ProviderRejected', message: 'no' } });
  model.enter(finalAt('failed', 'error'), LAUNCHED_AT + 12_000);
  expect(sessionEnd(model)).toMatchObject({ flowVersion: 'draft', ending: 'provider_error', outcome: 'error', visits: [{ stage: 'identity' }, { stage: 'aadhaar', ms: 2_000 }] });
});

test("a reviewer's rejection, and the step budget spent at a provider stage", () => {
  const rejected = atAadhaar();
  rejected.enter(at('review'), LAUNCHED_AT + 20_000);
  rejected.record('review', {}, { decision: 'reject', reason: 'mismatch' });
  rejected.enter(finalAt('failed', 'error'), LAUNCHED_AT + 90_000);
  expect(sessionEnd(rejected)).toMatchObject({ ending: 'review_rejected', visits: [{ stage: 'identity' }, { stage: 'aadhaar' }, { stage: 'review', ms: 70_000 }] });

  const overBudget = atAadhaar();
  overBudget.state.stepCount = 50;
  overBudget.endIfOverBudget(LAUNCHED_AT + 40_000);
  expect(sessionEnd(overBudget)).toMatchObject({ ending: 'provider_error', outcome: 'error', endedAt: LAUNCHED_AT + 40_000 });
});

test('declined: a final state that is not success, reached from an input stage', () => {
  const model = new SessionModel(input());
  model.launch({ nonceHash: 'nonce-one-0000001' }, LAUNCHED_AT);
  model.record('identity', {}, {});
  model.enter(finalAt('failed', 'error'), LAUNCHED_AT + 4_000);
  expect(sessionEnd(model)).toMatchObject({ ending: 'declined', visits: [{ stage: 'identity', ms: 4_000 }] });
});

test('expired after a step in its last stage; abandoned with none there, or never launched', () => {
  const tried = atAadhaar();
  tried.countStep(); // a pending Attestr result: the step is counted, the stage stays
  tried.end('expired', 'the expiry passed before the flow finished', LAUNCHED_AT + 50_000);
  expect(sessionEnd(tried)).toMatchObject({ ending: 'expired', outcome: null, visits: [{ stage: 'identity' }, { stage: 'aadhaar', ms: 40_000 }] });

  const left = atAadhaar();
  left.end('expired', 'the expiry passed before the flow finished', LAUNCHED_AT + 50_000);
  expect(sessionEnd(left)).toMatchObject({ ending: 'abandoned', outcome: null });

  const unopened = new SessionModel(input());
  unopened.end('expired', 'the expiry passed before the flow finished', CREATED_AT + 1_000);
  expect(sessionEnd(unopened)).toMatchObject({ ending: 'abandoned', visits: [{ stage: 'identity', ms: null }], journey: 'full' });
});

test('a run continued from a build before the funnel knows its last stage only', () => {
  const carried = atAadhaar().state;
  delete carried.journey;
  const model = new SessionModel({ ...input(), state: carried });
  model.enter(at('bank'), LAUNCHED_AT + 60_000);
  model.end('expired', 'the expiry passed before the flow finished', LAUNCHED_AT + 70_000);
  expect(model.state.journey).toBeUndefined();
  // Whether bank saw a step is not known: expired, not abandoned.
  expect(sessionEnd(model)).toMatchObject({ journey: 'last', visits: [{ stage: 'bank', ms: null }], ending: 'expired' });
});
