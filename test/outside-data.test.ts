/**
 * Data from outside only wakes a session (docs/security/outside-data.md), against the real stack:
 * signals and updates sent straight to Temporal, encrypted through the project's codec or plain
 * through the Temporal CLI, are refused with the session left where it was and the refusal in its
 * history; a storm of wake-ups costs Attestr a bounded number of calls; and sessions started
 * before encryption keep working.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { freePort } from '../scripts/dev-server';
import { signResult } from '../src/util/result-signature';
import { sessionRef, sessionWorkflowId } from '../src/session-secret';
import type { FlowMachine } from '../src/flows/core/types';
import { deliverEventUpdate, expireUpdate, INBOUND_REFUSED, launchUpdate, statusQuery, submitStepUpdate, type InboundRefusal } from '../src/contract/session';
import type { SessionInput } from '../src/contract/session-state';
import { sessionWorkflowIdOfRef, webhookOutboxWorkflowId } from '../src/contract/workflow-ids';
import { MAX_WAKE_FETCHES } from '../src/workflows/session/attestr-wakeups';
import { startApi, type Api } from './helpers/api';
import { completeAttestr, inlineFlow, kycAtAadhaar, sandboxCall } from './helpers/flows';
import { eventually, SANDBOX_CREDENTIALS, startStack, type Stack } from './helpers/stack';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let stack: Stack;
let api: Api;
/** Sends payloads as they are (a client without the codec) and reads answers through the codec. */
let plain: Client;

