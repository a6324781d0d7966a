/**
 * Issue 24, item 2: access to Temporal is not enough to run a session. Updates and signals are
 * sent straight to Temporal (the Temporal client, as `temporal workflow update` would) to a
 * consent-only session: a launch with a hash or preimage of the attacker's own, forged steps,
 * a forged resume, a forged Attestr result. The session stays where it was, never ends
 * `success`, and each refusal is in its history, up to MAX_REFUSED_PROOFS (then refused
 * without a trace). The real device still finishes it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { nonceHash, sessionRef, sessionWorkflowId } from '../src/session-secret';
import { initialState } from '../src/workflows/session/model';
import {
  attestrResultSignal,
  INBOUND_REFUSED,
  launchUpdate,
  MAX_REFUSED_PROOFS,
  REFUSALS,
  resumeUpdate,
  submitStepUpdate,
  type StepArgs,
} from '../src/contract/session';
import type { SessionInput } from '../src/contract/session-state';
import { SESSION_REPLAY_EPOCH } from '../src/workflows/versioning';
import { TENANT_A } from './helpers/api';
import { checkReplay } from './helpers/replay-gate';
import { eventually, sessionSecret } from './helpers/stack';
import { useStack } from './helpers/use-stack';

const { stack, api } = useStack('forged-updates', { api: {} });

const OWN = 'the-attackers-own-nonce-preimage-01';
const forgedStep = (overrides: Partial<StepArgs> = {}): StepArgs => ({
  nonce: OWN,
  nonceHash: nonceHash(OWN),
  step: 'consent',
  input: { accepted: true },
  nextNonceHash: nonceHash(`${OWN}-next`),
  ...overrides,
});

/** What an update sent to Temporal came to: accepted, or the type of its refusal. */
async function outcome(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
    return 'accepted';
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return String(err.cause.type);
    throw err;
  }
}

/** The refusals the session's history records: the failure type of each update that completed with one. */
async function recordedRefusals(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((event) => event.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure?.applicationFailureInfo?.type)
    .filter((type): type is string => typeof type === 'string');
}

async function started(tag: string) {
  const { sessionId } = await stack.gateway.create({ tenantId: TENANT_A.id, tag, definition: stack.definition('consent-only') });
  return { sessionId, handle: stack.client.workflow.getHandle(sessionWorkflowId(sessionId)) };
}

test('a forged launch (a hash or preimage of the attacker\'s own) is refused, recorded, and leaves the session created', async () => {
  const { sessionId, handle } = await started('REF-forged-launch');
  for (const args of [{ nonceHash: nonceHash(OWN) }, { nonceHash: nonceHash(OWN), launchProof: OWN }]) {
    expect(await outcome(() => handle.executeUpdate(launchUpdate, { args: [args] }))).toBe(REFUSALS.INVALID_PROOF);
  }
  // What the start event shows (decoded): the hash of the launch proof, which launches nothing either.
  const storedHash = nonceHash(sessionSecret.launchProof(sessionId));
  expect(await outcome(() => handle.executeUpdate(launchUpdate, { args: [{ nonceHash: nonceHash(OWN), launchProof: storedHash }] }))).toBe(REFUSALS.INVALID_PROOF);
  // A step and an Attestr result sent straight to it change nothing either.
  expect(await outcome(() => handle.executeUpdate(submitStepUpdate, { args: [forgedStep()] }))).toBe(REFUSALS.WRONG_STATUS);
  await handle.signal(attestrResultSignal, { handshakeId: 'forged', requestId: 'forged', result: { verified: true } });

  expect(await stack.gateway.status(sessionId)).toMatchObject({ status: 'created', consumed: false, stepCount: 0, outcome: null });
  expect(await recordedRefusals(handle)).toEqual([REFUSALS.INVALID_PROOF, REFUSALS.INVALID_PROOF, REFUSALS.INVALID_PROOF]);
  // The real device launches it with the proof only the api holds.
  expect((await api.call('POST', `/v1/handshakes/${sessionId}/launch`, { as: null })).body).toMatchObject({ status: 'SESSION_IN_PROGRESS' });
});

