/**
 * What the session shows outside its history: its search attributes (the Temporal UI's list and
 * visibility queries) and, once archived, its memo. Workflow code: called from the workflow only.
 */
import { upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import {
  SessionArchivedAtKey,
  SessionOutcomeKey,
  SessionReviewKey,
  SessionStageKey,
  SessionStageSinceKey,
  SessionStatusKey,
  type SearchPosition,
} from '../../contract/session-search';
import type { ArchivedMemo } from '../../contract/session-state';
import type { ReviewSearchValue } from '../../contract/review';
import type { SessionModel } from './model';
import { statusView } from './views';

/**
 * The search attributes, in one upsert (one history event): the status, the stage, its entry
 * time and the outcome; once archived, the archive time. Once archived, also what the api answers about the session without its key (memo, as a
 * JSON string: memo strings use the namespace key, so they stay readable after shredding).
 */
export function reportPosition(session: SessionModel, position: SearchPosition): void {
  const { status } = position;
  const archivedAt = session.state.archivedAt;
  upsertSearchAttributes([
    { key: SessionStatusKey, value: status },
    { key: SessionStageKey, value: position.stage },
    { key: SessionStageSinceKey, value: position.since === null ? null : new Date(position.since) },
    { key: SessionOutcomeKey, value: position.outcome },
    ...(status === 'archived' && archivedAt !== null ? [{ key: SessionArchivedAtKey, value: new Date(archivedAt) }] : []),
  ]);
  if (status === 'archived') {
    const { snapshotId, consumed, createdAt, expiry, stepCount, outcome, endReason, deviceClientId } = statusView(session);
    const archived: ArchivedMemo = { snapshotId, consumed, createdAt, expiry, stepCount, outcome, endReason, deviceClientId };
    upsertMemo({ archived: JSON.stringify(archived) });
  }
}

/** SessionReview: pending or overdue while a review waits, unset once it is decided or the session ended. */
export function reportReview(value: ReviewSearchValue | null): void {
  upsertSearchAttributes([{ key: SessionReviewKey, value }]);
}
