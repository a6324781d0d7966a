/**
 * History events per call of a whole bench session (issue 31's targets: at most 6 per input step,
 * at most 44 per whole session), counted from the real history the way `make bench` counts them
 * (bench/history.ts): the bench's own driver (bench/drivers.ts) through the api, with the bench
 * flow, on a real worker and dev server. The numbers are exact, so an event added to any call
 * fails here; a change that means to add one updates them and the bench guide's table.
 */
import { join } from 'node:path';
import { FlowCatalog } from '../src/flows/catalog';
import { HttpJson, sessionflowSession } from '../bench/drivers';
import { historyOf } from '../bench/history';
import { Recorder } from '../bench/stats';
import { TENANT_A } from './helpers/api';
import { useStack } from './helpers/use-stack';

const { stack, api } = useStack('history-events', { api: { catalog: () => FlowCatalog.load(join(__dirname, '..', 'bench', 'flows')) } });

/** A workflow task: scheduled, started, completed. */
const TASK = ['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED'];
/** An activity run once, to completion. */
const ACTIVITY = ['ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED'];

test('a whole bench session: 44 events, an input step 6, and no patch marker anywhere', async () => {
  const http = new HttpJson(api.url);
  try {
    const history = await historyOf(stack.client, (observe) => sessionflowSession(http, TENANT_A.id, TENANT_A.secret, observe)(new Recorder(), 'REF-history-events'));
    const perOp = Object.fromEntries(history.perOp.map(({ op, types }) => [op, types]));
    expect(Object.keys(perOp)).toEqual(['create', 'launch', 'input step', 'provider step', 'final step', 'result']);
    // The start, its first task, the expiry timer.
    expect(perOp.create).toEqual(['WORKFLOW_EXECUTION_STARTED', ...TASK, 'TIMER_STARTED']);
    // The status becomes in_progress: one upsert.
    expect(perOp.launch).toEqual([...TASK, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'WORKFLOW_EXECUTION_UPDATE_COMPLETED']);
    // The stage moves: one upsert (SessionStage and SessionStageSince).
    expect(perOp['input step']).toEqual([...TASK, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'WORKFLOW_EXECUTION_UPDATE_COMPLETED']);
    // Finqware's two calls, each an activity and the task that takes its answer; then the stage move's upsert.
    expect(perOp['provider step']).toEqual([...TASK, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED', ...ACTIVITY, ...TASK, ...ACTIVITY, ...TASK, 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 'WORKFLOW_EXECUTION_UPDATE_COMPLETED']);
    // Consumed: one upsert (status, stage, outcome), the retention timer starts, the expiry timer is
    // cancelled; the funnel's local activity writes the end, its marker in the same workflow task.
    expect(perOp['final step']).toEqual([
      ...TASK,
      'WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
      'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
      'TIMER_STARTED',
      'TIMER_CANCELED',
      'WORKFLOW_EXECUTION_UPDATE_COMPLETED',
      'MARKER_RECORDED',
    ]);
    // Reading the result is a query: no event.
    expect(perOp.result).toEqual([]);
    expect(history.perOp.map(({ events }) => events)).toEqual([5, 6, 6, 18, 9, 0]);
    expect(history.perSession).toBe(44);
  } finally {
    await http.close();
  }
});
