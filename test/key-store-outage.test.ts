/**
 * Fail closed, and recover: the PostgreSQL key store (a real server from scripts/postgres.sh)
 * is stopped under a running stack. The api answers 503 with its documented codes; a step that
 * still reaches Temporal (sent by a client whose keys were cached before the outage) makes the
 * worker fail that workflow task and stop polling, so no activity and no retry budget is used
 * however long the outage lasts, and the session does not end. Once PostgreSQL is back the
 * worker polls again and the session finishes.
 *
 * The second test makes an outage outlast a provider call's whole retry budget: the call has
 * spent every attempt but its last (the sandbox answered 429s) when the store goes down, and
 * the store stays down past the time that last attempt was due. The session still ends in
 * `success`, on that last attempt, once the store is back.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { freePort } from '../scripts/dev-server';
import { SessionGateway } from '../src/api/session-gateway';
import { CachedKeyStore } from '../src/keys/cache';
import { EncryptionCodec, encryptingDataConverter } from '../src/keys/codec';
import { namespaceKeyId } from '../src/keys/key-store';
import { openKeyStore } from '../src/keys/open-store';
import { startApi, TENANT_A, type Api } from './helpers/api';
import { completeAttestr, IDENTITY, BANK, sandboxCall } from './helpers/flows';
import { sessionWorkflowId } from '../src/session-secret';
import { eventually, sessionSecret, startStack, type Stack } from './helpers/stack';

const dir = join('.data', `test-outage-postgres-${process.pid}`);
let port: number;
let stack: Stack;
let api: Api;
let healthPort: number;

const postgres = (...args: string[]) => execFileSync('bash', ['scripts/postgres.sh', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

async function workerHealth(): Promise<string> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${healthPort}/healthz`)).json()) as { status: string }).status;
  } catch {
    return 'unreachable';
  }
}

beforeAll(async () => {
  port = await freePort();
  const url = postgres('start', dir, String(port));
  healthPort = await freePort();
  stack = await startStack('outage', {}, {
    SESSIONFLOW_KEY_STORE_URL: url,
    SESSIONFLOW_KEK: randomBytes(32).toString('hex'),
    // No cache in these processes, so the outage shows at once (the cache is tested on its own).
    SESSIONFLOW_KEY_CACHE_SECONDS: '0',
  });
  api = await startApi(stack);
  await stack.spawnWorker({ WORKER_HEALTH_PORT: String(healthPort) });
}, 240_000);

afterAll(async () => {
  await api?.close();
  await stack?.stop();
  postgres('remove', dir);
}, 240_000);

test('a key store that is down fails closed (api 503, the worker pauses, no session ends) and everything recovers', async () => {
  const { sessionId } = await stack.gateway.create({ tenantId: TENANT_A.id, tag: 'REF-outage', definition: stack.definition('consent-only') });
  const launch = await stack.gateway.launch(sessionId);

  // A client that read its keys before the outage and keeps them (like an api replica with a warm cache).
  const warmKeys = new CachedKeyStore(openKeyStore({ dataDir: stack.config.dataDir, ...stack.config.keys }), { ttlMs: 10 * 60_000 });
  await warmKeys.get(namespaceKeyId('default'));
  const warmClient = new Client({ connection: stack.client.connection, namespace: 'default', dataConverter: encryptingDataConverter(new EncryptionCodec(warmKeys, { namespace: 'default' })) });
  const warm = new SessionGateway(warmClient, stack.taskQueue, sessionSecret, warmKeys);
  expect((await warm.status(sessionId)).status).toBe('in_progress');
  expect(await workerHealth()).toBe('ok');

  postgres('stop', dir);

  // The api: 503 with the documented codes, for backends and devices alike.
  const create = await api.call('POST', '/api/v1/public/flowx/handshake', { body: { flow: 'consent-only', snapshot: null, tag: 'REF-outage-2' } });
  expect(create.status).toBe(503);
  expect(create.body).toEqual({ code: 5031, message: 'Session data keys are unavailable; try again shortly' });
  const step = await api.call('POST', `/v1/sessions/${sessionId}/steps`, {
    body: { client_id: TENANT_A.id, skill: 'consent-only', nonce: launch.nonce, step: 'consent', data: { accepted: true } },
  });
  expect(step.status).toBe(503);
  expect(step.body).toMatchObject({ type: 'api_error', http: 503, code: 'key_store_unavailable' });

  // The step still reaches Temporal through the warm client: the worker cannot decode it.
  const submission = { nonce: launch.nonce!, step: 'consent', input: { accepted: true } };
  const pending = warm.submitStep(sessionId, submission).then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );
  await eventually(async () => ((await workerHealth()) === 'key_store_unavailable' ? true : undefined), 60_000, 'the worker to pause');

  // Paused: the session neither moved nor ended, and nothing was written in plain text.
  const history = JSON.stringify((await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory()).events);
  expect(history).not.toContain('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
  expect(history).not.toContain('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  expect(history).not.toContain('"accepted":true');
  // It stays paused while the store is down, however long that is (probes come every 2 s).
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  expect(await workerHealth()).toBe('key_store_unavailable');

  postgres('start', dir, String(port));
  await eventually(async () => ((await workerHealth()) === 'ok' ? true : undefined), 60_000, 'the worker to poll again');
  const first = await pending;
  // The same request again is answered once (it is the same update), whether or not the first got through.
  const answer = 'answer' in first ? first.answer : await stack.gateway.submitStep(sessionId, submission);
  expect(answer.data).toMatchObject({ outcome: 'success' });
  expect((await stack.gateway.status(sessionId)).status).toBe('consumed');
  await warmKeys.close();
}, 240_000);

interface PendingActivity {
  activityType?: { name?: string | null } | null;
  attempt?: number | null;
  maximumAttempts?: number | null;
  state?: number | null;
  scheduledTime?: { seconds?: number | Long | null } | null;
}
type Long = { toNumber(): number };
const seconds = (value: number | Long | null | undefined) => (typeof value === 'number' ? value : (value?.toNumber() ?? Number.NaN));
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED: waiting for a worker to take it. */
const SCHEDULED = 1;