test('forged steps and a forged resume are refused and recorded; a storm of them is bounded; the session never ends success, and the real device finishes it', async () => {
  const { sessionId, handle } = await started('REF-forged-steps');
  const device = await api.call('POST', `/v1/client?client_id=${TENANT_A.id}&_is_native=true`, { as: null });
  const bearer = { authorization: String(device.headers.authorization) };
  const launched = await api.call('POST', `/v1/handshakes/${sessionId}/launch`, { as: null, headers: bearer });
  expect(launched.status).toBe(200);
  // Everything the attacker reads in history: the bound device, the hash of the nonce the session expects.
  const { deviceClientId } = await stack.gateway.status(sessionId);
  const expected = nonceHash(launched.body.nonce);

  const attempts: Array<[string, () => Promise<unknown>]> = [
    ['a nonce of their own', () => handle.executeUpdate(submitStepUpdate, { args: [forgedStep({ deviceClientId })] })],
    ['the hash the session keeps, without its preimage', () => handle.executeUpdate(submitStepUpdate, { args: [forgedStep({ deviceClientId, nonce: undefined, nonceHash: expected })] })],
    ['that hash as the preimage', () => handle.executeUpdate(submitStepUpdate, { args: [forgedStep({ deviceClientId, nonce: expected, nonceHash: expected })] })],
  ];
  for (const [what, send] of attempts) expect({ what, outcome: await outcome(send) }).toEqual({ what, outcome: REFUSALS.INVALID_NONCE });
  expect(await outcome(() => handle.executeUpdate(resumeUpdate, { args: [{ nonceHash: nonceHash(OWN), deviceClientId: deviceClientId! }] }))).toBe(REFUSALS.INVALID_PROOF);
  expect(await stack.gateway.status(sessionId)).toMatchObject({ status: 'in_progress', stage: 'consent', stepCount: 0, outcome: null });

  // A storm: past MAX_REFUSED_PROOFS refusals nothing more is recorded (the validator refuses).
  for (let i = 0; i < MAX_REFUSED_PROOFS + 3; i += 1) {
    expect(await outcome(() => handle.executeUpdate(submitStepUpdate, { args: [forgedStep({ deviceClientId, nonce: `${OWN}-${i}` })] }))).toBe(REFUSALS.INVALID_NONCE);
  }
  const recorded = await recordedRefusals(handle);
  expect(recorded).toHaveLength(MAX_REFUSED_PROOFS);
  expect(recorded.slice(0, 4)).toEqual([REFUSALS.INVALID_NONCE, REFUSALS.INVALID_NONCE, REFUSALS.INVALID_NONCE, REFUSALS.INVALID_PROOF]);
  expect((await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length).toBe(1 + MAX_REFUSED_PROOFS);
  const result = await api.call('GET', `/api/v1/public/flowx/handshake/${sessionId}`, { as: TENANT_A });
  expect(result.body).toMatchObject({ status: 'in_progress', outcome: null, result: null });

  // The device that holds the nonce is not locked out by the storm.
  const done = await api.call('POST', `/v1/sessions/${sessionId}/steps`, {
    as: null,
    headers: bearer,
    body: { client_id: TENANT_A.id, nonce: launched.body.nonce, skill: 'consent-only', step: 'consent', data: { accepted: true } },
  });
  expect(done.body).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  // History holds the spent nonce only: nothing in it moves the session any more.
  expect(await outcome(() => handle.executeUpdate(submitStepUpdate, { args: [forgedStep({ deviceClientId, nonce: launched.body.nonce, input: { accepted: false } })] }))).toBe(REFUSALS.WRONG_STATUS);
});

/**
 * Someone with Temporal access terminates a session the api created and starts a workflow of
 * their own under its id (an input of their own, encrypted as an admin's /encode would; their own
 * launch proof), then launches and completes it. It ends `success`, but carries no seal the api
 * made, so the api answers no result for it (the answer an unknown session gets), signed or not.
 * A run started with a session state (what only continue-as-new hands over) fails at once.
 */
test('a workflow posing as a session gets no result from the api, and a state in a fresh run fails it', async () => {
  const { sessionId, handle } = await started('REF-posing');
  await handle.terminate('replaced by a workflow of the attacker\'s own');
  const now = Date.now();
  const proof = 'the-attackers-own-launch-proof-000';
  const input: SessionInput = {
    ref: sessionRef(sessionId),
    number: '1000-000000-0009',
    clientId: TENANT_A.id,
    tag: 'REF-posing',
    webhook: false,
    definition: stack.definition('consent-only'),
    createdAt: now,
    expiresAt: now + 3_600_000,
    launchProofHash: nonceHash(proof),
  };
  const posing = await stack.client.workflow.start('sessionWorkflow', { taskQueue: stack.taskQueue, workflowId: handle.workflowId, args: [input] });
  await posing.executeUpdate(launchUpdate, { args: [{ nonceHash: nonceHash('posing-nonce-1'), launchProof: proof, nonceSource: 'launch-posing' }] });
  const done = await posing.executeUpdate(submitStepUpdate, { args: [forgedStep({ nonce: 'posing-nonce-1', nonceHash: nonceHash('posing-nonce-1'), nextNonceSource: 'step-posing' })] });
  expect(done).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
  expect(await api.call('GET', `/api/v1/public/flowx/handshake/${sessionId}`, { as: TENANT_A })).toMatchObject({ status: 403, body: { code: 4031 } });

  // A state carried into a run that did not continue from one: the run fails before anything.
  const state = { ...initialState(input), status: 'consumed' as const, outcome: 'success' as const, result: { outcome: 'success' } };
  await posing.terminate('replaced again');
  const carried = await stack.client.workflow.start('sessionWorkflow', { taskQueue: stack.taskQueue, workflowId: handle.workflowId, args: [{ ...input, state }] });
  const failure = await carried.result().then(
    () => null,
    (err: unknown) => (err instanceof WorkflowFailedError ? err.cause : err),
  );
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect((failure as ApplicationFailure).type).toBe(INBOUND_REFUSED);
});

/**
 * The refusals' path replays: a session with proofs, run on this code with plain payloads (a
 * recorded history must decode on any machine), refusing a forged launch and a forged step
 * before the real ones. RECORD_HISTORIES=1 keeps it as test/histories/consent-only-forged.json,
 * which test/replay.test.ts replays against every later change.
 */
test('a session refusing forged updates replays on this code (RECORD_HISTORIES=1 records it)', async () => {
  const connection = await Connection.connect({ address: stack.config.temporal.address });
  const client = new Client({ connection, namespace: stack.config.temporal.namespace });
  const taskQueue = `${stack.taskQueue}-recording`;
  const workerConnection = await NativeConnection.connect({ address: stack.config.temporal.address });
  // The session's one activity here: the funnel's record of its end (a local activity).
  const ends: unknown[] = [];
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
    activities: { recordSessionEnd: async (end: unknown) => void ends.push(end) },
  });
  const now = Date.now();
  const input: SessionInput = {
    ref: 'recorded-forged-ref',
    number: '1000-000000-0001',
    clientId: TENANT_A.id,
    tag: 'REF-recorded-forged',
    webhook: false,
    definition: stack.definition('consent-only'),
    createdAt: now,
    expiresAt: now + 3_600_000,
    launchProofHash: nonceHash('recorded-launch-proof'),
  };
  const history = await worker.runUntil(async () => {
    const handle = await client.workflow.start('sessionWorkflow', { taskQueue, workflowId: `session-recorded-forged-${now}`, args: [input] });
    expect(await outcome(() => handle.executeUpdate(launchUpdate, { args: [{ nonceHash: nonceHash(OWN), launchProof: OWN }] }))).toBe(REFUSALS.INVALID_PROOF);
    await handle.executeUpdate(launchUpdate, { args: [{ nonceHash: nonceHash('recorded-nonce-1'), launchProof: 'recorded-launch-proof', nonceSource: 'launch-recorded' }] });
    expect(await outcome(() => handle.executeUpdate(submitStepUpdate, { args: [forgedStep()] }))).toBe(REFUSALS.INVALID_NONCE);
    const done = await handle.executeUpdate(submitStepUpdate, { args: [forgedStep({ nonce: 'recorded-nonce-1', nonceHash: nonceHash('recorded-nonce-1'), nextNonceSource: 'step-recorded' })] });
    expect(done).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
    await eventually(async () => (ends.length === 1 ? true : undefined), 10_000, 'the funnel record of its end');
    return handle.fetchHistory();
  });
  await workerConnection.close();
  await connection.close();
  const { replayed } = await checkReplay({
    histories: [{ name: 'consent-only-forged', history }],
    recordedOn: { label: 'this code', sessionReplayEpoch: SESSION_REPLAY_EPOCH },
    bundlePath: process.env.WORKFLOW_BUNDLE_PATH!,
    sessionReplayEpoch: SESSION_REPLAY_EPOCH,
  });
  expect(replayed).toEqual(['consent-only-forged']);
  if (process.env.RECORD_HISTORIES === '1') {
    writeFileSync(join(__dirname, 'histories', 'consent-only-forged.json'), JSON.stringify(JSON.parse(historyToJSON(history)), null, 2));
  }
});
