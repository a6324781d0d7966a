/**
 * Webhooks out and backend events in, against the real stack: a receiver that verifies every
 * delivery with the published `standardwebhooks` library, an outage it recovers from, a 410
 * that stops deliveries, and the three event rules.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import { WorkflowNotFoundError } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { TenantClient } from '../src/tenants/registry';
import type { FlowMachine } from '../src/flows/core/types';
import { verifyResultSignature } from '../src/util/result-signature';
import { startApi, TENANT_A as TENANT_PLAIN, type Api } from './helpers/api';
import { scratchAuditTrail } from './helpers/audit';
import { inlineFlow } from './helpers/flows';
import { recordingOf } from './helpers/record-history';
import { eventually, sessionClosed, startStack, type Stack } from './helpers/stack';
import { sessionRef } from '../src/session-secret';
import { webhookOutboxWorkflowId } from '../src/contract/workflow-ids';

interface Delivery {
  id: string;
  type: string;
  body: { type: string; timestamp: string; data: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A tenant's webhook endpoint: answers each attempt with the next planned status, then 200. */
class Receiver {
  private server!: Server;
  url = '';
  attempts = 0;
  plan: Array<{ status: number; retryAfter?: string }> = [];
  accepted: Delivery[] = [];
  rejected = 0;

  constructor(private readonly secret: string) {}

