/**
 * One Temporal workflow per session. This file only wires messages to the session: updates
 * (validated synchronously by SessionValidators, so refusals leave no trace, failed proofs aside:
 * those are refused by the handler, so history records them), the signal and
 * queries (session/views.ts), and continue-as-new. What each message does is the SessionRunner's
 * (session/runner.ts), with its effects (session/effects.ts), timers (session/timers.ts), webhook
 * pump (session/webhook-pump.ts) and what it reports to visibility (session/search-attributes.ts)
 * beside it; SessionModel (session/model.ts) makes every change to the session's state.
 * Deterministic code only: time is workflow time, nonce hashes arrive in update arguments.
 * The workflow never holds a live credential (DESIGN.md §5.4): not the handshake id (it knows
 * the session by its ref, a hash of the id, and carries the id only sealed for its webhooks),
 * not a live nonce or launch proof (only their hashes; an update carries the preimage, which is
 * spent once taken: docs/security/device-binding.md).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  makeContinueAsNewFunc,
  metricMeter,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  archiveUpdate,
  attestrResultSignal,
  deliverEventUpdate,
  deploymentWakeSignal,
  expireUpdate,
  launchUpdate,
  resultQuery,
  resumeUpdate,
  statusQuery,
  progressQuery,
  submitStepUpdate,
  viewQuery,
  INBOUND_REFUSED,
  type BackendEventArgs,
  type ExpireArgs,
  type LaunchArgs,
  type ResumeArgs,
  type StepArgs,
  type StatusView,
} from '../contract/session';
import type { SessionInput } from '../contract/session-state';
import { decideReviewUpdate, reviewQuery, type ReviewDecisionArgs } from '../contract/review';
import { notDecryptedBecause } from '../util/json';
import { workflowEffects } from './session/effects';
import { FunnelRecorder } from './session/funnel';
import { handleHandoffs } from './session/handoff';
import { InboundGuard } from './session/inbound';
import { SessionModel } from './session/model';
import { SessionRunner } from './session/runner';
import { SessionValidators } from './session/validators';
import { reviewView } from './session/review';
import { holdsNonceHash, resultView, statusView } from './session/views';
import { WebhookPump } from './session/webhook-pump';
import { startShredder } from './shred';
import { declareVersioningBehavior } from './versioning';

/** Updates per run before continuing as new, well under Temporal's 2,000 per execution. */
const MAX_UPDATES_PER_RUN = 500;

/**
 * A run that continues as new because its build is no longer the deployment's target starts on
 * the target build (upgrade-on-continue-as-new); the new run is pinned there in turn.
 */
const continueOnTargetBuild = makeContinueAsNewFunc<typeof sessionWorkflow>({ initialVersioningBehavior: 'AUTO_UPGRADE' });