beforeAll(async () => {
  const apiPort = await freePort();
  stack = await startStack('outside-data', { webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/attestr` });
  await stack.startWorker();
  api = await startApi(stack, undefined, undefined, apiPort);
  const connection = await Connection.connect({ address: stack.config.temporal.address });
  plain = new Client({
    connection,
    namespace: stack.config.temporal.namespace,
    dataConverter: { payloadCodecs: [{ encode: async (payloads) => payloads, decode: (payloads) => stack.encryption.codec.decode(payloads) }] },
  });
});

afterAll(async () => {
  await plain?.connection.close();
  await api?.close();
  await stack?.stop();
});

async function historyOf(workflowId: string): Promise<HistoryEvent[]> {
  return (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

/** Each `activity` scheduled in `events`, as how it ended: `ok`, its failure type, or `open`. */
function activityOutcomes(events: HistoryEvent[], activity: string): string[] {
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((e) => String(e.eventId));
  return scheduled.map((id) => {
    const end = events.find((e) =>
      [e.activityTaskCompletedEventAttributes, e.activityTaskFailedEventAttributes, e.activityTaskTimedOutEventAttributes].some((a) => String(a?.scheduledEventId) === id),
    );
    if (!end) return 'open';
    if (end.activityTaskCompletedEventAttributes) return 'ok';
    return end.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type ?? 'timeout';
  });
}

/** The refusals the session recorded: the results of its recordInboundRefusal local activities, decoded. */
async function recordedRefusals(events: HistoryEvent[]): Promise<InboundRefusal[]> {
  const refusals: InboundRefusal[] = [];
  for (const event of events) {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') continue;
    // The marker holds the call's description (plain, written by the SDK's core) and its result (encoded).
    const values = [];
    for (const entry of Object.values(marker.details ?? {})) {
      // A call that answers nothing (the funnel's recordSessionEnd) has an empty result.
      for (const payload of await stack.encryption.codec.decode((entry.payloads ?? []) as Payload[])) if (payload.data?.length) values.push(JSON.parse(Buffer.from(payload.data).toString()));
    }
    if (!JSON.stringify(values).includes('recordInboundRefusal')) continue;
    refusals.push(...values.filter((value): value is InboundRefusal => typeof value?.reason === 'string'));
  }
  return refusals;
}

/** Runs `use` with a client whose every payload claims to be encrypted under a key no one has. */
async function withForger(use: (forger: Client) => Promise<void>): Promise<void> {
  const garbage = async (payloads: Payload[]) =>
    payloads.map(() => ({
      metadata: { encoding: Buffer.from('binary/encrypted'), 'encryption-key-id': Buffer.from(`session-${'0'.repeat(32)}`), 'encryption-cipher': Buffer.from('AES256GCM') },
      data: randomBytes(64),
    }));
  const connection = await Connection.connect({ address: stack.config.temporal.address });
  try {
    await use(new Client({ connection, namespace: stack.config.temporal.namespace, dataConverter: { payloadCodecs: [{ encode: garbage, decode: async (p) => p }] } }));
  } finally {
    await connection.close();
  }
}

function failedTasks(events: HistoryEvent[]): number {
  return events.filter((e) => e.workflowTaskFailedEventAttributes).length;
}

/** Waits until every signal sent has been handled: no workflow task and no activity pending. */
async function settled(workflowId: string, signals: number): Promise<HistoryEvent[]> {
  return eventually(async () => {
    const events = await historyOf(workflowId);
    const description = await stack.client.workflow.getHandle(workflowId).describe();
    const pending = (description.raw.pendingActivities ?? []).length > 0 || description.raw.pendingWorkflowTask;
    const received = events.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'attestrResult').length;
    return received >= signals && !pending && events.at(-1)?.workflowTaskCompletedEventAttributes ? events : undefined;
  }, 30_000, `${signals} signals handled`);
}

const FORGED_RESULT = { FSforged: { input: {}, output: { name: 'Forged Person', verified: true } } };

describe('a forged attestrResult signal', () => {
  test('encrypted through the codec: its content is ignored, Attestr is asked and has no result, and the session stays where it was', async () => {
    const { sessionId, identity, handshakeId, workflowId } = await kycAtAadhaar(stack, 'REF-forged-encrypted');
    await stack.client.workflow.getHandle(workflowId).signal('attestrResult', { handshakeId, requestId: 'forged', result: FORGED_RESULT });
    // The refusal in history: the wake-up's fetch, answered by Attestr that it has no result.
    const events = await eventually(async () => {
      const seen = await historyOf(workflowId);
      return activityOutcomes(seen, 'attestrFetchVerifiedResult').includes('ProviderResultPending') ? seen : undefined;
    }, 30_000, 'the wake-up fetch');
    expect(activityOutcomes(events, 'attestrFetchVerifiedResult')).toEqual(['ProviderResultPending']);
    expect(failedTasks(events)).toBe(0);
    expect((await stack.gateway.view(sessionId)).status).toMatchObject({ status: 'in_progress', stage: 'aadhaar' });

    // The device's step asks Attestr again and gets the truth: nothing yet.
    const step = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {}, pendingWaitSeconds: 1 });
    expect(step).toMatchObject({ status: 'SESSION_IN_PROGRESS', data: { step: 'aadhaar', error: { type: 'ProviderResultPending' } } });
    const view = await stack.gateway.view(sessionId);
    expect(view.status).toMatchObject({ status: 'in_progress', stage: 'aadhaar', outcome: null });
    expect(JSON.stringify(view.result)).not.toContain('Forged Person');
    expect(await sandboxCall(stack, 'GET', '/attestr/_handshakes')).toEqual(expect.arrayContaining([expect.objectContaining({ _id: handshakeId, consumed: false })]));
  });

  test('unencrypted, from the Temporal CLI: refused unread and recorded, no fetch, no failed workflow task, and the session stays', async () => {
    const { sessionId, identity, handshakeId, workflowId } = await kycAtAadhaar(stack, 'REF-forged-plain');
    execFileSync(process.env.TEMPORAL_CLI!, [
      'workflow', 'signal', '--workflow-id', workflowId, '--name', 'attestrResult',
      '--input', JSON.stringify({ handshakeId, requestId: 'forged', result: FORGED_RESULT }),
      '--address', stack.config.temporal.address, '--namespace', stack.config.temporal.namespace,
    ]);
    const events = await eventually(async () => {
      const seen = await historyOf(workflowId);
      return (await recordedRefusals(seen)).length > 0 ? seen : undefined;
    }, 30_000, 'the refusal recorded');
    expect(await recordedRefusals(events)).toEqual([{ message: 'attestrResult', reason: 'unencrypted' }]);
    expect(activityOutcomes(events, 'attestrFetchVerifiedResult')).toEqual([]);
    expect(failedTasks(events)).toBe(0);

    const step = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {}, pendingWaitSeconds: 1 });
    expect(step).toMatchObject({ status: 'SESSION_IN_PROGRESS', data: { step: 'aadhaar', error: { type: 'ProviderResultPending' } } });
    expect(JSON.stringify((await stack.gateway.view(sessionId)).result)).not.toContain('Forged Person');
  });
});

describe('wake-ups', () => {
  test('a storm of 50 webhook posts and 50 signals costs Attestr at most MAX_WAKE_FETCHES calls, and the device still finishes the stage', async () => {
    const { sessionId, identity, handshakeId, workflowId } = await kycAtAadhaar(stack, 'REF-wake-storm');
    // A completion Attestr once signed, posted again and again (any body Attestr ever signed would do).
    const body = { _id: handshakeId, tag: `${sessionRef(sessionId)}.aadhaar.2`, result: FORGED_RESULT, resultSignature: signResult(FORGED_RESULT, SANDBOX_CREDENTIALS.attestr.secret) };
    const asked = async () => ((await sandboxCall(stack, 'GET', '/attestr/_calls')) as Array<{ method: string; path: string }>).filter((c) => c.method === 'GET' && c.path.includes(handshakeId)).length;
    const posts = await Promise.all(Array.from({ length: 50 }, () => api.call('POST', '/webhooks/attestr', { body, as: null })));
    expect(await asked()).toBeLessThanOrEqual(MAX_WAKE_FETCHES);
    expect(new Set(posts.map((p) => p.status))).toEqual(new Set([202]));
    const handle = stack.client.workflow.getHandle(workflowId);
    await Promise.all(Array.from({ length: 50 }, () => handle.signal('attestrResult')));
    const events = await settled(workflowId, 100);

    const fetches = activityOutcomes(events, 'attestrFetchVerifiedResult');
    expect(fetches.length).toBeGreaterThanOrEqual(1);
    expect(fetches.length).toBeLessThanOrEqual(MAX_WAKE_FETCHES);
    expect(await asked()).toBe(fetches.length);
    expect(failedTasks(events)).toBe(0);

    // The user finishes; Attestr's webhook finds the bound spent, and the device's step asks Attestr itself.
    await completeAttestr(stack, handshakeId);
    const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
    expect(aadhaar.data.step).toBe('bank');
    expect(await asked()).toBe(fetches.length + 1);
  });

  test("Attestr's completion webhook wakes the session once: it fetches and verifies the result, and the device's step asks nothing more", async () => {
    const { sessionId, identity, handshakeId, workflowId } = await kycAtAadhaar(stack, 'REF-wake-once');
    await completeAttestr(stack, handshakeId);
    const events = await eventually(async () => {
      const seen = await historyOf(workflowId);
      return activityOutcomes(seen, 'attestrFetchVerifiedResult').includes('ok') ? seen : undefined;
    }, 30_000, 'the wake-up fetch');
    expect(activityOutcomes(events, 'attestrFetchVerifiedResult')).toEqual(['ok']);
    // The wake-up's cost in history (docs/security/outside-data.md): the signal and its task, the
    // fetch, and the task its answer wakes.
    const woken = (await settled(workflowId, 1)).slice(events.findIndex((e) => e.workflowExecutionSignaledEventAttributes));
    expect(woken.map((e) => e.eventType)).toEqual([
      'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
      'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      'EVENT_TYPE_WORKFLOW_TASK_STARTED',
      'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
      'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
      'EVENT_TYPE_ACTIVITY_TASK_STARTED',
      'EVENT_TYPE_ACTIVITY_TASK_COMPLETED',
      'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      'EVENT_TYPE_WORKFLOW_TASK_STARTED',
      'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
    ].map((name) => temporal.api.enums.v1.EventType[name as keyof typeof temporal.api.enums.v1.EventType]));
    const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
    expect(aadhaar.data.step).toBe('bank');
    expect(activityOutcomes(await historyOf(workflowId), 'attestrFetchVerifiedResult')).toEqual(['ok']);
    const calls = (await sandboxCall(stack, 'GET', '/attestr/_calls')) as Array<{ method: string; path: string }>;
    expect(calls.filter((c) => c.method === 'GET' && c.path.includes(handshakeId))).toHaveLength(1);
    expect((await stack.gateway.result(sessionId)).result).toBeNull(); // not over yet: bank is next
  });

  test('a result whose signature does not verify at its source is refused there; the stage stays, and a later try succeeds', async () => {
    const { sessionId, identity, handshakeId, workflowId } = await kycAtAadhaar(stack, 'REF-wake-bad-signature');
    await sandboxCall(stack, 'POST', '/attestr/_faults', { badSignature: true, count: 1 });
    await completeAttestr(stack, handshakeId);
    const events = await eventually(async () => {
      const seen = await historyOf(workflowId);
      return activityOutcomes(seen, 'attestrFetchVerifiedResult').includes('ProviderSignatureInvalid') ? seen : undefined;
    }, 30_000, 'the refused fetch');
    expect(activityOutcomes(events, 'attestrFetchVerifiedResult')).toEqual(['ProviderSignatureInvalid']);
    expect((await stack.gateway.view(sessionId)).status).toMatchObject({ status: 'in_progress', stage: 'aadhaar' });
    const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
    expect(aadhaar.data.step).toBe('bank');
  });
});

describe('payloads in a session started with encryption', () => {
  test('an unencrypted update is refused and recorded, without a failed workflow task, and changes nothing', async () => {
    const { sessionId, workflowId } = await kycAtAadhaar(stack, 'REF-plain-update');
    const refused = await plain.workflow
      .getHandle(workflowId)
      .executeUpdate(expireUpdate, { args: [{ reason: 'forged' }] })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
    expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(INBOUND_REFUSED);
    const events = await historyOf(workflowId);
    expect(await recordedRefusals(events)).toEqual([{ message: 'expire', reason: 'unencrypted' }]);
    expect(failedTasks(events)).toBe(0);
    expect((await stack.gateway.status(sessionId)).status).toBe('in_progress');
  });

  test('a payload that cannot be decrypted (a made-up key) is refused and recorded, without a failed workflow task', async () => {
    const { sessionId, workflowId } = await kycAtAadhaar(stack, 'REF-undecryptable');
    await withForger((forger) => forger.workflow.getHandle(workflowId).signal('attestrResult', { result: FORGED_RESULT }));
    const events = await eventually(async () => {
      const seen = await historyOf(workflowId);
      return (await recordedRefusals(seen)).length > 0 || failedTasks(seen) > 0 ? seen : undefined;
    }, 30_000, 'the refusal recorded, or a failed workflow task');
    expect(failedTasks(events)).toBe(0);
    expect(await recordedRefusals(events)).toEqual([{ message: 'attestrResult', reason: 'undecryptable' }]);
    expect(activityOutcomes(events, 'attestrFetchVerifiedResult')).toEqual([]);
    // The session still answers and moves.
    expect((await stack.gateway.status(sessionId)).status).toBe('in_progress');
  });

  test('a webhook outbox ignores an event it cannot decrypt, without a failed workflow task', async () => {
    const workflowId = webhookOutboxWorkflowId(`outside-data-${randomBytes(8).toString('hex')}`);
    const outbox = await stack.client.workflow.start('webhookOutboxWorkflow', { taskQueue: stack.taskQueue, workflowId, args: [{ sealedSessionId: 'sealed', clientId: 'tenant-a' }] });
    await withForger((forger) => forger.workflow.getHandle(workflowId).signal('webhookEvent', { id: 'forged.1', seq: 1, type: 'session.consumed', occurredAt: 0, data: {} }));
    await outbox.signal('closeOutbox');
    const events = await eventually(async () => {
      const seen = await historyOf(workflowId);
      return seen.some((e) => e.workflowExecutionCompletedEventAttributes) || failedTasks(seen) > 0 ? seen : undefined;
    }, 30_000, 'the outbox to close, or a failed workflow task');
    expect(failedTasks(events)).toBe(0);
    expect(await outbox.result()).toEqual({ delivered: 0, failed: 0, gone: false });
  });

  test('a session started before encryption (its input unencrypted) keeps taking unencrypted payloads', async () => {
    const ref = randomBytes(16).toString('hex');
    const workflowId = sessionWorkflowIdOfRef(ref);
    const now = Date.now();
    const input: SessionInput = { ref, number: '1000-000000-0003', clientId: 'tenant-a', tag: 'REF-before-encryption', webhook: false, definition: stack.definition('consent-only'), createdAt: now, expiresAt: now + 3_600_000 };
    const handle = await plain.workflow.start('sessionWorkflow', { taskQueue: stack.taskQueue, workflowId, args: [input] });
    const hash = (n: number) => `before-encryption-nonce-${n}`.padEnd(43, 'x');
    await handle.executeUpdate(launchUpdate, { args: [{ nonceHash: hash(1) }] });
    const answer = await handle.executeUpdate(submitStepUpdate, { args: [{ nonceHash: hash(1), nextNonceHash: hash(2), step: 'consent', input: { accepted: true } }] });
    expect(answer).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
    expect(await handle.query(statusQuery)).toMatchObject({ status: 'consumed' });
    const events = await historyOf(workflowId);
    expect(await recordedRefusals(events)).toEqual([]);
    expect(failedTasks(events)).toBe(0);
  });
});

describe('backend events', () => {
  const WAITING: FlowMachine = {
    id: 'await-approval',
    initial: 'approval',
    states: {
      approval: { meta: { stage: 'wait' }, on: { EVENT: 'approved' } },
      approved: { type: 'final', meta: { outcome: 'success' } },
    },
  };

  test('an event sent straight to Temporal, without the api proof, is refused and recorded; the same event through the api is taken', async () => {
    const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-forged-event', definition: inlineFlow(WAITING) });
    await stack.gateway.launch(sessionId);
    const workflowId = sessionWorkflowId(sessionId);
    const forged = await stack.client.workflow
      .getHandle(workflowId)
      .executeUpdate(deliverEventUpdate, { args: [{ eventId: 'ev-forged', type: 'approved', data: { by: 'forger' } }] })
      .catch((err: unknown) => err);
    expect(forged).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((forged as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(INBOUND_REFUSED);
    const refusedView = await stack.gateway.view(sessionId);
    expect(refusedView.status).toMatchObject({ status: 'in_progress', stage: 'approval' });
    expect(failedTasks(await historyOf(workflowId))).toBe(0);

    const taken = await stack.gateway.deliverEvent(sessionId, { eventId: 'ev-real', type: 'approved', data: { by: 'backend' } });
    expect(taken).toMatchObject({ status: 'consumed', outcome: 'success' });
    expect((await stack.gateway.result(sessionId)).result).toEqual({ approval: { input: { event: 'approved', eventId: 'ev-real' }, output: { by: 'backend' } } });
  });
});
