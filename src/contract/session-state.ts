/**
 * What a session workflow carries and keeps: its input (the same type carries its state across
 * continue-as-new), the state itself, and its memo. All of it is persisted in histories: a field
 * is renamed or dropped only with a migration the replay gate proves.
 *
 * Legacy fields are grouped at the end of each type, with the condition under which they can go.
 */
import { sha256 } from '@noble/hashes/sha2';
import { base64urlnopad } from '@scure/base';
import type { FlowDefinition, Outcome } from '../flows/core/types';
import { canonicalJson } from '../util/json';
import type { HandoffState } from './handoff';
import type { ReviewDecided } from './review';
import type { SessionResult, SessionStatus, StatusView, StepAnswer, StepEvent } from './session';

/** How long a consumed or expired session is kept before it archives itself, unless its client says otherwise: 30 days. */
export const DEFAULT_RETENTION_SECONDS = 30 * 24 * 60 * 60;

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
   * the nonce (`nonceHashed`), never the nonce itself (see the legacy fields below).
   */
  nonce: string | null;
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
  lastStep: { nonce: string; step: string; input: unknown; event?: StepEvent; answer: StepAnswer } | null;
  /**
   * The provider error the flow routed back to the current stage (INPUT_ERROR): the entry it
   * is for (so it goes with that visit), the provider stage, its code and the field it marks.
   * Absent in sessions from before error routing.
   */
  inputError?: { entry: number; from: string; code: string; field: string } | null;
  /**
   * The review stage the session waits in (its entry), when it is due (Unix ms, null without an
   * SLA), whether it is overdue, and its decision once taken: `decided` is set before any await,
   * so one decision wins. Absent outside review stages and in sessions from before them.
   */
  review?: { stage: string; entry: number; dueAt: number | null; overdue: boolean; decided: ReviewDecided | null } | null;
  /**
   * The stages the session passed through, for the funnel (src/contract/funnel.ts): each stage
   * entered (final states aside), when, and the device steps counted before it. No data. Absent
   * in a run continued from a build before the funnel: such a session reports its last stage only.
   */
  journey?: Array<{ stage: string; at: number; steps: number }>;
  /** Set once the session's end was written to the funnel: a later run never writes it again. */
  funnelWritten?: boolean;
  /** The session's open (or last) handoff to another device: the token's hash, never the token. Absent until one is offered. */
  handoff?: HandoffState | null;

  // Legacy, kept while such sessions may be open: `nonceHashed` false or absent means `nonce` is
  // the nonce itself (sessions started before nonces were hashed); `retention` false means the
  // session ended before retention existed and never archives itself. Both can go once no
  // session started before those changes is open (docs/guides/operating.md, "Legacy sessions").
  nonceHashed?: boolean;
  /** Whether this session archives itself `retentionMs` after it ended (false for sessions that ended before retention existed). */
  retention?: boolean;
}

/**
 * Attestr's result for a handshake, as the fetch activity verified it at Attestr.
 */
export interface AttestrDelivery {
  handshakeId: string;
  requestId: string | null;
  result: Record<string, unknown>;
}

export interface SessionInput {
  /** A SHA-256 of the session id: the workflow id is `session-<ref>` (workflow-ids.ts). Not reversible. */
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

  // Legacy: can go with the legacy workflow id (docs/guides/operating.md, "Legacy sessions").
  /**
   * Sessions started before the handshake id was kept out of Temporal carry it here (their
   * workflow id is the id itself). New sessions carry `ref` and `sealedId` instead.
   */
  sessionId?: string;
}

/**
 * Kept in the workflow's memo (encoded with the namespace key, so readable after shredding):
 * the number, the request hash, and the sealed session id the api opens when it finds
 * sessions by listing them. Memo keys are persisted: they do not change.
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

/**
 * What the api's seal on a session covers (src/session-secret.ts inputSeal): the session's input
 * as the api created it, i.e. without the seal itself and the state a continued run carries.
 * Computed the same way by the api (on the input as JSON) and by the workflow (on its decoded
 * input, with SHA-256 from @noble/hashes: no node:crypto there), so the workflow can report it
 * and the api check the seal without reading history.
 */
export function sessionInputDigest(input: object): string {
  const created: Record<string, unknown> = { ...input };
  delete created.seal;
  delete created.state;
  return base64urlnopad.encode(sha256(canonicalJson(created)));
}
