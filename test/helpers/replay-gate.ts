/**
 * The replay gate's check, shared by the gate (test/replay-gate.test.ts), the recorded-history
 * replay (test/replay.test.ts) and the test of the gate itself (test/replay-gate-check.test.ts):
 * histories recorded on one build must replay on another build's code, and a failure says what
 * to do. A session history is excused when the newer code declares a higher SESSION_REPLAY_EPOCH
 * (src/workflows/versioning.ts): sessions are pinned to their build and meet new code only through
 * continue-as-new. Every other workflow type is auto-upgrade and always has to replay.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { createSessionWorker } from '../../src/worker';
import { SOURCE_ROOT } from '../../src/worker/workflow-bundle';
import { sessionRef, sessionWorkflowId } from '../../src/session-secret';
import type { TenantClient } from '../../src/tenants/registry';
import { deviceClientWorkflowId, webhookOutboxWorkflowId } from '../../src/contract/workflow-ids';
import { FlowCatalog } from '../../src/flows/catalog';
import { decideReviewUpdate, reviewQuery } from '../../src/contract/review';
import { completeAttestr, IDENTITY, kycAtAadhaar, runConsentOnly, runKycBasic, BANK } from './flows';
import { eventually, reviewSecret, sessionSecret, type Stack } from './stack';

type History = temporal.api.history.v1.IHistory;

export interface NamedHistory {
  name: string;
  history: History;
}

/** The runs that record test/histories; they also write session-replay-epoch.txt there. */
export const RECORD_HISTORIES_COMMAND =
  'RECORD_HISTORIES=1 make test JEST_ARGS="test/session-providers.test.ts test/session-durability.test.ts test/webhooks-events.test.ts test/forged-updates.test.ts test/replay-gate.test.ts"';

/** The recorded histories (test/histories), replayed against every change. */
export const HISTORIES = join(__dirname, '..', 'histories');
/** The SESSION_REPLAY_EPOCH the session histories were recorded at (written when they are). */
export const RECORDED_EPOCH = Number(readFileSync(join(HISTORIES, 'session-replay-epoch.txt'), 'utf8').trim());

export function recordedHistories(): NamedHistory[] {
  return readdirSync(HISTORIES)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'))) }));
}

/** Whose history it is: sessions are pinned to their build, every other type auto-upgrades. */
export function isSessionHistory(history: History): boolean {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name === 'sessionWorkflow';
}

const PATCH_ADVICE =
  "guard the change with patched('<a name for it>') (runs that started before it keep the old path), then deprecatePatch once no such run is left";

/** What a failure of the gate says: which histories, and what to do about them. */
function gateFailure(failures: Array<{ name: string; session: boolean; error: Error }>, recordedOn: string): Error {
  const lines = failures.map(({ name, error }) => `  ${name}: ${error.message.split('\n')[0]}`);
  const advice: string[] = [];
  if (failures.some((f) => f.session)) {
    advice.push(
      'A session history: sessions already running would fail like this once this code is deployed. Do one of:',
      `  - ${PATCH_ADVICE};`,
      '  - if it cannot be patched, declare it: bump SESSION_REPLAY_EPOCH in src/workflows/versioning.ts by one, with a line ' +
        "saying why. Sessions are pinned to their build, so the previous build's sessions then need not replay here, but they " +
        'keep needing their build: ship it only as a new Worker Deployment Version and keep the old build\'s workers until ' +
        '`tsx scripts/deploy.ts status <old build id>` says 0 (docs/guides/deploying.md); a restart (make start, compose, ' +
        `make cluster) leaves them pinned instead of handing them over. Then re-record the session histories: ${RECORD_HISTORIES_COMMAND}.`,
    );
  }
  if (failures.some((f) => !f.session)) {
    advice.push(
      'A device-client, webhook-outbox or shredder history: these are auto-upgrade, they move to every new build at their next ' +
        'task and replay their history there, so no SESSION_REPLAY_EPOCH bump excuses this. ' +
        `${PATCH_ADVICE[0].toUpperCase()}${PATCH_ADVICE.slice(1)}.`,
    );
  }
  return new Error(`replay gate: histories recorded on ${recordedOn} do not replay on this code:\n${lines.join('\n')}\n${advice.join('\n')}`);
}

export interface ReplayCheck {
  histories: NamedHistory[];
  /** The build they were recorded on (for the message) and the SESSION_REPLAY_EPOCH its code declares. */
  recordedOn: { label: string; sessionReplayEpoch: number };
  /** The code they must replay on, and the SESSION_REPLAY_EPOCH it declares. */
  bundlePath: string;
  sessionReplayEpoch: number;
  dataConverter?: ReplayWorkerOptions['dataConverter'];
}

