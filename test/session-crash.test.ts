/**
 * Crash safety with real worker processes: the worker is killed (SIGKILL) while a provider
 * stage's activity is running; a new worker process finishes the session, and the provider's
 * side effect happened once. A webhook delivery on a killed worker is noticed by its heartbeat.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { BANK, completeAttestr, IDENTITY, sandboxCall } from './helpers/flows';
import { activityScheduled, eventually, killWorker, startStack, type Stack } from './helpers/stack';
import { sessionRef, sessionWorkflowId } from '../src/session-secret';
import { webhookOutboxWorkflowId } from '../src/contract/workflow-ids';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('crash');
});

afterAll(async () => {
  await stack?.stop();
});

test('a worker killed mid-activity: a new worker completes the session and the handshake exists once', async () => {
  const first = await stack.spawnWorker();
  const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-crash', definition: stack.definition('kyc-basic') });
  const launch = await stack.gateway.launch(sessionId);

  // The handshake create will take 4 s at the provider: long enough to kill the worker inside it.
  await sandboxCall(stack, 'POST', '/attestr/_faults', { delayMs: 4_000, count: 1 });
  const submitted = stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  await activityScheduled(stack, sessionId, 'attestrCreateHandshake');
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the HTTP call reach the sandbox
  await killWorker(first);

  await stack.spawnWorker();
  const identity = await submitted;
  expect(identity.data).toMatchObject({ step: 'aadhaar', handshakeId: expect.stringMatching(/^DS/) });

  // The activity ran twice (the second attempt on the new worker)...
  const events = (await handle.fetchHistory()).events ?? [];
  const started = events.find((e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 0) >= 2);
  expect(started).toBeDefined();
  // ...but the provider holds exactly one handshake for this session, the one the device got
  // (providers are told the session's ref, never its id).
  const handshakes = (await sandboxCall(stack, 'GET', '/attestr/_handshakes')) as Array<{ _id: string; tag: string }>;
  const ours = handshakes.filter((h) => h.tag.startsWith(`${sessionRef(sessionId)}.`));
  expect(ours).toHaveLength(1);
  expect(ours[0]._id).toBe(identity.data.handshakeId);

  await completeAttestr(stack, ours[0]._id);
  const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
  const bank = await stack.gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
  expect(bank).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
});

test('a worker killed mid-delivery: the delivery is tried again 1 s after its heartbeat stops, not after the start-to-close timeout and the receiver schedule', async () => {
  // A stack of its own: the workers above know no client with a webhook endpoint.
  const hooks = await startStack('crash-hooks');
  // The endpoint holds the first delivery unanswered (the worker dies inside it), then accepts.
  const held: ServerResponse[] = [];
  const accepted: string[] = [];
  const receiver = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      if (held.length === 0) {
        held.push(response);
        return;
      }
      accepted.push(String(request.headers['webhook-id']));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const tenant = {
      id: 'tenant-crash-hooks',
      secret: 'tenant-crash-hooks-secret-0123',
      webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
    };
    const env = { SESSIONFLOW_CLIENTS: JSON.stringify([tenant]) };
    const first = await hooks.spawnWorker(env);
    const { sessionId } = await hooks.gateway.create({ tenantId: tenant.id, tag: 'REF-crash-hook', webhook: true, definition: hooks.definition('consent-only') });
    await eventually(async () => (held.length > 0 ? true : undefined), 30_000, 'the first delivery to reach the endpoint');
    await killWorker(first);
    // Before any worker is back: the server has given up the attempt and scheduled the next. A
    // worker's death is our side's failure: the next attempt comes 1 s later, not on the receiver's schedule.
    const outbox = hooks.client.workflow.getHandle(webhookOutboxWorkflowId(sessionRef(sessionId)));
    const retrying = await eventually(async () => {
      const pending = (await outbox.describe()).raw.pendingActivities?.[0];
      return pending && (pending.attempt ?? 0) >= 2 ? pending : undefined;
    }, 30_000, 'the attempt on the killed worker to be given up');
    // Server timestamps: the heartbeat timeout (10 s after the last heartbeat), then the backoff.
    // The receiver's first delay (5 s) would put the next attempt at 15 s or later.
    const nextAfterLastHeartbeat = tsToMs(retrying.scheduledTime) - tsToMs(retrying.lastHeartbeatTime);
    expect(nextAfterLastHeartbeat).toBeGreaterThanOrEqual(11_000);
    expect(nextAfterLastHeartbeat).toBeLessThan(15_000);
    await hooks.spawnWorker(env);
    await eventually(async () => (accepted.length > 0 ? true : undefined), 60_000, 'the delivery to be tried again');

    // The attempt that completed records why the one before it ended: its heartbeat stopped.
    const started = await eventually(async () => {
      const events = (await outbox.fetchHistory()).events ?? [];
      return events.find((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 0) >= 2)?.activityTaskStartedEventAttributes ?? undefined;
    }, 20_000, 'the second attempt in the outbox history');
    expect(started.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    expect(accepted[0]).toBe(`${sessionId}.1`);
  } finally {
    for (const response of held) response.destroy();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await hooks.stop();
  }
});
