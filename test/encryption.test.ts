/**
 * Issue 14's proof for encryption: a kyc-basic run with distinctive values, on a dev server
 * with a database file. None of the values appears in `temporal workflow show --output json`
 * of any workflow, in the database file's bytes or in the worker's and server's logs; through
 * the codec server the CLI shows them decoded. Namespace-key payloads (memo, summary) hold none
 * of them, so shredding a session's key leaves nothing of the person readable.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { freePort, startDevServer, type DevServer } from '../scripts/dev-server';
import { isEncrypted, payloadKeyId, SHREDDED_MARKER } from '../src/keys/codec';
import { buildCodecServer } from '../src/keys/codec-server';
import { OperatorRegistry } from '../src/operators/registry';
import { newOperatorToken, operatorTokenSha256 } from '../src/operators/tokens';
import { namespaceKeyId, sessionKeyId, type KeyStore } from '../src/keys/key-store';
import { openKeyStore } from '../src/keys/open-store';
import { sessionRef, sessionWorkflowId } from '../src/session-secret';
import { shredWorkflowId } from '../src/contract/workflow-ids';
import { completeAttestr } from './helpers/flows';
import { eventually, startStack, type Stack } from './helpers/stack';
import { scratchAuditTrail } from './helpers/audit';

const PERSON = { name: 'Quintessa Marlowbridge', birthDate: '03-11-1957' };
const ACCOUNT = { accountNumber: '730418265591', ifsc: 'QZXB0007316' };
const VALUES = [PERSON.name, PERSON.birthDate, ACCOUNT.accountNumber, ACCOUNT.ifsc];

const cli = process.env.TEMPORAL_CLI!;
const dir = join('.data', `test-encryption-${process.pid}`);
const dbFile = join(dir, 'temporal.db');
let server: DevServer;
let stack: Stack;
let worker: ChildProcess;
let workerOutput = '';
let codec: FastifyInstance;
let codecKeys: KeyStore;
let codecUrl: string;
let sessionId: string;
const OPERATOR_TOKEN = newOperatorToken();
const viewers = new OperatorRegistry([{ name: 'viewer-1', role: 'viewer', tokenSha256: [operatorTokenSha256(OPERATOR_TOKEN)] }]);
const codecAuth = ['--codec-auth', `Bearer ${OPERATOR_TOKEN}`];

/** The CLI, asynchronously: the codec server it may call runs in this process. */
async function temporal(args: string[], timeout = 0): Promise<string> {
  const { stdout } = await promisify(execFile)(cli, [...args, '--address', server.address, '--namespace', 'default'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout });
  return stdout;
}

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  server = await startDevServer({ cli, port: await freePort(), dbFile, logFile: join(dir, 'temporal.log') });
  stack = await startStack('encryption', {}, { TEMPORAL_ADDRESS: server.address, LOG_LEVEL: 'debug' });
  worker = await stack.spawnWorker();
  worker.stdout?.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  worker.stderr?.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  codecKeys = openKeyStore({ dataDir: stack.config.dataDir, ...stack.config.keys });
  codec = buildCodecServer({ keys: codecKeys, audit: scratchAuditTrail().trail, uiOrigin: 'http://localhost:8233', operators: viewers, allowedHosts: ['127.0.0.1'], defaultNamespace: 'default' });
  await codec.listen({ host: '127.0.0.1', port: 0 });
  codecUrl = `http://127.0.0.1:${(codec.server.address() as AddressInfo).port}`;

  const { gateway } = stack;
  ({ sessionId } = await gateway.create({ tenantId: 'tenant-a', tag: 'REF-encrypted', definition: stack.definition('kyc-basic') }));
  const launch = await gateway.launch(sessionId);
  const identity = await gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: PERSON });
  // The national ID names the same made-up person, so the session goes on without a review.
  await completeAttestr(stack, String(identity.data.handshakeId), { name: PERSON.name });
  const aadhaar = await gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
  const bank = await gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: ACCOUNT });
  expect(bank.data.outcome).toBe('success');
  // Decoded through the encrypting client, the result is all there.
  const { result } = await gateway.result(sessionId);
  expect(result?.identity.input).toEqual(PERSON);
});

let stopped = false;
async function stopAll(): Promise<void> {
  if (stopped) return;
  stopped = true;
  await stack?.stop();
  await server?.stop();
}

