/**
 * The worker's activities, built by a factory from their dependencies so tests can point them
 * at any provider sandbox. Every activity is one attempt; Temporal owns the retries (see the
 * retry profiles in src/workflows/providers.ts), guided by the ProviderError classification.
 */
import { heartbeat } from '@temporalio/activity';
import type { AttestrConnector } from './providers/attestr';
import { ProviderError } from './providers/errors';
import type { FinqwareConnector } from './providers/finqware';
import type { HttpStageConnector } from './providers/http-stage';
import type { HttpRequestSpec } from '../flows/http-stage';
import type { WebhookEvent } from '../workflows/messages';
import type { WebhookSender } from './webhooks';

export interface ActivityDeps {
  attestr: AttestrConnector;
  finqware: FinqwareConnector;
  http: HttpStageConnector;
  webhooks: WebhookSender;
  /** The longest a provider's daily quota is waited for before the stage fails. */
  quotaWaitCapMs: number;
}

/**
 * Heartbeats while `work` runs, so a worker that dies mid-call is noticed within the
 * heartbeat timeout rather than the whole start-to-close timeout; maps ProviderErrors to the
 * ApplicationFailures Temporal's retry policy reads.
 */
async function callProvider<T>(deps: ActivityDeps, work: () => Promise<T>): Promise<T> {
  heartbeat();
  const beat = setInterval(() => heartbeat(), 1_000);
  try {
    return await work();
  } catch (err) {
    throw err instanceof ProviderError ? err.toFailure({ quotaWaitCapMs: deps.quotaWaitCapMs }) : err;
  } finally {
    clearInterval(beat);
  }
}

export function createActivities(deps: ActivityDeps) {
  const providerCall = <T>(work: () => Promise<T>) => callProvider(deps, work);
  return {
    attestrCreateHandshake(args: { flow: string; snapshot: string | null; tag: string }) {
      return providerCall(() => deps.attestr.createHandshake(args));
    },
    attestrFetchVerifiedResult(args: { handshakeId: string }) {
      return providerCall(() => deps.attestr.fetchVerifiedResult(args.handshakeId));
    },
    finqwareCreateSession(args: { tenantUserId: string; skill: string }) {
      return providerCall(() => deps.finqware.createSession(args));
    },
    finqwareSubmitStep(args: { sessionId: string; nonce: string; skill: string; step: string; data: unknown }) {
      return providerCall(() => deps.finqware.submitStep(args));
    },
    httpStageCall(spec: HttpRequestSpec) {
      return providerCall(() => deps.http.call(spec));
    },
    deliverWebhook(args: { clientId: string; event: WebhookEvent }) {
      return deps.webhooks.deliver(args.clientId, args.event);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
