/**
 * The one place provider stages call activities: it owns the retry profiles and turns provider
 * failures into StageErrors, which the flow then routes along its ERROR transition.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, TimeoutFailure, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { StageInfo } from '../flows/core/engine';
import { HttpStageInputError, renderHttpRequest, type HttpStageParams } from '../flows/core/http-stage';
import type { AttestrDelivery, StageError } from '../contract/session-state';
import { providerTaskQueue, type RateLimitedProvider } from '../contract/task-queues';

/** Classes a retry cannot fix: the stage fails on the first one. */
const PERMANENT = ['ProviderRejected', 'ProviderSignatureInvalid'];

/**
 * A provider call's worker dying shows within this, not the call's whole timeout: the activity
 * heartbeats every second and the worker sends each (src/worker/session-worker.ts), so two
 * late beats still pass. A change applies to calls scheduled after it (Temporal records it in
 * the scheduled event; replay does not compare it).
 */
const PROVIDER_HEARTBEAT_TIMEOUT = '3 seconds';

// Provider calls: rate limits are retried at the provider's Retry-After (the activity sets
// nextRetryDelay), 5xx and transport errors with backoff.
const CALLS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: PROVIDER_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 12, nonRetryableErrorTypes: PERMANENT },
};
const calls = proxyActivities<Activities>(CALLS);

/** The pending-result bound when the step names none (a step sent by an older api). */
export const DEFAULT_PENDING_WAIT_SECONDS = 10;

/**
 * Rate-limited providers' calls run on the provider's own task queue, where the Temporal server
 * caps the calls a second across all workers.
 */
function providerCalls(provider: RateLimitedProvider, options: ActivityOptions = CALLS) {
  return proxyActivities<Activities>({ ...options, taskQueue: providerTaskQueue(workflowInfo().taskQueue, provider) });
}

// The device reports the user finished Attestr's flow; the result can lag a moment behind it,
// so a pending result is polled by Temporal's retries, but only for `waitSeconds` in all
// (schedule-to-close): the device's request is waiting on this step. Past it the stage answers
// pending and the device tries again. Same three history events as before, whatever the bound.
function attestrResult(waitSeconds: number) {
  return providerCalls('attestr', {
    scheduleToCloseTimeout: `${waitSeconds} seconds`,
    heartbeatTimeout: PROVIDER_HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '1 second', backoffCoefficient: 1.5, maximumInterval: '5 seconds', nonRetryableErrorTypes: PERMANENT },
  });
}

// A wake-up's fetch: one attempt, whatever the answer, so each wake-up costs Attestr one call at
// most (the bound on wake-ups is the runner's). A result still missing waits for the device.
const WAKE_FETCH: ActivityOptions = {
  scheduleToCloseTimeout: '1 minute',
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: PROVIDER_HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 1 },
};

/**
 * Attestr's result for `handshakeId`, fetched from Attestr with its signature checked, and the
 * tag the handshake was created with; null when there is none yet, or it does not verify (the
 * activity's failure in history says which).
 */
export async function fetchAttestrResult(handshakeId: string, tag: string): Promise<AttestrDelivery | null> {
  try {
    const verified = await providerCalls('attestr', WAKE_FETCH).attestrFetchVerifiedResult({ handshakeId, tag });
    return { handshakeId, requestId: verified.requestId, result: verified.result };
  } catch (err) {
    if (err instanceof ActivityFailure) return null;
    throw err;
  }
}

export type StageOutcome = { ok: true; output: Record<string, unknown> } | { ok: false; error: StageError };

function stageError(err: unknown): StageError {
  if (!(err instanceof ActivityFailure)) throw err;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) {
    const details = (cause.details?.[0] ?? {}) as Partial<StageError>;
    return { ...details, type: cause.type ?? 'ProviderFailure', message: cause.message };
  }
  if (cause instanceof TimeoutFailure) return { type: 'ProviderTimeout', message: 'the provider call timed out' };
  return { type: 'ProviderFailure', message: cause?.message ?? err.message };
}