test('an outage longer than a provider call\'s whole retry budget ends the session in success, on the last attempt', async () => {
  const { gateway } = stack;
  const { sessionId } = await gateway.create({ tenantId: TENANT_A.id, tag: 'REF-outage-budget', definition: stack.definition('kyc-basic') });
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  const launch = await gateway.launch(sessionId);
  const identity = await gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
  await completeAttestr(stack, String(identity.data.handshakeId));
  const aadhaar = await gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
  expect(aadhaar.data.step).toBe('bank');

  // The provider calls' budget, as the workflow schedules them (Attestr's and Finqware's calls share it).
  const scheduled = ((await handle.fetchHistory()).events ?? []).find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'attestrCreateHandshake');
  const budget = scheduled!.activityTaskScheduledEventAttributes!.retryPolicy!.maximumAttempts!;
  expect(budget).toBeGreaterThan(1);
  // Finqware rate-limits every attempt but the last; the one before the last asks for 30 s.
  // (A past Retry-After date is the smallest delay: the attempts before it follow at once.)
  await sandboxCall(stack, 'POST', '/finqware/_faults', { status: 429, retryAfter: 'Thu, 01 Jan 1970 00:00:00 GMT', count: budget - 2 });
  await sandboxCall(stack, 'POST', '/finqware/_faults', { status: 429, retryAfter: 30, count: 1 });
  const submission = { nonce: aadhaar.nonce!, step: 'bank', input: BANK };
  const pending = gateway.submitStep(sessionId, submission).then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );

  const lastAttempt = async (): Promise<PendingActivity | undefined> => {
    // The raw describe: the client's would decode the memo, which needs a key (the store may be down).
    const described = await stack.client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: handle.workflowId } });
    const activities = (described.pendingActivities ?? []) as PendingActivity[];
    const call = activities.find((a) => a.activityType?.name === 'finqwareCreateSession');
    return call && call.attempt === budget && call.state === SCHEDULED ? call : undefined;
  };
  const waiting = await eventually(lastAttempt, 60_000, 'the Finqware call to wait for its last attempt');
  expect(waiting.maximumAttempts).toBe(budget);
  const dueAt = seconds(waiting.scheduledTime?.seconds) * 1000;

  postgres('stop', dir);
  // The worker notices the outage by itself (no task needed a key yet) before that attempt is due.
  await eventually(async () => ((await workerHealth()) === 'key_store_unavailable' ? true : undefined), 20_000, 'the worker to pause');
  expect(Date.now()).toBeLessThan(dueAt);
  // The outage goes on past the moment the last attempt was due: the budget is spent, in time.
  await eventually(async () => (Date.now() > dueAt + 3_000 ? true : undefined), 60_000, 'the last attempt to be due');
  const stillWaiting = await lastAttempt();
  expect(stillWaiting).toBeDefined();
  expect(await workerHealth()).toBe('key_store_unavailable');

  postgres('start', dir, String(port));
  await eventually(async () => ((await workerHealth()) === 'ok' ? true : undefined), 60_000, 'the worker to poll again');
  const first = await pending;
  const answer = 'answer' in first ? first.answer : await gateway.submitStep(sessionId, submission);
  expect(answer.data).toMatchObject({ outcome: 'success' });
  expect((await gateway.status(sessionId)).status).toBe('consumed');
  // From history: the call succeeded on its last attempt, and nothing failed the session.
  const events = (await handle.fetchHistory()).events ?? [];
  const callId = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'finqwareCreateSession')!.eventId!.toString();
  const started = events.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === callId);
  expect(started!.activityTaskStartedEventAttributes!.attempt).toBe(budget);
  expect(events.filter((e) => e.activityTaskFailedEventAttributes || e.workflowExecutionFailedEventAttributes)).toEqual([]);
}, 240_000);
