/**
 * Temporal Cloud's billable actions in a workflow history, by the rules of
 * https://docs.temporal.io/cloud/actions: a workflow start, a timer started, a search-attribute
 * upsert, a signal, an accepted update, an activity attempt, and all local activities of one
 * workflow task together, are one action each. Version markers (`patched()`) are none. Queries,
 * rejected updates and activity heartbeats are actions too but leave no event, so a history
 * cannot show them: the caller adds what it knows of those.
 */
export interface HistoryEventLike {
  eventType: string;
  /** MARKER_RECORDED's marker name (`core_local_activity`, `core_patch`). */
  markerName?: string;
  /** ACTIVITY_TASK_STARTED's attempt: a retried activity is one action per attempt. */
  attempt?: number;
}

const ONE_ACTION = new Set([
  'WORKFLOW_EXECUTION_STARTED',
  'TIMER_STARTED',
  'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
  'WORKFLOW_EXECUTION_SIGNALED',
  'WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
]);

export function cloudActions(events: readonly HistoryEventLike[]): number {
  let actions = 0;
  // Local activities are counted once per workflow task that records any.
  let localActivityInThisTask = false;
  for (const event of events) {
    if (event.eventType === 'WORKFLOW_TASK_COMPLETED') localActivityInThisTask = false;
    if (ONE_ACTION.has(event.eventType)) actions += 1;
    else if (event.eventType === 'ACTIVITY_TASK_STARTED') actions += Math.max(1, event.attempt ?? 1);
    else if (event.eventType === 'MARKER_RECORDED' && event.markerName === 'core_local_activity' && !localActivityInThisTask) {
      localActivityInThisTask = true;
      actions += 1;
    }
  }
  return actions;
}
