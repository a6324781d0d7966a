/**
 * One delivery attempt and the delay it asks for. A receiver's failure asks for the next point
 * of the documented schedule, counted from the first attempt; a 429 asks for its Retry-After.
 * A session result that cannot be read is our side's trouble: it fails with its own type and
 * leaves the delay to the outbox's short retry policy, and nothing is sent half-made.
 */
import { createServer, type Server } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { receiverRetryDelayMs, WebhookSender, type ReadResult, type ResultReader } from '../../src/activities/webhooks';
import { verifyResultSignature } from '../../src/util/result-signature';
import { SessionSecret } from '../../src/session-secret';
import type { WebhookEvent } from '../../src/contract/webhook-outbox';
import { freePort } from '../../scripts/dev-server';

let receiver: Server;
let url: string;
let received = 0;
let lastBody = '';
/** What the endpoint answers next; 204 when empty. */
const plan: Array<{ status: number; retryAfter?: string }> = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    received += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      lastBody = Buffer.concat(chunks).toString('utf8');
      const next = plan.shift() ?? { status: 204 };
      response.writeHead(next.status, next.retryAfter ? { 'retry-after': next.retryAfter } : {}).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
});

const senders: WebhookSender[] = [];

afterAll(async () => {
  await Promise.all(senders.map((s) => s.close()));
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const client = { id: 'tenant-a', secret: 'tenant-a-secret', webhookSecret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` };
const consumed = { id: 'ref.6', seq: 6, type: 'session.consumed', occurredAt: Date.UTC(2026, 10, 30), data: {} } as WebhookEvent;
const created = { ...consumed, id: 'ref.1', seq: 1, type: 'session.created' } as WebhookEvent;

const secret = new SessionSecret('unit-test-session-secret-0123456789abcdef');
/** A consumed session's result as its workflow answers it, under the seal the api made. */
async function sealedResult(): Promise<ReadResult> {
  const workflowId = 'session-unit';
  const inputDigest = 'digest-of-the-session-input';
  return { workflowId, view: { status: 'consumed', outcome: 'success', result: { consent: { input: { accepted: true }, output: null } }, archived: null, inputDigest, seal: secret.inputSeal(workflowId, inputDigest) } };
}

function sender(readResult: ResultReader = sealedResult, endpoint = url): WebhookSender {
  const made = new WebhookSender([{ ...client, webhookUrl: endpoint }], readResult, secret);
  senders.push(made);
  return made;
}

async function failure(attempt: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

test('the receiver schedule: 5 s, then ×3 each time up to every 6 h, counted from the first attempt', () => {
  const s = 1_000;
  expect(receiverRetryDelayMs(0)).toBe(5 * s);
  expect(receiverRetryDelayMs(3 * s)).toBe(2 * s);
  expect(receiverRetryDelayMs(5 * s)).toBe(15 * s);
  expect(receiverRetryDelayMs(20 * s)).toBe(45 * s);
  expect(receiverRetryDelayMs(65 * s)).toBe(135 * s);
  expect(receiverRetryDelayMs(200 * s)).toBe(405 * s);
  expect(receiverRetryDelayMs(605 * s)).toBe(1_215 * s);
  expect(receiverRetryDelayMs(1_820 * s)).toBe(3_645 * s);
  expect(receiverRetryDelayMs(5_465 * s)).toBe(10_935 * s);
  expect(receiverRetryDelayMs(16_400 * s)).toBe(21_600 * s);
  expect(receiverRetryDelayMs((16_400 + 21_600) * s)).toBe(21_600 * s);
  // An attempt that ends just before a point of the schedule still waits a second.
  expect(receiverRetryDelayMs(5 * s - 1)).toBe(s);
});

test('a non-2xx answer asks for the next point of the schedule after the first attempt, whatever the attempts in between', async () => {
  plan.push({ status: 500 });
  const refused = await failure(sender().deliver('tenant-a', created, { sessionId: 'DSsession', firstScheduledMs: Date.now() - 30_000 }));
  expect(refused).toMatchObject({ type: 'WebhookRefused', nonRetryable: false });
  // 30 s after the first attempt, the next point is at 65 s.
  expect(refused.nextRetryDelay).toBeGreaterThan(30_000);
  expect(refused.nextRetryDelay).toBeLessThanOrEqual(35_000);
});

test("a 429's Retry-After is the delay asked for", async () => {
  plan.push({ status: 429, retryAfter: '7' });
  const limited = await failure(sender().deliver('tenant-a', created, { sessionId: 'DSsession', firstScheduledMs: Date.now() }));
  expect(limited).toMatchObject({ type: 'WebhookRefused', nextRetryDelay: 7_000 });
});

test('an endpoint that cannot be reached asks for the schedule too', async () => {
  const closed = await freePort();
  const unreachable = await failure(sender(undefined, `http://127.0.0.1:${closed}/hook`).deliver('tenant-a', created, { sessionId: 'DSsession', firstScheduledMs: Date.now() }));
  expect(unreachable).toMatchObject({ type: 'WebhookUnreachable', nonRetryable: false });
  expect(unreachable.nextRetryDelay).toBeGreaterThan(0);
  expect(unreachable.nextRetryDelay).toBeLessThanOrEqual(5_000);
});

test("a result that cannot be read fails as SessionResultUnavailable, leaving the delay to the outbox's policy; nothing is sent", async () => {
  const before = received;
  const failing = sender(async () => {
    throw Object.assign(new Error('deadline'), { name: 'ServiceError' });
  });
  const unavailable = await failure(failing.deliver('tenant-a', consumed, { sessionId: 'DSsession', firstScheduledMs: Date.now() }));
  expect(unavailable).toMatchObject({ type: 'SessionResultUnavailable', nonRetryable: false });
  expect(unavailable.nextRetryDelay).toBeUndefined();
  expect(unavailable.message).not.toContain('DSsession');
  expect(received).toBe(before);
});

test('a result that can be read, of a session the api sealed, is sent signed with the consumed event', async () => {
  const before = received;
  await expect(sender().deliver('tenant-a', consumed, { sessionId: 'DSsession', firstScheduledMs: Date.now() })).resolves.toEqual({ delivered: true, status: 204 });
  expect(received).toBe(before + 1);
  const { data } = JSON.parse(lastBody);
  expect(data.result).toEqual({ consent: { input: { accepted: true }, output: null } });
  expect(verifyResultSignature(data.result, data.resultSignature, client.secret)).toBe(true);
});
