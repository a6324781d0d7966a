/**
 * Crash safety with real worker processes: the worker is killed (SIGKILL) while a provider
 * stage's activity is running; a new worker process finishes the session, and the provider's
 * side effect happened once.
 */
import { BANK, completeAttestr, IDENTITY, sandboxCall } from './helpers/flows';
import { activityScheduled, killWorker, startStack, type Stack } from './helpers/stack';
import { sessionRef, sessionWorkflowId } from '../src/session-secret';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('crash');
});

afterAll(async () => {
  await stack?.stop();
});

test('a worker killed mid-activity: a new worker completes the session and the handshake exists once', async () => {
  const first = await stack.spawnWorker();
  const { sessionId } = await stack.gateway.create({ clientId: 'tenant-a', tag: 'REF-crash', definition: stack.definition('kyc-basic') });
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
