/**
 * A session whose workflow task keeps failing (here: the only worker cannot decode its payloads;
 * in production: workers killed while holding it) is refused updates by Temporal until a retry
 * succeeds. The api answers that as a retryable 503 with Retry-After, changes nothing, and the
 * same request succeeds once a healthy worker has run the task.
 */
import { NativeConnection } from '@temporalio/worker';
import { createSessionWorker } from '../src/worker';
import { sessionWorkflowId } from '../src/session-secret';
import { TENANT_A } from './helpers/api';
import { eventually, sessionSecret } from './helpers/stack';
import { useStack } from './helpers/use-stack';

jest.setTimeout(180_000);

const { stack, api } = useStack('api-recovering', { worker: false, api: { clients: [TENANT_A] } });

/**
 * A worker on the stack's task queue whose payload codec fails every decode (as a key store that
 * cannot be read does): each workflow task it takes fails.
 */
async function startUndecodingWorker() {
  const connection = await NativeConnection.connect({ address: stack.config.temporal.address });
  const failingDecode = {
    encode: async (payloads: unknown[]) => payloads,
    decode: async () => {
      throw new Error('this test worker cannot decode payloads');
    },
  };
  const worker = await createSessionWorker(stack.config, {
    connection,
    clients: [],
    sessionSecret,
    encryption: { ...stack.encryption, workerDataConverter: { payloadCodecs: [failingDecode as never] } },
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
    await worker.close();
    await connection.close();
  };
}

test('a session no worker has taken up yet: reading it answers 503 5032 with Retry-After once no worker answered in time', async () => {
  const created = await api.call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'consent-only', snapshot: null, tag: 'REF-no-worker' } });
  expect(created.status).toBe(200);
  const read = await api.call('GET', `/api/v1/public/flowx/handshake/${String(created.body._id)}`);
  expect(read.status).toBe(503);
  expect(read.body).toEqual({ code: 5032, message: 'Session is busy recovering; try again shortly' });
  expect(read.headers['retry-after']).toBe('1');
});

test('updates to a session whose workflow task is failing answer 503 session_recovering with Retry-After, change nothing, and go through once a worker can run it', async () => {
  const stopUndecoding = await startUndecodingWorker();
  const created = await api.call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'consent-only', snapshot: null, tag: 'REF-recovering' } });
  expect(created.status).toBe(200);
  const id = String(created.body._id);
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(id));
  // Temporal refuses updates once the task has failed twice in a row (its third attempt).
  await eventually(async () => (((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) >= 3 ? true : undefined), 120_000, 'the workflow task to reach its third attempt');

  const refused = await api.call('POST', `/v1/handshakes/${id}/launch`);
  expect(refused.status).toBe(503);
  expect(refused.body).toMatchObject({ type: 'api_error', http: 503, code: 'session_recovering', id: refused.headers['x-request-id'] });
  expect(refused.headers['retry-after']).toBe('1');
  // Reads are refused the same way while the task fails (Temporal fails queries fast then).
  const read = await api.call('GET', `/api/v1/public/flowx/handshake/${id}`);
  expect(read.status).toBe(503);
  expect(read.body).toMatchObject({ code: 5032 });
  const history = (await handle.fetchHistory()).events ?? [];
  expect(history.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(0);
  expect(history.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(0);

  await stopUndecoding();
  await stack.startWorker();
  // The failed task's retry runs on the healthy worker once its timeout has passed; until then the
  // same launch keeps answering the same retryable 503.
  const launched = await eventually(
    async () => {
      const answer = await api.call('POST', `/v1/handshakes/${id}/launch`);
      if (answer.status === 503) {
        expect(answer.body).toMatchObject({ code: 'session_recovering' });
        return undefined;
      }
      return answer;
    },
    120_000,
    'the launch to go through on a healthy worker',
  );
  expect(launched.status).toBe(200);
  expect(launched.body).toMatchObject({ session_id: id, status: 'SESSION_IN_PROGRESS', step: 'consent' });
});