export interface ReplayOutcome {
  replayed: string[];
  /** Session histories that do not replay, excused by a SESSION_REPLAY_EPOCH bump. */
  excusedByBump: string[];
}

/** The gate's check: every history replays, but for session histories a declared bump excuses. */
export async function checkReplay({ histories, recordedOn, bundlePath, sessionReplayEpoch, dataConverter }: ReplayCheck): Promise<ReplayOutcome> {
  if (sessionReplayEpoch < recordedOn.sessionReplayEpoch) {
    throw new Error(`replay gate: SESSION_REPLAY_EPOCH went down from ${recordedOn.sessionReplayEpoch} (${recordedOn.label}) to ${sessionReplayEpoch}: it only ever goes up`);
  }
  const bumped = sessionReplayEpoch > recordedOn.sessionReplayEpoch;
  const sessions = new Set(histories.filter((h) => isSessionHistory(h.history)).map((h) => h.name));
  const outcome: ReplayOutcome = { replayed: [], excusedByBump: [] };
  const failures: Array<{ name: string; session: boolean; error: Error }> = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: bundlePath }, ...(dataConverter ? { dataConverter } : {}) }, histories.map((h) => ({ workflowId: h.name, history: h.history })))) {
    const session = sessions.has(result.workflowId);
    if (!result.error) outcome.replayed.push(result.workflowId);
    else if (session && bumped) outcome.excusedByBump.push(result.workflowId);
    else failures.push({ name: result.workflowId, session, error: result.error });
  }
  if (failures.length > 0) throw gateFailure(failures, recordedOn.label);
  return outcome;
}

/** A session worker on `stack`'s task queue running `bundlePath`, sending webhooks for `clients`, until `stop()`. */
export async function startBuildWorker(stack: Stack, bundlePath: string, clients: TenantClient[] = []): Promise<{ stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address: stack.config.temporal.address });
  const worker = await createSessionWorker(stack.config, { connection, clients, encryption: stack.encryption, sessionSecret, reviewSecret, workflowBundle: { codePath: bundlePath } });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await worker.close();
      await connection.close();
    },
  };
}

/**
 * kyc-basic through its review stage: a typed name the national ID's differs from, approved the
 * way the codec server's route decides (the operator named, REVIEW_SECRET's proof).
 */
async function runKycBasicReview(stack: Stack, tag: string): Promise<string> {
  const { sessionId, identity, handshakeId, workflowId } = await kycAtAadhaar(stack, tag, { ...IDENTITY, name: 'Someone Else Entirely' });
  await completeAttestr(stack, handshakeId);
  const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
  const handle = stack.client.workflow.getHandle(workflowId);
  const { stage, entry } = await handle.query(reviewQuery);
  const args = { stage: stage!, entry, decision: 'approve' as const, operator: 'gate-reviewer' };
  await handle.executeUpdate(decideReviewUpdate, { args: [{ ...args, proof: reviewSecret.proof(workflowId, args) }], updateId: `review-${tag}` });
  await stack.gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
  return sessionId;
}

/** How the gate runs each sample flow in flows/ to its end: a flow added there needs a driver here. */
const SAMPLE_FLOW_DRIVERS: Record<string, (stack: Stack, tag: string) => Promise<string>> = {
  'consent-only': (stack, tag) => runConsentOnly(stack, tag),
  'kyc-basic': async (stack, tag) => (await runKycBasic(stack, tag)).sessionId,
};

/** More runs of a sample flow, for a path its driver does not take, once the flow has it. */
const MORE_SAMPLE_RUNS: Array<{ name: string; applies(catalog: FlowCatalog): boolean; run(stack: Stack, tag: string): Promise<string> }> = [
  {
    name: 'kyc-basic-review',
    applies: (catalog) => {
      const resolved = catalog.resolve('kyc-basic', null);
      return resolved.ok && Object.values(resolved.definition.machine.states).some((state) => (state.meta as { stage?: string } | undefined)?.stage === 'review');
    },
    run: runKycBasicReview,
  },
];

export const FLOWS_DIR = join(SOURCE_ROOT, 'flows');

/** The flow ids of a flows directory (flows/ by default). */
export function sampleFlows(flowsDir = FLOWS_DIR): string[] {
  return readdirSync(flowsDir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.replace(/\.json$/, ''))
    .sort();
}