  async start(): Promise<void> {
    const verifier = new Webhook(this.secret);
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.attempts += 1;
        const planned = this.plan.shift();
        if (planned) {
          if (planned.retryAfter) res.setHeader('retry-after', planned.retryAfter);
          res.statusCode = planned.status;
          res.end();
          return;
        }
        try {
          // The library checks the signature and the timestamp's freshness, or throws.
          verifier.verify(body, req.headers as Record<string, string>);
        } catch {
          this.rejected += 1;
          res.statusCode = 400;
          res.end();
          return;
        }
        const id = String(req.headers['webhook-id']);
        const parsed = JSON.parse(body) as Delivery['body'];
        this.accepted.push({ id, type: parsed.type, body: parsed });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const RULES = [
  { type: 'user.signed_up', action: 'start', flow: 'consent-only' },
  { type: 'document.uploaded', action: 'deliver' },
  { type: 'user.deleted', action: 'archive' },
];

const WAITING: FlowMachine = {
  id: 'await-document',
  initial: 'document',
  states: {
    document: {
      meta: { stage: 'wait', title: 'Waiting for the document from the backend' },
      on: { EVENT: [{ target: 'accepted', guard: { type: 'equals', params: { path: 'data.valid', value: true } } }, { target: 'rejected' }] },
    },
    accepted: { type: 'final', meta: { outcome: 'success' } },
    rejected: { type: 'final', meta: { outcome: 'error' } },
  },
};

let stack: Stack;
let api: Api;
let receiver: Receiver;
let goneReceiver: Receiver;
let tenant: TenantClient;
let goneTenant: TenantClient;
const audit = scratchAuditTrail();

beforeAll(async () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  receiver = new Receiver(secret);
  goneReceiver = new Receiver(secret);
  await receiver.start();
  await goneReceiver.start();
  tenant = { id: 'tenant-hooks', secret: 'tenant-hooks-secret-0123456', webhookUrl: receiver.url, webhookSecret: secret, perSecond: 1000, perDay: 1_000_000 };
  goneTenant = { id: 'tenant-gone', secret: 'tenant-gone-secret-01234567', webhookUrl: goneReceiver.url, webhookSecret: secret, perSecond: 1000, perDay: 1_000_000 };
  stack = await startStack('webhooks', {}, { SESSIONFLOW_EVENT_RULES: JSON.stringify(RULES) });
  await stack.startWorker([tenant, goneTenant]);
  api = await startApi(stack, [tenant, goneTenant, TENANT_PLAIN], stack.catalog, 0, audit.trail);
});

afterAll(async () => {
  await api?.close();
  await stack?.stop();
  await receiver?.stop();
  await goneReceiver?.stop();
});

test('an outage then recovery: every event arrives once per webhook-id, in order, signed; the session never waited', async () => {
  // Down at first (a 503: retried after the schedule's first 5 s), then rate limited twice
  // (Retry-After: 1, honoured instead of the schedule's 15 s and 45 s), then up.
  receiver.plan = [{ status: 503 }, { status: 429, retryAfter: '1' }, { status: 429, retryAfter: '1' }];
  const { sessionId } = await stack.gateway.create({ tenantId: tenant.id, tag: 'REF-hooks', webhook: true, definition: stack.definition('consent-only') });
  const launch = await stack.gateway.launch(sessionId);
  await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
  expect(receiver.accepted).toHaveLength(0); // the whole session ran while the receiver was down

  await eventually(async () => (receiver.accepted.length >= 4 ? true : undefined), 30_000, 'the first four events');
  const recording = await recordingOf(stack, sessionId);
  await stack.gateway.archive(sessionId);
  await eventually(async () => (receiver.accepted.length >= 5 ? true : undefined), 10_000, 'the archived event');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(receiver.rejected).toBe(0);
  expect(receiver.accepted.map((d) => d.type)).toEqual([
    'session.created',
    'session.in_progress',
    'session.step_completed',
    'session.consumed',
    'session.archived',
  ]);
  expect(receiver.accepted.map((d) => d.id)).toEqual([1, 2, 3, 4, 5].map((n) => `${sessionId}.${n}`));
  expect(receiver.attempts).toBe(8); // three refused attempts of the first event, then one each

  const consumed = receiver.accepted[3].body.data;
  expect(consumed).toMatchObject({ sessionId, tag: 'REF-hooks', status: 'consumed', outcome: 'success', result: { consent: { input: { accepted: true }, output: {} } } });
  expect(verifyResultSignature(consumed.result, consumed.resultSignature, tenant.secret)).toBe(true);
  await sessionClosed(stack, sessionId);
  await recording.write('consent-only-webhooks');
  // Each delivery's attempts are in the outbox workflow, for the Temporal UI.
  const outbox = await stack.client.workflow.getHandle(webhookOutboxWorkflowId(sessionRef(sessionId))).fetchHistory();
  const first = outbox.events?.find((e) => e.activityTaskStartedEventAttributes);
  expect(first?.activityTaskStartedEventAttributes?.attempt).toBe(4);
});

test('a session archived before its consumed event went out sends no result', async () => {
  receiver.plan = [{ status: 503 }];
  const before = receiver.accepted.length;
  const { sessionId } = await stack.gateway.create({ tenantId: tenant.id, tag: 'REF-hooks-purged', webhook: true, definition: stack.definition('consent-only') });
  const launch = await stack.gateway.launch(sessionId);
  await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
  await stack.gateway.archive(sessionId);
  await eventually(async () => (receiver.accepted.length >= before + 5 ? true : undefined), 30_000, 'all five events');
  const consumed = receiver.accepted.find((d) => d.id.startsWith(`${sessionId}.`) && d.type === 'session.consumed')!;
  expect(consumed.body.data).toMatchObject({ outcome: 'success', result: null, resultSignature: null });
});

test('webhook: true for a client without an endpoint is refused', async () => {
  const noHooks = await api.call('POST', '/api/v1/public/flowx/handshake', {
    body: { flow: 'consent-only', snapshot: null, tag: 'REF-no-endpoint', webhook: true },
    as: TENANT_PLAIN,
  });
  expect(noHooks).toMatchObject({ status: 400, body: { code: 4001, details: "webhook: true needs the client's webhookUrl and webhookSecret" } });
});

test('a 410 from the endpoint stops all further deliveries', async () => {
  goneReceiver.plan = [{ status: 410 }];
  const { sessionId } = await stack.gateway.create({ tenantId: goneTenant.id, tag: 'REF-gone', webhook: true, definition: stack.definition('consent-only') });
  const launch = await stack.gateway.launch(sessionId);
  await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect(goneReceiver.attempts).toBe(1);
  expect(goneReceiver.accepted).toHaveLength(0);
  expect((await stack.gateway.status(sessionId)).status).toBe('consumed');
});

test("a 429's Retry-After of minutes is waited out in full, as the server schedules it", async () => {
  goneReceiver.plan = [{ status: 429, retryAfter: '150' }];
  const { sessionId } = await stack.gateway.create({ tenantId: goneTenant.id, tag: 'REF-retry-after', webhook: true, definition: stack.definition('consent-only') });
  const outbox = stack.client.workflow.getHandle(webhookOutboxWorkflowId(sessionRef(sessionId)));
  const waiting = await eventually(async () => {
    // The session starts its outbox with its first event.
    const described = await outbox.describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
    const pending = described?.raw.pendingActivities?.[0];
    return pending?.nextAttemptScheduleTime && pending.lastAttemptCompleteTime ? pending : undefined;
  }, 20_000, 'the refused delivery to wait for its next attempt');
  // Longer than the outbox policy's maximum interval (1 min, for our side's failures): the delay an
  // activity's failure asks for overrides it.
  expect(tsToMs(waiting.nextAttemptScheduleTime) - tsToMs(waiting.lastAttemptCompleteTime)).toBe(150_000);
  await outbox.terminate('the test saw the schedule it needed');
});

test('sessions without webhook: true send nothing', async () => {
  const before = receiver.attempts;
  const { sessionId } = await stack.gateway.create({ tenantId: tenant.id, tag: 'REF-quiet', definition: stack.definition('consent-only') });
  await stack.gateway.launch(sessionId);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(receiver.attempts).toBe(before);
});

describe('backend events in', () => {
  const post = (body: Record<string, unknown>) => api.call('POST', '/v1/events', { body, as: tenant });

  test('a start rule creates one session per event id, however often it is delivered', async () => {
    const event = { id: 'evt-signup-1', type: 'user.signed_up', tag: 'REF-evt-start', data: {} };
    const first = await post(event);
    const again = await post(event);
    expect(first).toMatchObject({ status: 200, body: { action: 'start', sessions: [{ created: true }] } });
    expect(again.body.sessions[0]).toEqual({ ...first.body.sessions[0], created: false });
    // The hosted page's url, as a create answers it; it opens.
    expect(first.body.sessions[0].url).toBe(`${api.url}/flow/${first.body.sessions[0]._id}`);
    const page = await request(first.body.sessions[0].url);
    expect(page.statusCode).toBe(200);
    await page.body.dump();
    expect((await stack.gateway.status(first.body.sessions[0]._id)).tag).toBe('REF-evt-start');
    const reused = await post({ ...event, tag: 'REF-other' });
    expect(reused).toMatchObject({ status: 400, body: { code: 4001 } });
  });

  test('a wait stage resumes on its event; the same event again changes nothing', async () => {
    const { sessionId } = await stack.gateway.create({ tenantId: tenant.id, tag: 'REF-evt-wait', definition: inlineFlow(WAITING) });
    const launch = await stack.gateway.launch(sessionId);
    expect(launch.data).toMatchObject({ step: 'document', kind: 'wait' });
    const event = { id: 'evt-doc-1', type: 'document.uploaded', tag: 'REF-evt-wait', data: { valid: true } };
    // The route finds the session through visibility, which follows a moment behind.
    const answer = await eventually(async () => {
      const attempt = await post(event);
      return attempt.status === 200 ? attempt : undefined;
    }, 10_000, 'the waiting session to be found');
    expect(answer.body).toEqual({ id: 'evt-doc-1', action: 'deliver', sessions: [{ _id: sessionId, status: 'consumed' }] });
    const result = await stack.gateway.result(sessionId);
    expect(result).toMatchObject({
      outcome: 'success',
      result: { document: { input: { event: 'document.uploaded', eventId: 'evt-doc-1' }, output: { valid: true } } },
    });
    // Redelivered: either answered from the first delivery or found nothing waiting; nothing moves.
    const again = await post({ ...event, data: { valid: false } });
    expect([200, 409]).toContain(again.status);
    expect(await stack.gateway.result(sessionId)).toEqual(result);
    const recording = await recordingOf(stack, sessionId);
    await stack.gateway.archive(sessionId);
    await sessionClosed(stack, sessionId);
    await recording.write('wait-stage-event');
  });

  test('an event for a tag with nothing waiting is answered clearly and changes nothing', async () => {
    const answer = await post({ id: 'evt-doc-none', type: 'document.uploaded', tag: 'REF-nobody', data: {} });
    expect(answer).toMatchObject({ status: 409, body: { code: 4001, details: 'no session with tag "REF-nobody" is waiting for an event "document.uploaded"' } });
    const unknown = await post({ id: 'evt-x', type: 'no.rule', tag: 'REF-nobody' });
    expect(unknown).toMatchObject({ status: 400, body: { code: 4001 } });
    expect((await api.call('POST', '/v1/events', { body: { id: 'e', type: 'user.deleted', tag: 't' }, as: null })).status).toBe(401);
  });

  test("an archive rule archives the tag's ended sessions", async () => {
    const { sessionId } = await stack.gateway.create({ tenantId: tenant.id, tag: 'REF-evt-archive', definition: stack.definition('consent-only') });
    const launch = await stack.gateway.launch(sessionId);
    await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'consent', input: { accepted: true } });
    const answer = await eventually(async () => {
      const attempt = await post({ id: 'evt-del-1', type: 'user.deleted', tag: 'REF-evt-archive' });
      return attempt.body.sessions?.length ? attempt : undefined;
    }, 10_000, 'the ended session to be found');
    expect(answer.body.sessions).toEqual([{ _id: sessionId, status: 'archived' }]);
    expect((await stack.gateway.status(sessionId)).status).toBe('archived');
    // Audited like the backend's archive route: the tenant, the session's reference, intent then outcome.
    const records = await audit.trail.query({ action: 'session.archive', ref: sessionRef(sessionId) });
    expect(records.map((r) => [r.phase, r.outcome ?? null])).toEqual([
      ['intent', null],
      ['outcome', 'ok'],
    ]);
    expect(records[0]).toMatchObject({ actor: `tenant:${tenant.id}`, detail: { via: 'event' } });
  });
});
