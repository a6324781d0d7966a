/**
 * Reading sessions: the live view by query, the archived view from what stays readable once a
 * session's key is destroyed (search attributes and the memo, under the namespace key), and
 * lists and counts from visibility (session-visibility.ts builds the queries).
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { progressQuery, SESSION_STATUSES, viewQuery, type ResultView, type SessionStatus } from '../contract/session';
import { ClientIdKey, FlowIdKey, SessionArchivedAtKey, SessionNumberKey, SessionStatusKey, SessionTagKey } from '../contract/session-search';
import type { ArchivedMemo, SessionMemo } from '../contract/session-state';
import type { SessionSecret } from '../session-secret';
import { sessionIdOfLegacyWorkflowId } from './legacy-sessions';
import { sessionFailure } from './session-errors';
import { onSession, type StatusView } from './session-handles';
import { statusCountQuery, taggedSessionsQuery } from './session-visibility';

/** The answer for an archived session: its status, and a result that is no more. */
function archivedAnswer(archived: StatusView): { status: StatusView; result: ResultView } {
  return { status: archived, result: { status: 'archived', outcome: archived.outcome, result: null, archived: archived.archived } };
}

export class SessionReads {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly secret: SessionSecret,
  ) {}

  /** The session's status and result: an archived session from search attributes and memo, others by query. */
  async view(sessionId: string): Promise<{ status: StatusView; result: ResultView }> {
    try {
      return await onSession(this.client, sessionId, async (handle) => {
        const archived = await this.archivedView(handle, sessionId);
        if (archived) return archivedAnswer(archived);
        try {
          const view = await handle.query(viewQuery);
          return { status: { ...view.status, sessionId }, result: view.result };
        } catch (err) {
          // Archived, closed and shredded between the describe and the query: answer it as archived.
          const since = err instanceof WorkflowNotFoundError ? null : await this.archivedView(handle, sessionId);
          if (since) return archivedAnswer(since);
          throw err;
        }
      });
    } catch (err) {
      return sessionFailure(err);
    }
  }

  /**
   * The status, and whether `nonce` is the session's current one (see progressQuery): the
   * workflow gets only the nonce's hash and compares it with the hash it keeps. An archived
   * session, whose key may be destroyed, answers from search attributes and memo, with no
   * current nonce.
   */
  async progress(sessionId: string, nonceHash: string | null): Promise<{ status: StatusView; nonceCurrent: boolean }> {
    try {
      return await onSession(this.client, sessionId, async (handle) => {
        try {
          const answer = await handle.query(progressQuery, { nonceHash });
          return { status: { ...answer.status, sessionId }, nonceCurrent: answer.nonceCurrent };
        } catch (err) {
          const archived = err instanceof WorkflowNotFoundError ? null : await this.archivedView(handle, sessionId);
          if (archived) return { status: archived, nonceCurrent: false };
          throw err;
        }
      });
    } catch (err) {
      return sessionFailure(err);
    }
  }

  /**
   * Ids of a tenant's sessions with this tag in these statuses (from visibility: a moment
   * behind), opened from the sealed id in each one's memo (sessions from before: the workflow id).
   */
  async findSessions(tenantId: string, tag: string, statuses: SessionStatus[]): Promise<string[]> {
    const ids: string[] = [];
    for await (const execution of this.client.workflow.list({ query: taggedSessionsQuery(tenantId, tag, statuses), pageSize: 100 })) {
      const sealed = (execution.memo as Partial<SessionMemo> | undefined)?.sealedId;
      ids.push(sealed ? this.secret.open(sealed) : sessionIdOfLegacyWorkflowId(execution.workflowId));
      if (ids.length >= 100) break;
    }
    return ids;
  }

  /**
   * How many sessions of this task queue are in each status, from visibility (a moment behind).
   * A session that continued-as-new counts once: its earlier runs are left out. Visibility
   * cannot group by a custom search attribute, hence one count per status.
   */
  async countByStatus(): Promise<Record<SessionStatus, number>> {
    const counts = await Promise.all(
      SESSION_STATUSES.map(async (status) => [status, (await this.client.workflow.count(statusCountQuery(this.taskQueue, status))).count] as const),
    );
    return Object.fromEntries(counts) as Record<SessionStatus, number>;
  }

  /**
   * An archived session answered from what stays readable after its key is destroyed: search
   * attributes and the memo (namespace key). Null when the session is not archived, or was
   * archived before shredding existed (its workflow still answers queries).
   */
  private async archivedView(handle: WorkflowHandle, sessionId: string): Promise<StatusView | null> {
    const description = await handle.describe();
    const attributes = description.typedSearchAttributes;
    const memo = description.memo as Partial<SessionMemo> | undefined;
    if (description.status.name === 'RUNNING' || attributes.get(SessionStatusKey) !== 'archived' || typeof memo?.archived !== 'string') return null;
    return {
      ...(JSON.parse(memo.archived) as ArchivedMemo),
      sessionId,
      number: attributes.get(SessionNumberKey) ?? String(memo.number),
      tag: attributes.get(SessionTagKey) ?? '',
      clientId: attributes.get(ClientIdKey) ?? '',
      flowId: attributes.get(FlowIdKey) ?? '',
      status: 'archived',
      archived: attributes.get(SessionArchivedAtKey)?.getTime() ?? null,
      stage: null,
    };
  }
}
