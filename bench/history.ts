/**
 * How the bench counts history events: each call of a session is followed (untimed) by a query,
 * answered once the workflow task in flight completed, and the history's length then; the events
 * between two calls are the second call's. test/history-events.test.ts counts the same way.
 */
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { sessionWorkflowId } from '../src/session-secret';
import { statusQuery } from '../src/contract/session';
import type { Observer } from './drivers';
import type { HistoryCount } from './report';

/** WORKFLOW_TASK_COMPLETED for EVENT_TYPE_WORKFLOW_TASK_COMPLETED. */
function eventName(type: number | null | undefined): string {
  return (proto.api.enums.v1.EventType[type ?? 0] ?? String(type)).replace(/^EVENT_TYPE_/, '');
}

/** History events each call of `run` adds to its session, with their types. */
export async function historyOf(temporal: Client, run: (observe: Observer) => Promise<unknown>): Promise<HistoryCount> {
  const lengths: Array<{ op: string; length: number }> = [];
  let workflowId = '';
  const observe: Observer = async (op, answer) => {
    if (op === 'create') workflowId = sessionWorkflowId(String(answer._id));
    const handle = temporal.workflow.getHandle(workflowId);
    // A query is answered once the workflow task in flight completed: its events count here.
    await handle.query(statusQuery);
    lengths.push({ op, length: (await handle.describe()).historyLength });
  };
  await run(observe);
  const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const perOp = lengths.map(({ op, length: to }, i) => {
    const from = i === 0 ? 0 : lengths[i - 1].length;
    const types = events.slice(from, to).map((event) => eventName(event.eventType));
    return { op, events: to - from, types };
  });
  return { perOp, perSession: lengths[lengths.length - 1].length };
}