/** The session histories recordFreshHistories makes with the flows of `flowsDir`: one per sample flow, and more runs where they apply. */
export function sampleHistoryNames(flowsDir = FLOWS_DIR): string[] {
  const catalog = FlowCatalog.load(flowsDir);
  return [...sampleFlows(flowsDir), ...MORE_SAMPLE_RUNS.filter((more) => more.applies(catalog)).map((more) => more.name)];
}

/** `stack` with the flows of `flowsDir`: what the api of the build they came with could start sessions with. */
function withFlows(stack: Stack, flowsDir: string): Stack {
  const catalog = FlowCatalog.load(flowsDir);
  return {
    ...stack,
    catalog,
    definition(flowId, snapshotId = null) {
      const resolved = catalog.resolve(flowId, snapshotId);
      if (!resolved.ok) throw new Error(`flow ${flowId} in ${flowsDir}: ${resolved.reason}`);
      return resolved.definition;
    },
  };
}

/** A tenant webhook endpoint that takes every delivery; `types` are the event types it got. */
async function startReceiver(): Promise<{ url: string; types: string[]; close(): Promise<void> }> {
  const types: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      types.push(String((JSON.parse(body) as { type?: unknown }).type));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    types,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Fresh histories recorded on the build of `bundlePath`: every sample flow of `flowsDir` (the
 * flows that build came with: a build never ran a flow its api could not accept) run to its
 * result, kyc-basic through review where it has one, a session with webhooks and its webhook outbox (up to the consumed event's delivery),
 * and a device client's whole life. Sessions are not archived: archiving destroys the data key
 * their payloads are encrypted with, and a replay has to decode them.
 */
export async function recordFreshHistories(given: Stack, bundlePath: string, tag: string, flowsDir = FLOWS_DIR): Promise<NamedHistory[]> {
  const stack = withFlows(given, flowsDir);
  const missing = sampleFlows(flowsDir).filter((flowId) => !SAMPLE_FLOW_DRIVERS[flowId]);
  if (missing.length > 0) throw new Error(`replay gate: no driver for ${missing.map((f) => `flows/${f}.json`).join(', ')}: add one to SAMPLE_FLOW_DRIVERS in test/helpers/replay-gate.ts`);
  const receiver = await startReceiver();
  const hooks: TenantClient = { id: 'tenant-gate-hooks', secret: 'tenant-gate-hooks-secret-0123', webhookUrl: receiver.url, webhookSecret: `whsec_${randomBytes(32).toString('base64')}` };
  const worker = await startBuildWorker(stack, bundlePath, [hooks]);
  try {
    const workflowIds: Record<string, string> = {};
    const runs = [
      ...sampleFlows(flowsDir).map((flowId) => ({ name: flowId, run: SAMPLE_FLOW_DRIVERS[flowId] })),
      ...MORE_SAMPLE_RUNS.filter((more) => more.applies(stack.catalog)),
    ];
    for (const { name, run } of runs) {
      const sessionId = await run(stack, `${tag}-${name}`);
      expect((await stack.gateway.status(sessionId)).status).toBe('consumed');
      workflowIds[name] = sessionWorkflowId(sessionId);
    }
    const { sessionId } = await stack.gateway.create({ tenantId: hooks.id, tag: `${tag}-webhooks`, webhook: true, definition: stack.definition('consent-only') });
    const launch = await stack.gateway.launch(sessionId);
    await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
    workflowIds['consent-only-webhooks'] = sessionWorkflowId(sessionId);
    workflowIds['webhook-outbox'] = webhookOutboxWorkflowId(sessionRef(sessionId));
    const device = await stack.gateway.createDeviceClient('tenant-a', 3_600_000);
    await stack.gateway.revokeDeviceClient(device.deviceClientId);
    workflowIds['device-client'] = deviceClientWorkflowId(device.deviceClientId);
    await eventually(async () => (receiver.types.includes('session.consumed') ? true : undefined), 30_000, 'the consumed event delivered');
    await eventually(
      async () => ((await stack.client.workflow.getHandle(workflowIds['device-client']).describe()).status.name === 'COMPLETED' ? true : undefined),
      30_000,
      'the revoked device client to complete',
    );
    return await Promise.all(Object.entries(workflowIds).map(async ([name, workflowId]) => ({ name, history: await stack.client.workflow.getHandle(workflowId).fetchHistory() })));
  } finally {
    await worker.stop();
    await receiver.close();
  }
}
