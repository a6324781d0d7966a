/**
 * The session workflow's contract: its messages (updates, signals, queries), their arguments and
 * answers, and the refusals the api maps to HTTP errors. The api and the tests import this module
 * as well as the workflow, so it must stay workflow-safe (no Node built-ins). What a session
 * carries and keeps is in session-state.ts, its search attributes in session-search.ts, its
 * workflow id in workflow-ids.ts. Message names and argument fields are persisted in histories:
 * they change only with a migration the replay gate proves.
 *
 * Legacy fields are grouped at the end of each type, with the condition under which they can go
 * ("recorded histories": those in test/histories/ from before the change, which replay on every build).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { FieldMeta, JsonSchema, Outcome, StageKind } from '../flows/core/types';
import type { SchemaProblem } from '../flows/core/schema';

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

/** What the device is asked for next. `step` is null once the session no longer takes steps. */
export interface StepPrompt {
  step: string | null;
  kind?: StageKind;
  title?: string;
  description?: string;
  schema?: JsonSchema;
  /** The stage's UI hints and messages per property (meta.fields), when its flow gives them. */
  fields?: Record<string, FieldMeta>;
  outcome?: Outcome;
  /** Internal to the api, which words the answer from them and removes them (src/api/localize.ts). */
  providerErrors?: Record<string, string>;
  translations?: Record<string, Record<string, string>>;
  /** The stage takes BACK: the device may go back to the input stage before it. */
  back?: true;
  /**
   * The provider refused the input this form sent last (the flow routed its code back here):
   * the field it marks and the flow's words for it, with their translations. Internal to the
   * api, which answers it as `fieldErrors` in the answer's language (src/api/localize.ts).
   */
  inputError?: InputErrorPrompt;
  [prepared: string]: unknown;
}

export interface InputErrorPrompt {
  field: string;
  /** The provider's code. */
  code: string;
  /** The flow's message for the code (its English), and by language its translations. */
  text: string;
  translations?: Record<string, string>;
}

/** The events a device step may carry: SUBMIT its data (the default), or BACK to the input stage before. */
export const STEP_EVENTS = ['SUBMIT', 'BACK'] as const;
export type StepEvent = (typeof STEP_EVENTS)[number];

export interface LaunchArgs {
  /** The hash of the nonce the first submission must carry; the api makes the nonce and keeps it out of history. */
  nonceHash: string;
  /** The launch proof (see SessionInput.launchProofHash); spent by the launch. */
  launchProof?: string;
  /** The update id the api derived the nonce from. */
  nonceSource?: string;
  /** The device launching it (see SessionState.deviceClientId): from then on only that device may submit steps. */
  deviceClientId?: string;
  /** When given, the session must belong to this tenant, else it is refused as unknown. Persisted name: `clientId`. */
  clientId?: string;

  // Legacy: can go once the recorded histories from before nonces were hashed are retired.
  /** Sessions started before: the nonce itself, in recorded histories only. */
  nonce?: string;
}

/**
 * The device that launched a session comes back (a reload, the same browser later): it gets a
 * fresh nonce for the current stage, since the workflow keeps only the hash of the one it lost.
 * Legacy: only sessions created before launch proofs take it (those with proofs refuse it); the
 * update can go once no such session is open (docs/guides/operating.md, "Legacy sessions").
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
  /** BACK goes back to the input stage before (its input is `{}`); absent for a SUBMIT, as in every step from before BACK. */
  event?: StepEvent;
  /** When given, the session must belong to this tenant and run this flow, else it is refused. Persisted names. */
  clientId?: string;
  flowId?: string;
  /** The device client submitting, if any; a session launched by a device client requires it. */
  deviceClientId?: string | null;
  /** The hash of the nonce the following submission must carry; the api derives that nonce. */
  nextNonceHash: string;
  /** The update id the api derived that nonce from (this step's). */
  nextNonceSource?: string;
  /**
   * How long this step may wait for a provider result that is still pending before it answers
   * pending with a fresh nonce (the api's PROVIDER_PENDING_WAIT_SECONDS); 10 s when absent.
   */
  pendingWaitSeconds?: number;

  // Legacy: can go once the recorded histories from before nonces were hashed are retired.
  /** Recorded histories only. */
  nextNonce?: string;
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
  /** The device a handoff moved the session away from: it may follow the session to its end, and nothing more. */
  handedOffFrom?: string | null;
}

/** `{ <stageId>: { input, output } }`, in the order the stages ran. */
export type SessionResult = Record<string, { input: unknown; output: unknown }>;

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
  /** The session belongs to another tenant: answered like an unknown session. */
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
 * The details of an INVALID_INPUT refusal of a step's data: every problem, as codes, and the
 * stage's schema and fields, from which the api words them (the workflow holds no language).
 */
export interface InputProblems {
  problems: SchemaProblem[];
  schema: JsonSchema;
  fields?: Record<string, FieldMeta>;
  /** The stage's translations, for the api to word the problems in the language it answers in. */
  translations?: Record<string, Record<string, string>>;
}

/**
 * How many updates with a failed proof a session records (each as a refused update in its
 * history, and in a metric); beyond that it refuses them in the validator, without a trace, so
 * a storm of forged updates cannot grow its history.
 */
export const MAX_REFUSED_PROOFS = 10;

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

export const launchUpdate = defineUpdate<LaunchAnswer, [LaunchArgs]>('launch');
/** Legacy, see ResumeArgs. */
export const resumeUpdate = defineUpdate<LaunchAnswer, [ResumeArgs]>('resume');
export const submitStepUpdate = defineUpdate<StepAnswer, [StepArgs]>('submitStep');
export const archiveUpdate = defineUpdate<StatusView, []>('archive');
/** Ends a live session early (a device ended its sessions); the status becomes expired. */
export const expireUpdate = defineUpdate<StatusView, [ExpireArgs]>('expire');
export const deliverEventUpdate = defineUpdate<StatusView, [BackendEventArgs]>('deliverEvent');
/**
 * A wake-up: Attestr may have a result for the handshake the session waits on. Whatever the
 * signal carries is ignored; the session fetches the result from Attestr and checks its
 * signature (sessions of SESSION_REPLAY_EPOCH 1 that started before this took an AttestrDelivery
 * from it, on their own build).
 */
export const attestrResultSignal = defineSignal<[unknown?]>('attestrResult');
/**
 * Sent by a deploy to the sessions still on an earlier build (scripts/deploy.ts wake): it does
 * nothing but give an idle session a workflow task, in which it sees that its build is no longer
 * the target and moves to the current one (see sessionWorkflow).
 */
export const deploymentWakeSignal = defineSignal('deploymentWake');
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
