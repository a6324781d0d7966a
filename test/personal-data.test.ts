/**
 * Issue 14, the workflow half, against the real stack: no live credential (handshake id, nonce,
 * device credential, secret) in any workflow's history; archiving ends with the session's data
 * key destroyed once its workflow closed, while the api still answers the archived session;
 * retention archives a session by itself; a webhook endpoint that is down never delays shredding.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import type { TenantClient } from '../src/tenants/registry';
import { sessionKeyId } from '../src/keys/key-store';
import { nonceHash, sessionRef, sessionWorkflowId } from '../src/session-secret';
import { SessionArchivedAtKey, SessionNumberKey, SessionStatusKey } from '../src/contract/session-search';
import { shredWorkflowId, webhookOutboxWorkflowId } from '../src/contract/workflow-ids';
import { DEVICE_TOKEN_SECRET, startApi, type Api } from './helpers/api';
import { BANK, completeAttestr, IDENTITY } from './helpers/flows';
import { historyText } from './helpers/history-text';
import { eventually, sessionSecret, startStack, TEST_SESSION_SECRET, type Stack } from './helpers/stack';

/** Idempotency keys name the same session in every run, and the key store outlives a run's Temporal. */
const RUN = randomBytes(6).toString('hex');
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** A tenant's webhook endpoint that can be down (503) and verifies every delivery it accepts. */
class Receiver {
  private server!: Server;
  url = '';
  down = false;
  accepted: Array<{ id: string; type: string; data: Record<string, unknown> }> = [];