async function attempt(work: () => Promise<Record<string, unknown>>): Promise<StageOutcome> {
  try {
    return { ok: true, output: await work() };
  } catch (err) {
    if (err instanceof HttpStageInputError) return { ok: false, error: { type: 'ProviderRejected', message: err.message, provider: 'http' } };
    return { ok: false, error: stageError(err) };
  }
}

function param(stage: StageInfo, name: string): string {
  const value = stage.params?.[name];
  if (typeof value !== 'string') throw ApplicationFailure.nonRetryable(`stage ${stage.id} needs params.${name}`, 'FlowDefinitionError');
  return value;
}

/** Work done on entering a stage; its output is handed to the device with the step answer. */
export function prepareStage(stage: StageInfo, idempotencyKey: string): Promise<StageOutcome> {
  return attempt(async () => {
    const snapshot = stage.params?.snapshot;
    const handshake = await providerCalls('attestr').attestrCreateHandshake({
      flow: param(stage, 'flow'),
      snapshot: typeof snapshot === 'string' ? snapshot : null,
      tag: idempotencyKey,
    });
    return { handshakeId: handshake.handshakeId };
  });
}

export interface StageContext {
  input: unknown;
  prepared: Record<string, unknown> | null;
  idempotencyKey: string;
  session: { ref: string; tag: string };
  /** Attestr's result when a wake-up fetched and verified it already: no need to ask Attestr again. */
  delivered: AttestrDelivery | null;
  /** How long a provider result still pending is waited for in this step (StepArgs.pendingWaitSeconds). */
  pendingWaitSeconds?: number;
}

/** Attestr's result, or pending once the step's bound is spent on a result still not there. */
async function attestrStage(context: StageContext): Promise<StageOutcome> {
  const handshakeId = String(context.prepared?.handshakeId ?? '');
  try {
    const verified =
      context.delivered?.handshakeId === handshakeId
        ? context.delivered
        : await attestrResult(context.pendingWaitSeconds ?? DEFAULT_PENDING_WAIT_SECONDS).attestrFetchVerifiedResult({ handshakeId, tag: context.idempotencyKey });
    return { ok: true, output: { handshakeId, requestId: verified.requestId, verified: true, result: verified.result } };
  } catch (err) {
    if (boundSpent(err)) return { ok: false, error: { type: 'ProviderResultPending', message: 'attestr has no result for this handshake yet', provider: 'attestr' } };
    return { ok: false, error: stageError(err) };
  }
}

/**
 * Whether the result poll ended because the step's bound was spent: it timed out, or a retry
 * Attestr asked for past the bound (a 429's Retry-After) ended the call with retry state TIMEOUT.
 * The stage then stays open and the device tries again. (A poll that found no result ends with
 * its own ProviderResultPending failure, kept by stageError.)
 */
function boundSpent(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  if (err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_CLOSE') return true;
  return err.retryState === 'TIMEOUT' && err.cause instanceof ApplicationFailure && err.cause.type === 'ProviderRateLimited';
}

/** The provider work of a device submission. */
export function runStage(stage: StageInfo, context: StageContext): Promise<StageOutcome> {
  if (stage.provider === 'attestr') return attestrStage(context);
  return attempt(async () => {
    if (stage.provider === 'http') {
      const spec = renderHttpRequest(stage.params as unknown as HttpStageParams, { input: context.input, session: context.session });
      const answer = await calls.httpStageCall(spec);
      return { status: answer.status, body: answer.body };
    }
    const { input, idempotencyKey } = context;
    const skill = param(stage, 'skill');
    const finqware = providerCalls('finqware');
    const session = await finqware.finqwareCreateSession({ tenantUserId: idempotencyKey, skill });
    const step = await finqware.finqwareSubmitStep({ sessionId: session.sessionId, nonce: session.nonce, skill, step: param(stage, 'step'), data: input });
    return { sessionId: session.sessionId, stepId: step.stepId, status: step.status, data: step.data };
  });
}
