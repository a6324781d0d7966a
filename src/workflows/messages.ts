/**
 * The session workflow's messages and the types on both sides of them. The api and the tests
 * import this module as well as the workflow, so it must stay free of Node built-ins.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { FlowDefinition, JsonSchema, Outcome, StageKind } from '../flows/core/types';

/** Providers whose calls run on an activity task queue of their own, rate-limited by the server. */
export const RATE_LIMITED_PROVIDERS = ['attestr', 'finqware'] as const;
export type RateLimitedProvider = (typeof RATE_LIMITED_PROVIDERS)[number];

/**
 * The activity task queue of a provider's calls, next to the session's own task queue (the
 * default `sessionflow` gives `sessionflow-attestr`; deploy/temporal-dynamic-config.yaml gives
 * those one partition). Workers poll it with that provider's rate (src/worker.ts).
 */
export function providerTaskQueue(taskQueue: string, provider: RateLimitedProvider): string {
  return `${taskQueue}-${provider}`;
}

export const SESSION_STATUSES = ['created', 'in_progress', 'consumed', 'expired', 'archived'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** Statuses as the device API (Finqware shape) names them. */
export const DEVICE_STATUS = {
  created: 'SESSION_CREATED',
  in_progress: 'SESSION_IN_PROGRESS',
  consumed: 'SESSION_COMPLETED',
  expired: 'SESSION_EXPIRED',
  archived: 'SESSION_ARCHIVED',
} as const satisfies Record<SessionStatus, string>;
export type DeviceStatus = (typeof DEVICE_STATUS)[SessionStatus];
/** The device statuses, in the order of SESSION_STATUSES (the device API's schemas list them). */
export const DEVICE_STATUSES: readonly DeviceStatus[] = SESSION_STATUSES.map((status) => DEVICE_STATUS[status]);

export const SessionStatusKey = defineSearchAttributeKey('SessionStatus', SearchAttributeType.KEYWORD);
export const SessionTagKey = defineSearchAttributeKey('SessionTag', SearchAttributeType.KEYWORD);
export const FlowIdKey = defineSearchAttributeKey('FlowId', SearchAttributeType.KEYWORD);
export const ClientIdKey = defineSearchAttributeKey('ClientId', SearchAttributeType.KEYWORD);
/** `success`, `error` or `skipped` once the flow ended; unset while live. */
export const SessionOutcomeKey = defineSearchAttributeKey('SessionOutcome', SearchAttributeType.KEYWORD);
/** The current stage id; unset once the session ended. */
export const SessionStageKey = defineSearchAttributeKey('SessionStage', SearchAttributeType.KEYWORD);
/** When the session entered its current stage (launch, for the first one); unset once it ended. */
export const SessionStageSinceKey = defineSearchAttributeKey('SessionStageSince', SearchAttributeType.DATETIME);

/** The session's human-readable number, so an archived (shredded) session still answers with it. */
export const SessionNumberKey = defineSearchAttributeKey('SessionNumber', SearchAttributeType.KEYWORD);
/** When the session was archived; set in the same upsert as its status. */
export const SessionArchivedAtKey = defineSearchAttributeKey('SessionArchivedAt', SearchAttributeType.DATETIME);
// Every search attribute a session sets is listed once, with its type: src/readiness.ts SESSION_SEARCH_ATTRIBUTES.

/** What the search attributes say about a session's position, set together in one upsert. */
export interface SearchPosition {
  status: SessionStatus;
  stage: string | null;
  /** Unix ms the stage was entered; null with the stage. */
  since: number | null;
  outcome: Outcome | null;
}

/** How long a consumed or expired session is kept before it archives itself, unless its client says otherwise: 30 days. */
export const DEFAULT_RETENTION_SECONDS = 30 * 24 * 60 * 60;

/** `{ <stageId>: { input, output } }`, in the order the stages ran. */
export type SessionResult = Record<string, { input: unknown; output: unknown }>;

/** How a provider stage failed, as recorded in the result under the stage's output.error. */
export interface StageError {
  /** The failure class, e.g. ProviderRejected, ProviderTimeout. */
  type: string;
  message: string;
  /** The provider's own error code, when it gave one. */
  code?: string;
  provider?: string;
  status?: number;
  requestId?: string;
}

/** Everything that survives continue-as-new. Plain JSON. */
export interface SessionState {
  status: SessionStatus;
  /** Current state of the flow machine; a final state once the flow ended. */
  stage: string;
  /** Counts entries into stages, so late work for an earlier visit of a stage is recognised. */
  entry: number;
  enteredAt: number;
  /**
   * What the next device submission's nonce must match; null when none is expected. A hash of
   * the nonce (`nonceHashed`), never the nonce itself; sessions started before kept the nonce.
   */
  nonce: string | null;
  nonceHashed?: boolean;
  /** Webhook events emitted so far (their ids count up), and whether the outbox was started. */
  webhookSeq?: number;
  webhookOutbox?: boolean;
  /**
   * The device the session is bound to, if any: a device client id (`dc_…`), or the hash of the
   * device key the hosted page's launch set as the browser's cookie (`key_…`).
   */
  deviceClientId?: string | null;
  /**
   * Sessions with proofs: the update id the api derived the current nonce from (it hands the
   * bound device that nonce again), and how many updates were refused for a failed proof.
   */
  nonceSource?: string | null;
  refusedProofs?: number;
  /** Data prepared for the current stage (an Attestr handshake id), handed to the device. */
  prepared: Record<string, unknown> | null;
  /** Attestr's result for the current stage, fetched and verified on a wake-up before the device asked. */
  delivered?: AttestrDelivery | null;
  /** The Attestr fetches wake-ups made for a stage entry (at most MAX_WAKE_FETCHES per entry). */
  attestrWakes?: { entry: number; fetches: number };
  result: SessionResult;
  outcome: Outcome | null;
  /** Why the session ended other than by its flow (expiry, step budget), for operators. */
  endReason: string | null;
  stepCount: number;
  launchedAt: number | null;
  endedAt: number | null;
  archivedAt: number | null;
  /**
   * The last accepted submission and its answer: an identical retry of it gets the same answer
   * (even after continue-as-new), while the same nonce with another payload is refused.
   */
  lastStep: { nonce: string; step: string; input: unknown; answer: StepAnswer } | null;
  /** Whether this session archives itself `retentionMs` after it ended (false for sessions that ended before retention existed). */
  retention?: boolean;
}

/**
 * Attestr's result for a handshake, as the fetch activity verified it at Attestr. (In histories
 * recorded before wake-ups, the api verified it and the attestrResult signal carried it.)
 */
export interface AttestrDelivery {
  handshakeId: string;
  requestId: string | null;
  result: Record<string, unknown>;
}

export interface SessionInput {
  /**
   * Sessions started before the handshake id was kept out of Temporal carry it here (their
   * workflow id is the id itself). New sessions carry `ref` and `sealedId` instead.
   */
  sessionId?: string;
  /** A SHA-256 of the session id: the workflow id is `session-<ref>`. Not reversible. */
  ref?: string;
  /** The session id sealed under SESSION_SECRET: only the api and the worker's activities open it. */
  sealedId?: string;
  number: string;
  clientId: string;
  tag: string;
  webhook: boolean;
  definition: FlowDefinition;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms; the api has checked it lies within a year of createdAt. */
  expiresAt: number;
  /** How long a consumed or expired session is kept before it archives itself (the client's retentionSeconds). */
  retentionMs?: number;
  /** Where the hosted page sends the user once the flow ended (on the client's redirectUrls, checked by the api). */
  returnUrl?: string;
  /**
   * SHA-256 (base64url) of the session's launch proof, which only the api can make; a launch
   * must carry the proof itself. Its presence makes every device update prove itself (see
   * SessionModel.provesUpdates); absent in sessions created before.
   */
  launchProofHash?: string;
  /**
   * The api's seal: an HMAC under SESSION_SECRET of the workflow id and sessionInputDigest of the
   * rest of this input. The api and the webhook activity vouch for (sign) a session's result only
   * when it holds, so a workflow started through Temporal with an input of its own gets none.
   * Absent in sessions created before.
   */
  seal?: string;
  /** Present only in a run started by continue-as-new (refused in any other run). */
  state?: SessionState;
}

/** What the device is asked for next. `step` is null once the session no longer takes steps. */
export interface StepPrompt {
  step: string | null;
  kind?: StageKind;
  title?: string;
  description?: string;
  schema?: JsonSchema;
  outcome?: Outcome;
  [prepared: string]: unknown;
}

export interface LaunchArgs {
  /** The hash of the nonce the first submission must carry; the api makes the nonce and keeps it out of history. */
  nonceHash: string;
  /** Sessions started before: the nonce itself, in recorded histories only. */
  nonce?: string;
  /** The launch proof (see SessionInput.launchProofHash); spent by the launch. */
  launchProof?: string;
  /** The update id the api derived the nonce from. */
  nonceSource?: string;
  /** The device launching it (see SessionState.deviceClientId): from then on only that device may submit steps. */
  deviceClientId?: string;
  /** When given, the session must belong to this tenant client, else it is refused as unknown. */
  clientId?: string;
}

/**
 * The device that launched a session comes back (a reload, the same browser later): it gets a
 * fresh nonce for the current stage, since the workflow keeps only the hash of the one it lost.
 */
export interface ResumeArgs {
  nonceHash: string;
  deviceClientId: string;
}

/** The workflow's answers hold the next nonce's hash (or null); the api puts the nonce itself in its place. */
export interface LaunchAnswer {
  nonce: string | null;
  status: DeviceStatus;
  step: string | null;
  data: StepPrompt;
}

export interface StepArgs {
  /** The hash of the submitted nonce (the api hashes what the device sent). */
  nonceHash: string;
  /**
   * The nonce itself: the proof a session with proofs checks against the hash it keeps (and
   * spends); sessions started before nonces were hashed compare it as it is; in recorded
   * histories from before, sometimes the only field.
   */
  nonce?: string;
  step: string;
  input: unknown;
  /** When given, the session must belong to this client and run this flow, else it is refused. */
  clientId?: string;
  flowId?: string;
  /** The device client submitting, if any; a session launched by a device client requires it. */
  deviceClientId?: string | null;
  /** The hash of the nonce the following submission must carry; the api derives that nonce. */
  nextNonceHash: string;
  /** The update id the api derived that nonce from (this step's). */
  nextNonceSource?: string;
  /** Recorded histories only. */
  nextNonce?: string;
  /**
   * How long this step may wait for a provider result that is still pending before it answers
   * pending with a fresh nonce (the api's PROVIDER_PENDING_WAIT_SECONDS); 10 s when absent.
   */
  pendingWaitSeconds?: number;
}

export interface StepAnswer {
  step_id: string;
  nonce: string | null;
  status: DeviceStatus;
  data: StepPrompt;
}

export interface ExpireArgs {
  reason: string;
}

/** The session as its workflow knows it; the api adds the session id, which the workflow never holds. */
export interface StatusView {
  number: string;
  tag: string;
  clientId: string;
  flowId: string;
  snapshotId: string | null;
  status: SessionStatus;
  consumed: boolean;
  createdAt: number;
  expiry: number;
  archived: number | null;
  stage: string | null;
  stepCount: number;
  outcome: Outcome | null;
  endReason: string | null;
  deviceClientId: string | null;
  /** The hosted page's return URL, when the create gave one (absent in archived views). */
  returnUrl?: string | null;
  /**
   * A live session with proofs: what its bound device needs to pick it up again. `nonceSource`
   * is the update id the api derives the current nonce from, null while a step runs.
   */
  pickUp?: { nonceSource: string | null; prompt: StepPrompt };
}

export interface ResultView {
  status: SessionStatus;
  outcome: Outcome | null;
  /** Null until the flow ends, and again once archived. */
  result: SessionResult | null;
  archived: number | null;
  /**
   * What the api checks before it signs the result: the digest of the session's input, as the
   * workflow computed it, and the seal that input carries (null without one). Absent in answers
   * from builds before seals and in archived views.
   */
  inputDigest?: string;
  seal?: string | null;
}

/**
 * Why an update was refused. Validators throw these before anything is written to history,
 * so a refused request leaves no trace (failed proofs aside, see MAX_REFUSED_PROOFS); the api
 * maps each to its HTTP error.
 */
export const REFUSALS = {
  WRONG_STATUS: 'SessionWrongStatus',
  INVALID_NONCE: 'SessionInvalidNonce',
  WRONG_STEP: 'SessionWrongStep',
  INVALID_INPUT: 'SessionInvalidInput',
  BUSY: 'SessionBusy',
  /** The session belongs to another client: answered like an unknown session. */
  WRONG_CLIENT: 'SessionWrongClient',
  WRONG_FLOW: 'SessionWrongFlow',
  /**
   * A launch or resume without the proof the session keeps the hash of (a step's is
   * INVALID_NONCE). Such refusals are recorded in history, up to MAX_REFUSED_PROOFS a session.
   */
  INVALID_PROOF: 'SessionInvalidProof',
} as const;
export type RefusalType = (typeof REFUSALS)[keyof typeof REFUSALS];

/**
 * How many updates with a failed proof a session records (each as a refused update in its
 * history, and in a metric); beyond that it refuses them in the validator, without a trace, so
 * a storm of forged updates cannot grow its history.
 */
export const MAX_REFUSED_PROOFS = 10;

export const launchUpdate = defineUpdate<LaunchAnswer, [LaunchArgs]>('launch');
export const resumeUpdate = defineUpdate<LaunchAnswer, [ResumeArgs]>('resume');
export const submitStepUpdate = defineUpdate<StepAnswer, [StepArgs]>('submitStep');
export const archiveUpdate = defineUpdate<StatusView, []>('archive');
/** Ends a live session early (a device ended its sessions); the status becomes expired. */
export const expireUpdate = defineUpdate<StatusView, [ExpireArgs]>('expire');
/**
 * A wake-up: Attestr may have a result for the handshake the session waits on. Whatever the
 * signal carries is ignored; the session fetches the result from Attestr and checks its
 * signature (histories recorded before took an AttestrDelivery from it, see session.ts).
 */
export const attestrResultSignal = defineSignal<[unknown?]>('attestrResult');
export const statusQuery = defineQuery<StatusView>('status');
export const resultQuery = defineQuery<ResultView>('result');
/**
 * The session's status, and whether `nonceHash` is the hash of its current nonce (the device's
 * credential for its next step), for the device's long-poll. The api hashes what the device sent
 * and the workflow compares hashes: no nonce enters history, and none is handed out by a read.
 */
export const progressQuery = defineQuery<{ status: StatusView; nonceCurrent: boolean }, [{ nonceHash: string | null }]>('progress');
/** Status and result read at the same moment, for the api's session view. */
export const viewQuery = defineQuery<{ status: StatusView; result: ResultView }>('view');

/** The workflow id of a session, from its ref (the api computes the ref from the session id). */
export function sessionWorkflowIdOfRef(ref: string): string {
  return `session-${ref}`;
}

/**
 * Kept in the workflow's memo (encoded with the namespace key, so readable after shredding):
 * the number, the request hash, and the sealed session id the api opens when it finds
 * sessions by listing them.
 */
export interface SessionMemo {
  number: string;
  /** SHA-256 of the create request, for Idempotency-Key checks; absent without a key. */
  requestHash?: string;
  sealedId?: string;
  /**
   * Set when the session is archived: an ArchivedMemo as JSON, what the api answers about it
   * once its key is destroyed. A string, because memo strings are encoded with the namespace key.
   */
  archived?: string;
}

/** The parts of an archived session's StatusView that no search attribute holds. Identifiers only. */
export type ArchivedMemo = Pick<StatusView, 'snapshotId' | 'consumed' | 'createdAt' | 'expiry' | 'stepCount' | 'outcome' | 'endReason' | 'deviceClientId'>;

// The device client (Clerk shape): one workflow per device credential, listing the sessions it
// launched, until it is revoked or its refresh window ends.

export interface DeviceClientInput {
  deviceClientId: string;
  /** The tenant app whose device this is (its redirect allow-list applies). */
  tenantId: string;
  createdAt: number;
  /** Unix ms after which the credential can no longer be refreshed; the workflow ends then. */
  refreshUntil: number;
  /**
   * Unix ms by which the client must have launched a session, else it ends (revoked) then, so an
   * anonymous POST /v1/client keeps no workflow for the whole refresh window. Absent in clients
   * created before it existed, which wait for refreshUntil only.
   */
  launchBy?: number;
}

export interface DeviceClientView {
  deviceClientId: string;
  tenantId: string;
  createdAt: number;
  refreshUntil: number;
  sessionIds: string[];
  revokedAt: number | null;
}

/** How many sessions one device client may launch. */
export const MAX_DEVICE_SESSIONS = 100;

/** `sessionId` is sealed (see SessionInput.sealedId): the device client's history never holds a handshake id. */
export const bindSessionUpdate = defineUpdate<DeviceClientView, [{ sessionId: string }]>('bindSession');
export const revokeDeviceClientUpdate = defineUpdate<DeviceClientView, []>('revoke');
export const deviceClientQuery = defineQuery<DeviceClientView>('deviceClient');

export function deviceClientWorkflowId(deviceClientId: string): string {
  return `device-client-${deviceClientId}`;
}

// Webhooks out: each session with `webhook: true` feeds its events, in order, to one outbox
// workflow that delivers them one after another.

export const WEBHOOK_EVENT_TYPES = [
  'session.created',
  'session.in_progress',
  'session.step_completed',
  'session.consumed',
  'session.expired',
  'session.archived',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEvent {
  /**
   * `<ref>.<sequence>`, unique per session; the delivery turns it into the Standard Webhooks
   * `webhook-id` `<sessionId>.<sequence>` (events from before: already `<sessionId>.<sequence>`).
   */
  id: string;
  /** The sequence number; absent in events from before. */
  seq?: number;
  type: WebhookEventType;
  /** Unix ms. */
  occurredAt: number;
  /** Identifiers and status only; the delivery adds `sessionId` first, opened from the sealed id. */
  data: Record<string, unknown> & { result?: unknown };
}

export interface WebhookOutboxInput {
  /** Outboxes from before: the session id itself. */
  sessionId?: string;
  /** The session id sealed: only the delivery activity opens it. */
  sealedSessionId?: string;
  clientId: string;
  /** Carried over by continue-as-new. */
  queue?: WebhookEvent[];
  closed?: boolean;
  gone?: boolean;
}

export const webhookEventSignal = defineSignal<[WebhookEvent]>('webhookEvent');
/** No more events will come: the outbox ends once its queue is empty. */
export const closeOutboxSignal = defineSignal('closeOutbox');

/**
 * Sent by a deploy to the sessions still on an earlier build (scripts/deploy.ts wake): it does
 * nothing but give an idle session a workflow task, in which it sees that its build is no longer
 * the target and moves to the current one (see sessionWorkflow).
 */
export const deploymentWakeSignal = defineSignal('deploymentWake');

/** `ref` is the session's ref (for sessions from before, its id). */
export function webhookOutboxWorkflowId(ref: string): string {
  return `webhooks-${ref}`;
}

// Shredding: once an archived session's workflow has closed, a small workflow (its payloads
// under the namespace key) destroys the session's data key.

export interface ShredInput {
  /** The session's workflow id: its key is destroyed once that workflow has closed. */
  sessionWorkflowId: string;
}

export function shredWorkflowId(ref: string): string {
  return `shred-${ref}`;
}

/** A backend event for a session waiting in a `wait` stage. */
export interface BackendEventArgs {
  eventId: string;
  type: string;
  data: Record<string, unknown>;
  /**
   * The api's proof that the event came through it to this session (SessionSecret.eventProof),
   * checked by the worker before the session takes it. Absent in recorded histories only.
   */
  proof?: string;
}

export const deliverEventUpdate = defineUpdate<StatusView, [BackendEventArgs]>('deliverEvent');

/**
 * Why a session refused a message without reading it: its payload arrived unencrypted in a
 * session started with encryption, or could not be decrypted (the worker's codec never throws
 * on it, see src/keys/codec.ts); or a backend event's proof did not verify.
 */
export type InboundRefusalReason = 'unencrypted' | 'undecryptable' | 'unproven';

/** A refusal as the session records it (a local activity's marker) and the worker counts it. */
export interface InboundRefusal {
  /** The signal or update name. */
  message: string;
  reason: InboundRefusalReason;
}

/** The failure type of an update a session refused unread. */
export const INBOUND_REFUSED = 'InboundRefused';

const REFUSED_BECAUSE: Record<InboundRefusalReason, string> = {
  unencrypted: 'its payload was not encrypted, and the session was started with encryption',
  undecryptable: 'its payload could not be decrypted',
  unproven: 'it carries no valid proof that it came through the api',
};

/** The failure an update refused unread ends with (after its refusal was recorded). */
export function inboundRefusedFailure(refusal: InboundRefusal): ApplicationFailure {
  return ApplicationFailure.create({ type: INBOUND_REFUSED, message: `${refusal.message} refused: ${REFUSED_BECAUSE[refusal.reason]}`, nonRetryable: true, details: [refusal] });
}
