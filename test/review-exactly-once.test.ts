/**
 * A review's decision is exactly-once, against the real stack: two reviewers' decisions queued
 * on the server while no worker polls reach the session in one workflow task, and one wins; and
 * the SLA timer, kept as a due time in the state, is armed again by the run continue-as-new
 * starts. Its own stack: the first test stops the worker.
 */
import { isGrpcServiceError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { FlowMachine } from '../src/flows/core/types';
import { decideReviewUpdate, REVIEW_REFUSALS, reviewQuery, type ReviewAnswer, type ReviewDecisionArgs } from '../src/contract/review';
import { INBOUND_REFUSED } from '../src/contract/session';
import { sessionWorkflowId } from '../src/session-secret';
import { GRPC_STATUS } from '../src/temporal';
import { inlineFlow } from './helpers/flows';
import { acceptedDecisions, type HistoryEvent, refusalOf } from './helpers/reviews';
import { eventually, reviewSecret, startStack, type Stack } from './helpers/stack';
import type { SessionWorker } from '../src/worker';

const { EventType } = temporal.api.enums.v1;

function reviewed(sla?: string): FlowMachine {
  return {
    id: 'reviewed-once',
    initial: 'details',
    states: {
      details: { meta: { stage: 'input', schema: { type: 'object', additionalProperties: false } }, on: { SUBMIT: 'check' } },
      check: { meta: { stage: 'review', reasons: ['doubt'], ...(sla ? { sla } : {}) }, on: { APPROVED: 'approved', REJECTED: 'rejected' } },
      approved: { type: 'final', meta: { outcome: 'success' } },
      rejected: { type: 'final', meta: { outcome: 'error' } },
    },
  };
}

let stack: Stack;
let worker: SessionWorker;

beforeAll(async () => {
  stack = await startStack('review-once');
  worker = await stack.startWorker();
});

afterAll(async () => {
  await stack?.stop();
});

async function inReview(sla?: string): Promise<{ handle: WorkflowHandle; sessionId: string }> {
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-once', definition: inlineFlow(reviewed(sla)) });
  const launch = await stack.gateway.launch(sessionId);
  expect(await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'details', input: {} })).toMatchObject({ data: { step: 'check' } });
  return { handle: stack.client.workflow.getHandle(sessionWorkflowId(sessionId)), sessionId };
}

/** A decision as the codec server's route makes it: the operator named, the proof made with REVIEW_SECRET. */
function decision(workflowId: string, fields: Pick<ReviewDecisionArgs, 'decision' | 'operator'> & { reason?: string }): ReviewDecisionArgs {
  const args = { stage: 'check', entry: 2, ...fields };
  return { ...args, proof: reviewSecret.proof(workflowId, args) };
}

async function historyOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** Resolves once the server holds the update (admitted), before any worker has seen it. */
async function admitted(workflowId: string, updateId: string): Promise<void> {
  const { ADMITTED } = { ADMITTED: temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED };
  const stage = await eventually(async () => {
    try {
      const answer = await stack.client.workflowService.pollWorkflowExecutionUpdate({
        namespace: stack.config.temporal.namespace,
        updateRef: { workflowExecution: { workflowId }, updateId },
        identity: 'review-exactly-once test',
        waitPolicy: { lifecycleStage: ADMITTED },
      });
      return answer.stage;
    } catch (err) {
      // Not there yet: the client's request is still on its way.
      if (isGrpcServiceError(err) && err.code === GRPC_STATUS.NOT_FOUND) return undefined;
      throw err;
    }
  }, 10_000, `update ${updateId} admitted`);
  expect(stage).toBe(ADMITTED);
}