  async start(): Promise<void> {
    const verifier = new Webhook(WEBHOOK_SECRET);
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (this.down) {
          res.statusCode = 503;
          res.end();
          return;
        }
        verifier.verify(body, req.headers as Record<string, string>); // throws (500) on a bad signature
        const parsed = JSON.parse(body) as { type: string; data: Record<string, unknown> };
        this.accepted.push({ id: String(req.headers['webhook-id']), type: parsed.type, data: parsed.data });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  of(sessionId: string) {
    return this.accepted.filter((d) => d.data.sessionId === sessionId);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const receiver = new Receiver();
let stack: Stack;
let api: Api;
let tenant: TenantClient;
let shortLived: TenantClient;

beforeAll(async () => {
  await receiver.start();
  tenant = { id: 'tenant-pd', secret: 'tenant-pd-secret-0123456789', perSecond: 1000, perDay: 1_000_000, webhookUrl: receiver.url, webhookSecret: WEBHOOK_SECRET };
  shortLived = { ...tenant, id: 'tenant-pd-short', secret: 'tenant-pd-short-secret-0123', retentionSeconds: 5 };
  stack = await startStack('personal-data');
  await stack.startWorker([tenant, shortLived]);
  api = await startApi(stack, [tenant, shortLived]);
});

afterAll(async () => {
  await api?.close();
  await stack?.stop();
  await receiver.stop();
});

/** Everything handed out during the test that would let someone launch a session or submit a step. */
const credentials = new Set<string>([TEST_SESSION_SECRET, DEVICE_TOKEN_SECRET, WEBHOOK_SECRET]);

/**
 * Nonces once their step was taken: the step's update carried each as the proof the session
 * checks, so history may hold them, spent (docs/security/device-binding.md).
 */
const spent = new Set<string>();

function keep<T extends string | null | undefined>(value: T): T {
  if (typeof value === 'string' && value !== '') credentials.add(value);
  return value;
}

async function createSession(client: TenantClient, flow: string, tag: string, headers: Record<string, string> = {}): Promise<{ _id: string; number: string }> {
  const created = await api.call('POST', '/api/v1/public/flowx/handshake', { as: client, headers, body: { flow, snapshot: null, tag, webhook: true } });
  expect({ status: created.status, body: created.body }).toMatchObject({ status: 200 });
  keep(created.body._id);
  return created.body;
}

async function launch(id: string, headers: Record<string, string> = {}): Promise<string> {
  const launched = await api.call('POST', `/v1/handshakes/${id}/launch`, { as: null, headers });
  expect(launched.status).toBe(200);
  return keep(launched.body.nonce as string);
}

async function step(client: TenantClient, id: string, skill: string, nonce: string, name: string, data: unknown, headers: Record<string, string> = {}) {
  const answer = await api.call('POST', `/v1/sessions/${id}/steps`, { as: null, headers, body: { client_id: client.id, skill, nonce, step: name, data } });
  expect(answer.status).toBe(200);
  credentials.delete(nonce);
  spent.add(nonce);
  keep(answer.body.nonce);
  return answer.body;
}

async function consentSession(client: TenantClient, tag: string, headers: Record<string, string> = {}): Promise<string> {
  const { _id } = await createSession(client, 'consent-only', tag, headers);
  await step(client, _id, 'consent-only', await launch(_id), 'consent', { accepted: true });
  return _id;
}

const describeSession = (sessionId: string) => stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).describe();

/** Waits until the session's shredder workflow has completed: its key is destroyed. */
async function shredded(sessionId: string): Promise<void> {
  await eventually(async () => {
    try {
      const { status } = await stack.client.workflow.getHandle(shredWorkflowId(sessionRef(sessionId))).describe();
      return status.name === 'COMPLETED' ? true : undefined;
    } catch {
      return undefined;
    }
  }, 30_000, 'the session to be shredded');
}

/** Expects the session's data key to be gone from the key store itself (no cache in between). */
async function expectKeyDestroyed(sessionId: string): Promise<void> {
  const keyId = sessionKeyId(sessionWorkflowId(sessionId))!;
  expect(await stack.encryption.keys.inner.get(keyId)).toBeNull();
}

test('no handshake id, live nonce, device credential or secret is anywhere in any workflow history', async () => {
  // A kyc-basic run through the api, with webhooks, then archived.
  const kyc = await createSession(tenant, 'kyc-basic', 'REF-pd-kyc');
  let nonce = await launch(kyc._id);
  const identity = await step(tenant, kyc._id, 'kyc-basic', nonce, 'identity', IDENTITY);
  await completeAttestr(stack, String(identity.data.handshakeId));
  const aadhaar = await step(tenant, kyc._id, 'kyc-basic', identity.nonce, 'aadhaar', {});
  nonce = aadhaar.nonce;
  expect((await step(tenant, kyc._id, 'kyc-basic', nonce, 'bank', BANK)).status).toBe('SESSION_COMPLETED');
  // Read while its key still decodes it; after the archive below it is shredded.
  const kycBeforeArchive = await historyText(stack.encryption.codec, await stack.client.workflow.getHandle(sessionWorkflowId(kyc._id)).fetchHistory());
  expect((await api.call('POST', `/api/v1/public/flowx/handshake/${kyc._id}/archive`, { as: tenant })).status).toBe(200);

  // A device client's session (its credential in a header) and an idempotent create.
  const device = await api.call('POST', `/v1/client?client_id=${tenant.id}&_is_native=true`, { as: null });
  const bearer = keep(String(device.headers.authorization).replace(/^Bearer /, ''));
  const auth = { authorization: `Bearer ${bearer}` };
  const deviceSession = await api.call('POST', '/v1/sessions', {
    as: null,
    headers: auth,
    body: { tenant_user_id: 'REF-pd-device', client_id: tenant.id, client_app_key: tenant.secret, skill: 'consent-only' },
  });
  expect(deviceSession.status).toBe(200);
  keep(deviceSession.body.session_id);
  keep(deviceSession.body.nonce);
  await step(tenant, deviceSession.body.session_id, 'consent-only', deviceSession.body.nonce, 'consent', { accepted: true }, auth);
  expect((await api.call('GET', '/v1/client', { as: null, headers: auth })).body.client.sessions).toEqual([
    { id: deviceSession.body.session_id, status: 'consumed', step: null },
  ]);
  await consentSession(tenant, 'REF-pd-idem', { 'idempotency-key': `pd-key-1-${RUN}` });

  await shredded(kyc._id);
  await expectKeyDestroyed(kyc._id);
  await eventually(async () => (receiver.of(kyc._id).some((d) => d.type === 'session.archived') ? true : undefined), 30_000, 'session.archived');

  const executions: WorkflowExecutionInfo[] = [];
  for await (const execution of stack.client.workflow.list({ query: `TaskQueue = '${stack.taskQueue}'` })) executions.push(execution);
  // Sessions, their outbox and shredder, the device client: all of them are searched.
  const types = new Set(executions.map((e) => e.type));
  expect([...types].sort()).toEqual(['deviceClientWorkflow', 'sessionWorkflow', 'shredSessionWorkflow', 'webhookOutboxWorkflow']);
  let text = kycBeforeArchive;
  for (const execution of executions) {
    const history = await stack.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    text += `${execution.workflowId}\n${await historyText(stack.encryption.codec, history)}\n`;
  }
  // The search reads decoded payloads: what the workflows do keep is there.
  expect(kycBeforeArchive).toContain(IDENTITY.birthDate);
  expect(text).toContain(kyc.number);
  expect(text).toContain(sessionRef(kyc._id));
  expect(text).toContain('sid1.');
  expect(text).toContain(nonceHash(deviceSession.body.nonce));
  expect([...credentials].filter((credential) => text.includes(credential))).toEqual([]);
  // 3 secrets, 2 + 1 + 2 handshake ids, 1 device credential; the 3 + 1 + 1 nonces were all spent.
  expect(credentials.size).toBe(9 - 2);
  expect(spent.size).toBe(5);
});

test('an archived session answers from search attributes and memo, and so does an idempotent create that finds it', async () => {
  const id = await consentSession(tenant, 'REF-pd-archived', { 'idempotency-key': `pd-key-archived-${RUN}` });
  const first = await api.call('GET', `/api/v1/public/flowx/handshake/${id}`, { as: tenant });
  const archived = await api.call('POST', `/api/v1/public/flowx/handshake/${id}/archive`, { as: tenant });
  expect(archived.status).toBe(200);
  await shredded(id);
  await expectKeyDestroyed(id);

  const description = await describeSession(id);
  expect(description.status.name).toBe('COMPLETED');
  const attributes = description.typedSearchAttributes;
  expect(attributes.get(SessionStatusKey)).toBe('archived');
  expect(attributes.get(SessionNumberKey)).toBe(first.body.number);
  const archivedAt = attributes.get(SessionArchivedAtKey)!.getTime();
  expect(archivedAt).toBe(archived.body.archived);

  const answer = await api.call('GET', `/api/v1/public/flowx/handshake/${id}`, { as: tenant });
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({
    _id: id,
    number: first.body.number,
    tag: 'REF-pd-archived',
    status: 'archived',
    archived: archivedAt,
    result: null,
    resultSignature: null,
    consumed: true,
    outcome: 'success',
    expiry: first.body.expiry,
  });
  // Another client still sees nothing.
  expect((await api.call('GET', `/api/v1/public/flowx/handshake/${id}`, { as: shortLived })).status).toBe(403);
  // The device is told it was archived, although nothing can be encoded for it any more.
  const lateStep = await api.call('POST', `/v1/sessions/${id}/steps`, {
    as: null,
    // A nonce of this session (one from anywhere else is invalid_nonce before the session is asked).
    body: { client_id: tenant.id, skill: 'consent-only', nonce: sessionSecret.nextNonce(id, 'step-late'), step: 'consent', data: { accepted: true } },
  });
  expect(lateStep).toMatchObject({ status: 409, body: { code: 'session_archived' } });
  const lateLaunch = await api.call('POST', `/v1/handshakes/${id}/launch`, { as: null });
  expect(lateLaunch).toMatchObject({ status: 409, body: { code: 'session_archived' } });

  const again = await api.call('POST', '/api/v1/public/flowx/handshake', {
    as: tenant,
    headers: { 'idempotency-key': `pd-key-archived-${RUN}` },
    body: { flow: 'consent-only', snapshot: null, tag: 'REF-pd-archived', webhook: true },
  });
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ _id: id, number: first.body.number });
});

