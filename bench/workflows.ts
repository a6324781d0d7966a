/**
 * The benchmark's own workflows, run by a second worker process on their own task queue:
 * - the engine's floor: a workflow that does nothing, and one whose update does nothing;
 * - the naive peer: the same flow as a session, driven by signals, its progress read by
 *   polling a query (what one writes without workflow updates).
 * Deterministic code only, like src/workflows.
 */
import { condition, defineQuery, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import { CompiledFlow, stageInfo, type FlowEvent } from '../src/flows/core/engine';
import { validateAgainstSchema } from '../src/flows/core/schema';
import type { FlowMachine } from '../src/flows/core/types';
import { runStage } from '../src/workflows/providers';

export const noopUpdate = defineUpdate<null>('noop');
export const finishSignal = defineSignal('finish');

/**
 * The engine's floor: a workflow that does nothing, with a no-op update handler. It stays open
 * until told to finish, as a session stays open between steps: one that completed at once
 * would load the server with its closing, and each start measured after it would pay for it.
 */
export async function emptyWorkflow(): Promise<void> {
  let finished = false;
  setHandler(noopUpdate, () => null);
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished);
}

export interface PeerSubmission {
  step: string;
  input: Record<string, unknown>;
}

export interface PeerView {
  launched: boolean;
  /** Submissions handled so far, accepted or not: what a poller waits to see grow. */
  handled: number;
  state: string;
  done: boolean;
  lastError: string | null;
  results: Record<string, unknown>;
}

export const peerLaunchSignal = defineSignal('launch');
export const peerSubmitSignal = defineSignal<[PeerSubmission]>('submit');
export const peerViewQuery = defineQuery<PeerView>('view');

export async function peerSessionWorkflow(input: { machine: FlowMachine; tag: string }): Promise<PeerView> {
  const { machine } = input;
  const flow = new CompiledFlow(machine);
  const queue: PeerSubmission[] = [];
  let position = flow.start();
  const view: PeerView = { launched: false, handled: 0, state: position.state, done: false, lastError: null, results: {} };
  setHandler(peerLaunchSignal, () => {
    view.launched = true;
  });
  setHandler(peerSubmitSignal, (submission) => {
    queue.push(submission);
  });
  setHandler(peerViewQuery, () => view);

  while (!position.done) {
    await condition(() => queue.length > 0);
    const submission = queue.shift() as PeerSubmission;
    const stage = stageInfo(machine, position.state);
    const problems = stage ? validateAgainstSchema(stage.schema, submission.input, { now: Date.now() }) : [];
    if (!stage || submission.step !== stage.id || problems.length > 0) {
      view.lastError = stage && submission.step === stage.id ? 'invalid_data' : 'invalid_step';
      view.handled += 1;
      continue;
    }
    let event: FlowEvent = { type: 'SUBMIT', input: submission.input };
    if (stage.kind === 'provider') {
      const outcome = await runStage(stage, {
        input: submission.input,
        prepared: null,
        idempotencyKey: `${input.tag}-${view.handled}`,
        session: { ref: input.tag, tag: input.tag },
        delivered: null,
      });
      event = outcome.ok ? { type: 'DONE', output: outcome.output } : { type: 'ERROR', error: outcome.error };
      if (outcome.ok) view.results[stage.id] = outcome.output;
    }
    position = flow.advance(position.state, event) ?? position;
    view.state = position.state;
    view.done = position.done;
    view.lastError = null;
    view.handled += 1;
  }
  // A completed workflow leaves the worker cache, and every later query of it replays its
  // history. Sessions stay open until archived (not part of the benchmark); so does the peer.
  await condition(() => false);
  return view;
}