test('two reviewers decide at once: both decisions arrive in one workflow task, one is taken and the other refused as already decided', async () => {
  const { handle, sessionId } = await inReview();
  const { workflowId } = handle;
  // No worker polls: both decisions wait on the server, so the next workflow task carries both.
  worker.shutdown();
  await eventually(async () => (worker.worker.getState() === 'STOPPED' ? true : undefined), 30_000, 'the worker to stop');
  const before = (await historyOf(handle)).length;
  const approve = handle.executeUpdate(decideReviewUpdate, { args: [decision(workflowId, { decision: 'approve', operator: 'rita' })], updateId: 'review-2-rita' });
  const reject = handle.executeUpdate(decideReviewUpdate, { args: [decision(workflowId, { decision: 'reject', reason: 'doubt', operator: 'rob' })], updateId: 'review-2-rob' });
  try {
    await admitted(workflowId, 'review-2-rita');
    await admitted(workflowId, 'review-2-rob');
  } finally {
    worker = await stack.startWorker();
  }

  const [a, r] = await Promise.allSettled([approve, reject]);
  const taken = [a, r].filter((s): s is PromiseFulfilledResult<ReviewAnswer> => s.status === 'fulfilled');
  expect(taken).toHaveLength(1);
  expect(taken[0].value).toMatchObject({ status: 'consumed', next: null });
  const refused = [a, r].find((s) => s.status === 'rejected') as PromiseRejectedResult;
  const cause = (refused.reason as WorkflowUpdateFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe(REVIEW_REFUSALS.ALREADY_DECIDED);

  // History: the first task after the restart accepted one decision; the other was never accepted.
  const events = (await historyOf(handle)).slice(before);
  const firstCompleted = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  expect(events[firstCompleted + 1].eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
  const accepted = await acceptedDecisions(stack, events);
  expect(accepted).toHaveLength(1);
  expect(accepted[0].args.decision).toBe(taken[0].value.decision);
  expect(await stack.gateway.status(sessionId)).toMatchObject({ outcome: taken[0].value.decision === 'approve' ? 'success' : 'error' });
});

test('after continue-as-new the new run arms the SLA timer again, from the due time in the state', async () => {
  const { handle } = await inReview('90s');
  const { workflowId } = handle;
  const { dueAt } = await handle.query(reviewQuery);
  const firstRun = (await handle.describe()).runId;
  // Refused decisions (no valid proof) grow the history until Temporal suggests continue-as-new.
  const forged = { ...decision(workflowId, { decision: 'approve', operator: 'mallory' }), proof: 'not-a-proof' };
  for (let i = 0; i < 150 && (await handle.describe()).runId === firstRun; i += 1) {
    expect(await refusalOf(handle.executeUpdate(decideReviewUpdate, { args: [forged], updateId: `forged-${i}` }))).toBe(INBOUND_REFUSED);
  }
  const next = await eventually(async () => {
    const { runId } = await handle.describe();
    return runId !== firstRun ? runId : undefined;
  }, 20_000, 'continue-as-new');
  // The new run's first task: it arms the session's timers (its expiry, a day away, and the SLA).
  const events = await eventually(async () => {
    const history = await historyOf(stack.client.workflow.getHandle(workflowId, next));
    return history.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) ? history : undefined;
  }, 20_000, "the new run's first workflow task");
  // The workflow's clock in its first task: that task's start.
  const firstTask = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)!;
  const startedAt = Number(firstTask.eventTime!.seconds) * 1000 + Math.floor((firstTask.eventTime!.nanos ?? 0) / 1e6);
  expect(events[0].workflowExecutionStartedEventAttributes?.continuedExecutionRunId).toBe(firstRun);
  const durations = events.filter((e) => e.timerStartedEventAttributes).map((e) => e.timerStartedEventAttributes!.startToFireTimeout!);
  const timers = durations.map((t) => Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).filter((ms) => ms <= 90_000);
  expect(timers).toHaveLength(1);
  const [timerMs] = timers;
  // What was left of the SLA when the new run started, not a fresh 90 s.
  expect(timerMs).toBeLessThan(90_000);
  expect(Math.abs(startedAt + timerMs - dueAt!)).toBeLessThan(1_000);
  expect(await handle.query(reviewQuery)).toMatchObject({ stage: 'check', dueAt, overdue: false, decided: null });
  const answer = await handle.executeUpdate(decideReviewUpdate, { args: [decision(workflowId, { decision: 'approve', operator: 'rita' })], updateId: 'review-2-after-can' });
  expect(answer).toMatchObject({ operator: 'rita', status: 'consumed' });
});