afterAll(async () => {
  await codec?.close();
  await codecKeys?.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

test('the session key exists before anything of the session was written, the namespace key beside it', async () => {
  const keyId = sessionKeyId(sessionWorkflowId(sessionId))!;
  expect(keyId).toMatch(/^session-[0-9a-f]{32}$/);
  expect(keyId).not.toContain(sessionId);
  expect(await codecKeys.get(keyId)).toHaveLength(32);
  expect(await codecKeys.get(namespaceKeyId('default'))).toHaveLength(32);
});

test('no workflow in the namespace shows any of the values in `temporal workflow show --output json`', async () => {
  const workflows = JSON.parse(await temporal(['workflow', 'list', '--output', 'json'])) as Array<{ execution: { workflowId: string } }>;
  const ids = workflows.map((w) => w.execution.workflowId);
  expect(ids).toContain(sessionWorkflowId(sessionId));
  for (const id of ids) {
    const shown = await temporal(['workflow', 'show', '--workflow-id', id, '--output', 'json']);
    for (const value of VALUES) expect({ id, found: shown.includes(value) }).toEqual({ id, found: false });
  }
  // The session's payloads are encrypted under its own key; nothing else writes plain payloads.
  const history = JSON.parse(await temporal(['workflow', 'show', '--workflow-id', sessionWorkflowId(sessionId), '--output', 'json'])) as unknown;
  const payloads = collectPayloads(history);
  expect(payloads.length).toBeGreaterThan(10);
  for (const payload of payloads) expect(isEncrypted(payload)).toBe(true);
  // Patch markers, where a workflow has any (the session has none since SESSION_REPLAY_EPOCH 2), hold a patch id only.
  for (const marker of patchMarkerDetails(history)) expect(Object.keys(marker)).toEqual(['patch-data']);
  // The session ended: its end was written to the funnel by the one local activity.
  expect(localActivityMarkerData(history)).toEqual([expect.stringContaining('"recordSessionEnd"')]);
  const keyIds = new Set(payloads.map((payload) => payloadKeyId(payload)));
  expect(keyIds).toEqual(new Set([sessionKeyId(sessionWorkflowId(sessionId)), namespaceKeyId('default')]));
});

test('through the codec server the CLI shows the values decoded; namespace-key payloads hold none of them', async () => {
  const decoded = JSON.parse(await temporal(['workflow', 'show', '--workflow-id', sessionWorkflowId(sessionId), '--output', 'json', '--codec-endpoint', codecUrl, ...codecAuth])) as unknown;
  const decodedPayloads = collectPayloads(decoded);
  // Decoded: plain JSON payloads (the CLI prints their data base64), the person's values inside.
  expect(decodedPayloads.every((payload) => !isEncrypted(payload))).toBe(true);
  const decodedText = decodedPayloads.map((payload) => Buffer.from(payload.data).toString()).join('\n');
  for (const value of VALUES) expect(decodedText).toContain(value);

  const history = JSON.parse(await temporal(['workflow', 'show', '--workflow-id', sessionWorkflowId(sessionId), '--output', 'json'])) as unknown;
  const namespaceKeyed = collectPayloads(history).filter((payload) => payloadKeyId(payload) === namespaceKeyId('default'));
  expect(namespaceKeyed.length).toBeGreaterThan(0);
  const answer = await fetch(`${codecUrl}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', authorization: `Bearer ${OPERATOR_TOKEN}` },
    body: JSON.stringify({ payloads: namespaceKeyed.map(toJson) }),
  });
  const { payloads } = (await answer.json()) as { payloads: Array<{ data: string }> };
  const plain = payloads.map((payload) => Buffer.from(payload.data, 'base64').toString());
  // Memo and summary: identifiers only.
  expect(plain.some((text) => text.startsWith('"Session '))).toBe(true);
  for (const text of plain) for (const value of VALUES) expect(text).not.toContain(value);
});

test('after archive, the CLI with the codec endpoint shows the marker and none of the values, and exits', async () => {
  expect((await stack.gateway.archive(sessionId)).status).toBe('archived');
  const shredder = stack.client.workflow.getHandle(shredWorkflowId(sessionRef(sessionId)));
  await eventually(async () => {
    try {
      return (await shredder.describe()).status.name === 'COMPLETED' ? true : undefined;
    } catch {
      return undefined;
    }
  }, 60_000, 'the shredder to complete');
  expect(await codecKeys.get(sessionKeyId(sessionWorkflowId(sessionId))!)).toBeNull();

  const shown = await temporal(['workflow', 'show', '--workflow-id', sessionWorkflowId(sessionId), '--output', 'json', '--codec-endpoint', codecUrl, ...codecAuth], 60_000);
  for (const value of VALUES) expect({ value, found: shown.includes(value) }).toEqual({ value, found: false });
  const payloads = collectPayloads(JSON.parse(shown) as unknown);
  const texts = payloads.map((payload) => Buffer.from(payload.data).toString());
  expect(texts.filter((text) => text === JSON.stringify(SHREDDED_MARKER)).length).toBeGreaterThan(10);

  // No workflow is left failing its tasks: every one in the namespace has closed, the session
  // and its shredder completed, and no history holds a failed workflow task.
  const workflows = JSON.parse(await temporal(['workflow', 'list', '--output', 'json'])) as Array<{ execution: { workflowId: string }; status: string }>;
  expect(workflows.map((w) => w.execution.workflowId)).toEqual(expect.arrayContaining([sessionWorkflowId(sessionId), shredWorkflowId(sessionRef(sessionId))]));
  for (const { execution } of workflows) {
    const { status } = await stack.client.workflow.getHandle(execution.workflowId).describe();
    const events = (await stack.client.workflow.getHandle(execution.workflowId).fetchHistory()).events ?? [];
    const failedTasks = events.filter((event) => event.workflowTaskFailedEventAttributes).length;
    expect({ id: execution.workflowId, status: status.name, failedTasks }).toEqual({ id: execution.workflowId, status: 'COMPLETED', failedTasks: 0 });
  }
});

test('neither the worker log, the server log nor the raw database file holds any of the values', async () => {
  await stopAll();
  const files = [dbFile, `${dbFile}-wal`, join(dir, 'temporal.log')].filter((file) => existsSync(file));
  expect(files).toContain(dbFile);
  const bytes = Buffer.concat([...files.map((file) => readFileSync(file)), Buffer.from(workerOutput)]);
  expect(bytes.length).toBeGreaterThan(10_000);
  // The database does hold the session (its search attributes are plain), so the file is the right one.
  expect(bytes.includes(Buffer.from('REF-encrypted'))).toBe(true);
  for (const value of VALUES) expect({ value, found: bytes.includes(Buffer.from(value)) }).toEqual({ value, found: false });
});

interface CliPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/**
 * Every payload in a history as the CLI prints it (metadata and data base64), search
 * attributes aside: those stay plain by design (README, Personal data).
 */
function collectPayloads(node: unknown, out: Array<{ metadata: Record<string, Uint8Array>; data: Uint8Array }> = []) {
  if (Array.isArray(node)) {
    for (const item of node) collectPayloads(item, out);
  } else if (node && typeof node === 'object') {
    const candidate = node as CliPayload;
    if (candidate.metadata && typeof candidate.metadata === 'object' && typeof candidate.metadata.encoding === 'string' && typeof candidate.data === 'string') {
      out.push({
        metadata: Object.fromEntries(Object.entries(candidate.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        data: Buffer.from(candidate.data ?? '', 'base64'),
      });
      return out;
    }
    // Patch markers (patched()) are written by the SDK's core, not through the codec: they hold
    // a patch id, never a person's data. patchMarkerPayloads checks exactly that.
    if ((node as { markerName?: unknown }).markerName === 'core_patch') return out;
    // A local activity's marker (the funnel's recordSessionEnd): core writes its `data` (which
    // activity ran, when: localActivityMarkerData checks it); its result went through the codec.
    if ((node as { markerName?: unknown }).markerName === 'core_local_activity') {
      const details = (node as { details?: Record<string, unknown> }).details ?? {};
      for (const [key, value] of Object.entries(details)) if (key !== 'data') collectPayloads(value, out);
      return out;
    }
    for (const [key, value] of Object.entries(node)) if (key !== 'searchAttributes') collectPayloads(value, out);
  }
  return out;
}

function toJson(payload: { metadata: Record<string, Uint8Array>; data: Uint8Array }) {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(payload.data).toString('base64'),
  };
}

/** The details of every patch marker in a history, each checked to hold a patch id and nothing else. */
function patchMarkerDetails(node: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(node)) {
    for (const item of node) patchMarkerDetails(item, out);
  } else if (node && typeof node === 'object') {
    const marker = node as { markerName?: unknown; details?: Record<string, { payloads?: CliPayload[] }> };
    if (marker.markerName === 'core_patch' && marker.details) {
      for (const payload of marker.details['patch-data']?.payloads ?? []) {
        const decoded = JSON.parse(Buffer.from(payload.data ?? '', 'base64').toString()) as { id?: unknown };
        expect(decoded.id).toMatch(PATCH_ID);
      }
      out.push(marker.details);
      return out;
    }
    for (const value of Object.values(node)) patchMarkerDetails(value, out);
  }
  return out;
}

/** The `data` of each local activity marker, as core wrote it (plain JSON: the activity's id, type, attempt and times). */
function localActivityMarkerData(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) localActivityMarkerData(item, out);
  } else if (node && typeof node === 'object') {
    const marker = node as { markerName?: unknown; details?: Record<string, { payloads?: CliPayload[] }> };
    if (marker.markerName === 'core_local_activity' && marker.details) {
      for (const payload of marker.details.data?.payloads ?? []) out.push(Buffer.from(payload.data ?? '', 'base64').toString());
      return out;
    }
    for (const value of Object.values(node)) localActivityMarkerData(value, out);
  }
  return out;
}

/** The shape of the ids the workflow code passes to patched(). */
const PATCH_ID = /^[a-z0-9-]+$/;