export async function sessionWorkflow(input: SessionInput): Promise<StatusView> {
  // Decoding never fails a workflow task (it would retry for ever): the session fails instead.
  if (notDecryptedBecause(input) === 'undecryptable') throw ApplicationFailure.nonRetryable('the session input could not be decrypted', INBOUND_REFUSED);
  const inbound = new InboundGuard(input);
  const session = new SessionModel(input);
  const validators = new SessionValidators(session);
  const { state } = session;
  const continued = Boolean(workflowInfo().continuedFromExecutionRunId);
  // A state comes only from this workflow's own continue-as-new: one in a run started any other
  // way (straight through Temporal) would skip the flow, so that run fails before it begins.
  if (input.state && !continued) throw ApplicationFailure.nonRetryable('a session state in a run that did not continue from one', INBOUND_REFUSED);
  const pump = new WebhookPump(session, input.webhook);
  // Counted by the worker's SDK meter, which skips replays.
  const wakeups = metricMeter.createCounter('sessionflow_attestr_wakeups', undefined, 'attestrResult wake-ups, by what they led to (a fetch, one shared with a fetch running, nothing waiting, the bound spent)');
  const runner = new SessionRunner(session, pump, workflowEffects(session, inbound), continued);

  let updatesThisRun = 0;
  /** Counts an update towards this run's budget, then runs it. */
  const counted =
    <A extends unknown[], R>(handle: (...args: A) => R) =>
    (...args: A): R => {
      updatesThisRun += 1;
      return handle(...args);
    };

  // Before any handler is set: setting one runs the updates already waiting for it (a launch
  // sent right after the start), and their events must come after this one.
  if (!input.state) pump.emit('session.created');
  // The signal only wakes the session, which fetches and verifies Attestr's result itself.
  setHandler(attestrResultSignal, async (content) => {
    if (await inbound.refused(attestrResultSignal.name, content)) return;
    wakeups.add(1, { outcome: await runner.attestrWake() });
  });
  // Its workflow task is the point: the condition below sees a changed target build in it.
  setHandler(deploymentWakeSignal, () => undefined);
  handleQueries(session, inbound);
  // Each update's argument passes the InboundGuard first: a refused one is recorded and fails.
  const { update, validator } = inbound;
  setHandler(launchUpdate, counted(update(launchUpdate.name, (args: LaunchArgs) => runner.launch(args))), { validator: validator((args: LaunchArgs) => validators.checkLaunch(args)) });
  setHandler(resumeUpdate, counted(update(resumeUpdate.name, (args: ResumeArgs) => runner.resume(args))), { validator: validator((args: ResumeArgs) => validators.checkResume(args)) });
  setHandler(submitStepUpdate, counted(update(submitStepUpdate.name, (args: StepArgs) => runner.submitStep(args))), { validator: validator((args: StepArgs) => validators.checkStep(args)) });
  setHandler(archiveUpdate, counted(() => runner.archive()), { validator: () => validators.checkArchive() });
  setHandler(expireUpdate, counted(update(expireUpdate.name, (args: ExpireArgs) => runner.expire(args))), { validator: validator((args: ExpireArgs) => validators.checkExpire(args)) });
  setHandler(deliverEventUpdate, counted(update(deliverEventUpdate.name, (event: BackendEventArgs) => runner.deliverEvent(event))), {
    validator: validator((event: BackendEventArgs) => validators.checkEvent(event)),
  });
  setHandler(decideReviewUpdate, counted(update(decideReviewUpdate.name, (args: ReviewDecisionArgs) => runner.decideReview(args))), {
    validator: validator((args: ReviewDecisionArgs) => validators.checkReview(args)),
  });
  handleHandoffs(session, inbound, counted);

  void pump.run();
  const funnel = FunnelRecorder.start(session);
  runner.start();

  // A pinned session leaves its build when a deploy made another build the target: always false
  // without Worker Versioning, and in histories recorded before it.
  const buildSuperseded = () => workflowInfo().targetWorkerDeploymentVersionChanged;
  const shouldContinueAsNew = () => workflowInfo().continueAsNewSuggested || updatesThisRun >= MAX_UPDATES_PER_RUN || buildSuperseded();
  await condition(() => state.status === 'archived' || shouldContinueAsNew());
  if (state.status !== 'archived') {
    // Finish every accepted update (no step in flight), hand over every webhook event and write
    // the funnel's record first: continuing as new must not drop one. The state carries the rest to the next run.
    await condition(() => !session.busy && allHandlersFinished() && pump.drained && funnel.drained);
    const next = { ...input, state };
    return await (buildSuperseded() ? continueOnTargetBuild(next) : continueAsNew<typeof sessionWorkflow>(next));
  }
  await condition(() => allHandlersFinished() && pump.drained && funnel.drained);
  // Crypto-shredding, once this workflow has closed.
  await startShredder(session.ref, workflowInfo().workflowId);
  return statusView(session);
}

/** The session's queries: they read its state and record nothing. */
function handleQueries(session: SessionModel, inbound: InboundGuard): void {
  setHandler(statusQuery, () => statusView(session));
  setHandler(resultQuery, () => resultView(session));
  setHandler(progressQuery, (args) => ({
    status: statusView(session),
    nonceCurrent: inbound.refusal(args) === null && holdsNonceHash(session, args?.nonceHash ?? null),
  }));
  setHandler(viewQuery, () => ({ status: statusView(session), result: resultView(session) }));
  setHandler(reviewQuery, () => reviewView(session));
}

/**
 * Pinned: a session runs start to end on the build it started on, so a workflow change never
 * meets a session it could break; at a quiet point after a deploy (see above) it continues as new
 * on the current build, so no year-long session keeps a year-old build alive.
 */
declareVersioningBehavior('PINNED', sessionWorkflow);
