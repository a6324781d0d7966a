/**
 * The consumed event reads the session's result when it is sent. A read that fails is our side's
 * trouble (a worker restarting, Temporal busy), not the receiver's: the attempt fails with its
 * own type and a short retry delay, and nothing is sent half-made.
 */
import { createServer, type Server } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { resultRetryDelayMs, WebhookSender } from '../../src/activities/webhooks';
import { SessionSecret } from '../../src/session-secret';
import type { WebhookEvent } from '../../src/workflows/messages';

let receiver: Server;
let received = 0;
let url: string;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    received += 1;
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
});

afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

const client = { id: 'tenant-a', secret: 'tenant-a-secret', webhookUrl: '', webhookSecret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` };
const consumed: WebhookEvent = { id: 'ref.6', seq: 6, type: 'session.consumed', occurredAt: Date.UTC(2026, 10, 30), data: {} } as WebhookEvent;

function sender(readResult: (sessionId: string) => Promise<unknown>): WebhookSender {
  return new WebhookSender([{ ...client, webhookUrl: url }], readResult, new SessionSecret('unit-test-session-secret-0123456789abcdef'));
}

test('a result that cannot be read fails the attempt as SessionResultUnavailable, retried after 1 s doubling to 1 min; nothing is sent', async () => {
  const before = received;
  const failing = sender(async () => {
    throw Object.assign(new Error('deadline'), { name: 'ServiceError' });
  });
  for (const [attempt, delayMs] of [
    [1, 1_000],
    [2, 2_000],
    [4, 8_000],
    [7, 60_000],
    [30, 60_000],
  ]) {
    const failure = await failing.deliver('tenant-a', consumed, { sessionId: 'DSsession', attempt }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'SessionResultUnavailable', nonRetryable: false, nextRetryDelay: delayMs });
    expect((failure as Error).message).not.toContain('DSsession');
  }
  expect(received).toBe(before);
  await failing.close();
});

test('a result that can be read is sent, signed, with the consumed event', async () => {
  const before = received;
  const reading = sender(async () => ({ outcome: 'success' }));
  await expect(reading.deliver('tenant-a', consumed, { sessionId: 'DSsession', attempt: 3 })).resolves.toEqual({ delivered: true, status: 204 });
  expect(received).toBe(before + 1);
  await reading.close();
});

test('the retry delay never goes below 1 s or above 1 min', () => {
  expect(resultRetryDelayMs(0)).toBe(1_000);
  expect(resultRetryDelayMs(6)).toBe(32_000);
  expect(resultRetryDelayMs(1_000)).toBe(60_000);
});
