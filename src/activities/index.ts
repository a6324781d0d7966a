/**
 * The worker's activities, built by a factory from their dependencies so tests can point them
 * at any provider sandbox. Every activity is one attempt; Temporal owns the retries (see the
 * retry profiles in src/workflows/providers.ts), guided by the ProviderError classification.
 */
import { activityInfo, heartbeat } from '@temporalio/activity';
import type { AttestrConnector } from '../providers/attestr';
import { ProviderError } from '../providers/errors';
import type { FinqwareConnector } from '../providers/finqware';
import type { HttpStageConnector } from '../providers/http-stage';
import type { HttpRequestSpec } from '../flows/core/http-stage';
import type { ProviderName } from '../flows/core/types';
import type { BackendEventArgs, InboundRefusal } from '../contract/session';
import type { WebhookEvent } from '../contract/webhook-outbox';
import type { SessionSecret } from '../session-secret';
import type { ReviewSecret } from '../review-secret';
import type { ReviewDecisionArgs } from '../contract/review';
import type { HandoffClaimArgs, HandoffOfferArgs } from '../contract/handoff';
import { codeLabel, willRetry, type WorkerMetrics } from './metrics';
import type { SessionShredder } from './shred';
import type { FunnelWriter } from '../funnel/open';
import { funnelActivities } from './funnel';
import { failedDeliveryOutcome, type WebhookSender } from './webhooks';

export interface ActivityDeps {
  attestr: AttestrConnector;
  finqware: FinqwareConnector;
  http: HttpStageConnector;
  webhooks: WebhookSender;
  shredder: SessionShredder;
  /** Checks the api's proofs on backend events. */
  sessionSecret: SessionSecret;
  /** Checks the codec server's proofs on review decisions. */
  reviewSecret: ReviewSecret;
  /** The longest a provider's daily quota is waited for before the stage fails. */
  quotaWaitCapMs: number;
  metrics: WorkerMetrics;
  /** Where session ends go (src/funnel). */
  funnel: FunnelWriter;
}

/**
 * Heartbeats while `work` runs, so a worker that dies mid-call is noticed within the
 * heartbeat timeout rather than the whole start-to-close timeout.
 */
async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  heartbeat();
  const beat = setInterval(() => heartbeat(), 1_000);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

/**
 * Runs a provider call (heartbeating); maps ProviderErrors to the ApplicationFailures
 * Temporal's retry policy reads, and counts the attempts it will retry.
 */
async function callProvider<T>(deps: ActivityDeps, provider: ProviderName, work: () => Promise<T>): Promise<T> {
  const { activityType, attempt, retryPolicy } = activityInfo();
  const started = performance.now();
  let outcome = 'ok';
  try {
    return await heartbeating(work);
  } catch (err) {
    if (!(err instanceof ProviderError)) {
      outcome = 'error';
      throw err;
    }
    outcome = err.type;
    // Refused at the source check: the result never reaches the session.
    if (err.type === 'ProviderSignatureInvalid') deps.metrics.providerResultRefused({ provider, reason: codeLabel(provider, err.details) });
    const failure = err.toFailure({ quotaWaitCapMs: deps.quotaWaitCapMs });
    if (willRetry(failure, attempt, retryPolicy)) deps.metrics.providerRetry({ provider, type: err.type, code: codeLabel(provider, err.details) });
    throw failure;
  } finally {
    deps.metrics.providerCall({ provider, activity: activityType, outcome }, (performance.now() - started) / 1000);
  }
}

export function createActivities(deps: ActivityDeps) {
  const providerCall = <T>(provider: ProviderName, work: () => Promise<T>) => callProvider(deps, provider, work);
  return {
    attestrCreateHandshake(args: { flow: string; snapshot: string | null; tag: string }) {
      return providerCall('attestr', () => deps.attestr.createHandshake(args));
    },
    /** `tag`: the one the handshake was created with; absent in calls scheduled before it was checked. */
    attestrFetchVerifiedResult(args: { handshakeId: string; tag?: string }) {
      return providerCall('attestr', () => deps.attestr.fetchVerifiedResult(args.handshakeId, args.tag));
    },
    finqwareCreateSession(args: { tenantUserId: string; skill: string }) {
      return providerCall('finqware', () => deps.finqware.createSession(args));
    },
    finqwareSubmitStep(args: { sessionId: string; nonce: string; skill: string; step: string; data: unknown }) {
      return providerCall('finqware', () => deps.finqware.submitStep(args));
    },
    httpStageCall(spec: HttpRequestSpec) {
      return providerCall('http', () => deps.http.call(spec));
    },
    /** `sealedSessionId` (or, for outboxes from before, `sessionId`) names the session the event is about. */
    async deliverWebhook(args: { clientId: string; event: WebhookEvent; sealedSessionId?: string; sessionId?: string }) {
      try {
        const outcome = await heartbeating(() => deps.webhooks.deliver(args.clientId, args.event, { ...args, firstScheduledMs: activityInfo().scheduledTimestampMs }));
        deps.metrics.webhookDelivery(outcome.delivered ? 'delivered' : outcome.reason);
        return outcome;
      } catch (err) {
        deps.metrics.webhookDelivery(failedDeliveryOutcome(err));
        throw err;
      }
    },
    /**
     * A local activity: a session refused a message unread. Its marker is the refusal's record in
     * the session's history, and it is counted here, once (a replay reads the marker instead).
     */
    async recordInboundRefusal(args: InboundRefusal): Promise<InboundRefusal> {
      deps.metrics.inboundRefusal(args);
      return args;
    },
    /** A local activity: whether a backend event carries the api's proof for this session (its marker records the answer). */
    async verifyBackendEvent(args: { workflowId: string; event: BackendEventArgs }): Promise<{ proven: boolean }> {
      const proven = deps.sessionSecret.verifyEventProof(args.workflowId, args.event);
      if (!proven) deps.metrics.inboundRefusal({ message: 'deliverEvent', reason: 'unproven' });
      return { proven };
    },
    async verifyReviewDecision(args: { workflowId: string; args: ReviewDecisionArgs }): Promise<{ proven: boolean }> {
      const proven = deps.reviewSecret.verify(args.workflowId, args.args);
      if (!proven) deps.metrics.inboundRefusal({ message: 'decideReview', reason: 'unproven' });
      return { proven };
    },
    /** A local activity: whether a handoff's offer or claim carries the api's proof for this session. */
    async verifyHandoff(args: { workflowId: string; args: HandoffOfferArgs | HandoffClaimArgs }): Promise<{ proven: boolean }> {
      const proven = deps.sessionSecret.verifyHandoffProof(args.workflowId, args.args);
      if (!proven) deps.metrics.inboundRefusal({ message: 'kind' in args.args ? 'offerHandoff' : 'claimHandoff', reason: 'unproven' });
      return { proven };
    },
    destroySessionKey(args: { sessionWorkflowId: string }) {
      return deps.shredder.destroyWhenClosed(args.sessionWorkflowId);
    },
    // A local activity: the session's end, written once to the funnel.
    ...funnelActivities(deps.funnel, deps.metrics),
  };
}

export type Activities = ReturnType<typeof createActivities>;