test('retention: a client with retentionSeconds 5 sees its consumed session archive and shred itself', async () => {
  const id = await consentSession(shortLived, 'REF-pd-retention');
  await shredded(id);
  await expectKeyDestroyed(id);
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(id));
  const events = (await handle.fetchHistory()).events ?? [];
  // The durable timer of the client's retention fired, and nothing but it archived the session.
  const timer = events.find((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds) === 5);
  expect(timer).toBeDefined();
  expect(events.some((e) => e.timerFiredEventAttributes && String(e.timerFiredEventAttributes.startedEventId) === String(timer!.eventId))).toBe(true);
  expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'archive')).toEqual([]);
  expect((await handle.describe()).typedSearchAttributes.get(SessionStatusKey)).toBe('archived');
  await eventually(async () => (receiver.of(id).some((d) => d.type === 'session.archived') ? true : undefined), 30_000, 'session.archived');
  expect((await api.call('GET', `/api/v1/public/flowx/handshake/${id}`, { as: shortLived })).body).toMatchObject({ status: 'archived', result: null });
});

test('a session whose webhook endpoint is down is shredded at once; its outbox then delivers everything, session.archived included', async () => {
  receiver.down = true;
  try {
    const id = await consentSession(tenant, 'REF-pd-down');
    expect((await api.call('POST', `/api/v1/public/flowx/handshake/${id}/archive`, { as: tenant })).status).toBe(200);
    await shredded(id);
    await expectKeyDestroyed(id);
    // Shredded while every event still waits in the outbox.
    const outbox = stack.client.workflow.getHandle(webhookOutboxWorkflowId(sessionRef(id)));
    expect((await outbox.describe()).status.name).toBe('RUNNING');
    expect(receiver.of(id)).toEqual([]);
    receiver.down = false;
    await outbox.result();
    const delivered = receiver.of(id);
    expect(delivered.map((d) => d.type)).toEqual(['session.created', 'session.in_progress', 'session.step_completed', 'session.consumed', 'session.archived']);
    expect(delivered.map((d) => d.id)).toEqual([1, 2, 3, 4, 5].map((n) => `${id}.${n}`));
    // Archived before it was sent: the consumed event has no result left to carry.
    expect(delivered[3].data).toMatchObject({ sessionId: id, outcome: 'success', result: null, resultSignature: null });
    expect(delivered[4].data).toMatchObject({ sessionId: id, status: 'archived' });
  } finally {
    receiver.down = false;
  }
  // The outbox's retry schedule (5 s, then 15 s) lies between the outage and the deliveries.
}, 120_000);
