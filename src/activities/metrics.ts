/**
 * The worker's own metrics. They are recorded on the Temporal SDK's MetricMeter, so the one
 * Prometheus endpoint the SDK runtime serves (see installRuntime in src/worker/runtime.ts) exports them
 * next to Temporal's own worker metrics. Labels stay few and bounded: never a session id, tag or
 * anything a person typed.
 */
import { noopMetricMeter, type ApplicationFailure, type MetricCounter, type MetricHistogram, type MetricMeter, type RetryPolicy } from '@temporalio/common';

/** Metric names before the exporter adds the unit (`_seconds`) and `_total` suffixes. */
export const WORKER_METRICS = {
  providerCallDuration: 'sessionflow_provider_call_duration',
  providerRetries: 'sessionflow_provider_retries',
  providerResultsRefused: 'sessionflow_provider_results_refused',
  inboundRefused: 'sessionflow_inbound_refused',
  webhookDeliveries: 'sessionflow_webhook_deliveries',
  stageExits: 'sessionflow_stage_exits',
  stageDuration: 'sessionflow_stage_duration',
} as const;

/** Labels of a stage's exit: `outcome` is `went_on`, or how the session ended there (a StageEnding). */
export interface StageExitLabels {
  tenant: string;
  flow: string;
  version: string;
  stage: string;
  stage_kind: string;
  outcome: string;
}

/** What becomes of one webhook delivery attempt. */
export type WebhookDeliveryOutcome = 'delivered' | 'no_endpoint' | 'unreachable' | 'refused' | 'gone' | 'error';

/**
 * Whether Temporal runs another attempt after an activity attempt failed with `failure`: the
 * same rules the server applies (non-retryable flag or type, attempts left), read from the retry
 * policy the activity was scheduled with.
 */
export function willRetry(failure: ApplicationFailure, attempt: number, policy: RetryPolicy | undefined): boolean {
  if (failure.nonRetryable) return false;
  if (failure.type && policy?.nonRetryableErrorTypes?.includes(failure.type)) return false;
  const maximumAttempts = policy?.maximumAttempts ?? 0;
  return maximumAttempts === 0 || attempt < maximumAttempts;
}

/** Codes of the network layer (Node's and undici's), the same for every provider. */
const TRANSPORT_CODE = /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/;
/** The vendors' documented codes: Attestr's numbers (4291), Finqware's snake_case names. */
const VENDOR_CODE = /^([0-9]{1,6}|[a-z][a-z_]{0,39})$/;

/**
 * A provider error code as a label value: a transport code (ECONNRESET), a vendor's own code
 * (4291), else the HTTP status, else "none". A generic `http` stage endpoint can answer any
 * code, ids or names included, so for it only transport codes and the status are labels;
 * anything else that does not look like a code becomes "other".
 */
export function codeLabel(provider: string, details: { code?: string; status?: number } | undefined): string {
  const code = details?.code;
  if (code !== undefined && TRANSPORT_CODE.test(code)) return code;
  if (code !== undefined && provider !== 'http' && VENDOR_CODE.test(code)) return code;
  if (details?.status !== undefined) return String(details.status);
  return code === undefined ? 'none' : 'other';
}

export class WorkerMetrics {
  private readonly providerCalls: MetricHistogram;
  private readonly providerRetries: MetricCounter;
  private readonly providerResultsRefused: MetricCounter;
  private readonly inboundRefused: MetricCounter;
  private readonly webhookDeliveries: MetricCounter;
  private readonly stageExits: MetricCounter;
  private readonly stageDuration: MetricHistogram;

  /** Records on `meter`: the runtime's, which exports them when a Prometheus port is set. */
  constructor(meter: MetricMeter = noopMetricMeter) {
    this.providerCalls = meter.createHistogram(WORKER_METRICS.providerCallDuration, 'float', 'seconds', 'Provider call attempts, by provider, activity and outcome (ok or the failure type)');
    this.providerRetries = meter.createCounter(WORKER_METRICS.providerRetries, undefined, 'Provider call attempts that failed and that Temporal retries, by provider, failure type and error code');
    this.providerResultsRefused = meter.createCounter(
      WORKER_METRICS.providerResultsRefused,
      undefined,
      'Provider results refused at their source check (a signature that does not verify, the answer of another handshake), by provider and reason',
    );
    this.inboundRefused = meter.createCounter(WORKER_METRICS.inboundRefused, undefined, 'Messages a session refused before reading them (a payload not encrypted, or not decryptable; an event without a valid proof), by message and reason');
    this.webhookDeliveries = meter.createCounter(WORKER_METRICS.webhookDeliveries, undefined, 'Webhook delivery attempts, by outcome');
    this.stageExits = meter.createCounter(
      WORKER_METRICS.stageExits,
      undefined,
      'Stage visits of ended sessions, counted once when the session end is written to the funnel: by tenant, flow, version, stage, stage kind and outcome (went_on, or how the session ended there)',
    );
    this.stageDuration = meter.createHistogram(WORKER_METRICS.stageDuration, 'float', 'seconds', 'Time in stage per visit of ended sessions (visits with a device), with the labels of sessionflow_stage_exits');
  }

  providerCall(labels: { provider: string; activity: string; outcome: string }, seconds: number): void {
    this.providerCalls.record(seconds, labels);
  }

  providerRetry(labels: { provider: string; type: string; code: string }): void {
    this.providerRetries.add(1, labels);
  }

  providerResultRefused(labels: { provider: string; reason: string }): void {
    this.providerResultsRefused.add(1, labels);
  }

  inboundRefusal(labels: { message: string; reason: string }): void {
    this.inboundRefused.add(1, labels);
  }

  webhookDelivery(outcome: WebhookDeliveryOutcome): void {
    this.webhookDeliveries.add(1, { outcome });
  }

  /** One stage visit of an ended session; `seconds` null when no device was there. */
  stageExit(labels: StageExitLabels, seconds: number | null): void {
    this.stageExits.add(1, { ...labels });
    if (seconds !== null) this.stageDuration.record(seconds, { ...labels });
  }
}
