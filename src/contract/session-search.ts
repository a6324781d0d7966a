/**
 * The session workflow's search attributes: what operators and the api's visibility queries
 * find sessions by. Their names and types are persisted in the namespace: they do not change.
 * Every one is also listed once, with its type, in src/readiness.ts SESSION_SEARCH_ATTRIBUTES.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Outcome } from '../flows/core/types';
import type { SessionStatus } from './session';

export const SessionStatusKey = defineSearchAttributeKey('SessionStatus', SearchAttributeType.KEYWORD);
export const SessionTagKey = defineSearchAttributeKey('SessionTag', SearchAttributeType.KEYWORD);
export const FlowIdKey = defineSearchAttributeKey('FlowId', SearchAttributeType.KEYWORD);
/**
 * The version of the flow a session runs: its snapshot id, or `draft`. Set once, in the start
 * request (no history event of its own); sessions started before it was added lack it.
 */
export const FlowVersionKey = defineSearchAttributeKey('FlowVersion', SearchAttributeType.KEYWORD);
/** The tenant's id (its wire name is `client_id`). */
export const ClientIdKey = defineSearchAttributeKey('ClientId', SearchAttributeType.KEYWORD);
/** `success`, `error` or `skipped` once the flow ended; unset while live. */
export const SessionOutcomeKey = defineSearchAttributeKey('SessionOutcome', SearchAttributeType.KEYWORD);
/** The current stage id; unset once the session ended. */
export const SessionStageKey = defineSearchAttributeKey('SessionStage', SearchAttributeType.KEYWORD);
/** When the session entered its current stage (launch, for the first one); unset once it ended. */
export const SessionStageSinceKey = defineSearchAttributeKey('SessionStageSince', SearchAttributeType.DATETIME);

/**
 * `pending` while the session waits in a review stage, `overdue` once its SLA passed; unset
 * otherwise. Operators find overdue reviews with `SessionReview = 'overdue'`.
 */
export const SessionReviewKey = defineSearchAttributeKey('SessionReview', SearchAttributeType.KEYWORD);

/** The session's human-readable number, so an archived (shredded) session still answers with it. */
export const SessionNumberKey = defineSearchAttributeKey('SessionNumber', SearchAttributeType.KEYWORD);
/** When the session was archived; set in the same upsert as its status. */
export const SessionArchivedAtKey = defineSearchAttributeKey('SessionArchivedAt', SearchAttributeType.DATETIME);

/** What the search attributes say about a session's position, set together in one upsert. */
export interface SearchPosition {
  status: SessionStatus;
  stage: string | null;
  /** Unix ms the stage was entered; null with the stage. */
  since: number | null;
  outcome: Outcome | null;
}

/** FlowVersion's value for a session of the draft. */
export const DRAFT_FLOW_VERSION = 'draft';

/** The FlowVersion of a session running `snapshotId` (null: the draft). */
export function flowVersionOf(snapshotId: string | null): string {
  return snapshotId ?? DRAFT_FLOW_VERSION;
}
