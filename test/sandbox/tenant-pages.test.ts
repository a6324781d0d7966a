/**
 * The sandbox's stand-ins for a tenant's side (src/sandbox/tenant-pages.ts), over real HTTP: the
 * webhook inbox verifies every delivery's Standard Webhooks signature (our own sender's
 * included), groups retries by webhook-id, refuses what does not verify, and lists it all as an
 * escaped, script-free page and as JSON; the returned page answers.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { Webhook } from 'standardwebhooks';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server';
import { WebhookSender } from '../../src/activities/webhooks';
import { SessionSecret } from '../../src/session-secret';
import type { InboxDelivery } from '../../src/sandbox/tenant-pages';
import type { WebhookEvent } from '../../src/contract/webhook-outbox';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const credentials = { attestr: { clientId: 'c', secret: 's' }, finqware: { clientId: 'c', appKey: 'k' } };
let sandbox: RunningSandbox;
let unverifying: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ ...credentials, inboxWebhookSecret: SECRET });
  unverifying = await startSandbox(credentials);
});

afterAll(async () => {
  await sandbox.close();
  await unverifying.close();
});

function signed(id: string, body: string, secret = SECRET): Record<string, string> {
  const at = new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

async function post(base: string, headers: Record<string, string>, body: string): Promise<number> {
  const answer = await request(`${base}/inbox`, { method: 'POST', headers, body });
  await answer.body.dump();
  return answer.statusCode;
}

async function inbox(base: string): Promise<{ secretConfigured: boolean; deliveries: InboxDelivery[] }> {
  const answer = await request(`${base}/inbox.json`);
  expect(answer.statusCode).toBe(200);
  return (await answer.body.json()) as { secretConfigured: boolean; deliveries: InboxDelivery[] };
}

const event = (type: string, sessionId: string) => JSON.stringify({ type, timestamp: new Date().toISOString(), data: { sessionId } });

test("a delivery signed with the client's secret verifies and is answered 204; a retry of it counts as a second attempt", async () => {
  const body = event('session.created', 'DSretry0000000000000000');
  expect(await post(sandbox.url, signed('DSretry.1', body), body)).toBe(204);
  expect(await post(sandbox.url, signed('DSretry.1', body), body)).toBe(204);
  const delivery = (await inbox(sandbox.url)).deliveries.find((d) => d.webhookId === 'DSretry.1');
  expect(delivery).toMatchObject({ type: 'session.created', sessionId: 'DSretry0000000000000000', verified: true, body: JSON.parse(body) });
  expect(delivery!.attempts).toEqual([
    { at: expect.any(Number), verified: true },
    { at: expect.any(Number), verified: true },
  ]);
});

test('sessionflow\'s own webhook sender is verified by the inbox', async () => {
  const sender = new WebhookSender(
    [{ id: 'dev-client', secret: 'dev-client-secret-0123456789', webhookUrl: `${sandbox.url}/inbox`, webhookSecret: SECRET }],
    async () => null,
    new SessionSecret('a-session-secret-for-this-test-0123456789'),
  );
  try {
    const created: WebhookEvent = { id: 'ref.1', seq: 1, type: 'session.created', occurredAt: Date.now(), data: { status: 'created' } };
    const outcome = await sender.deliver('dev-client', created, { sessionId: 'DSsender000000000000000' });
    expect(outcome).toEqual({ delivered: true, status: 204 });
  } finally {
    await sender.close();
  }
  const delivery = (await inbox(sandbox.url)).deliveries.find((d) => d.webhookId === 'DSsender000000000000000.1');
  expect(delivery).toMatchObject({ type: 'session.created', sessionId: 'DSsender000000000000000', verified: true });
});

test('a wrong signature, a changed body or missing headers do not verify: 401, listed as not verified with the reason', async () => {
  const body = event('session.consumed', 'DSforged000000000000000');
  const other = `whsec_${randomBytes(32).toString('base64')}`;
  expect(await post(sandbox.url, signed('DSforged.1', body, other), body)).toBe(401);
  expect(await post(sandbox.url, signed('DSforged.2', body), body.replace('consumed', 'expired'))).toBe(401);
  expect(await post(sandbox.url, { 'content-type': 'application/json', 'webhook-id': 'DSforged.3' }, body)).toBe(401);
  const { deliveries } = await inbox(sandbox.url);
  const byId = (id: string) => deliveries.find((d) => d.webhookId === id)!;
  expect(byId('DSforged.1')).toMatchObject({ verified: false, attempts: [{ verified: false, problem: 'No matching signature found' }] });
  expect(byId('DSforged.2')).toMatchObject({ verified: false, type: 'session.expired', attempts: [{ verified: false, problem: 'No matching signature found' }] });
  expect(byId('DSforged.3')).toMatchObject({ verified: false, attempts: [{ verified: false, problem: 'Missing required headers' }] });
});

test('without a secret nothing verifies, and the page says why', async () => {
  const body = event('session.created', 'DSnosecret0000000000000');
  expect(await post(unverifying.url, signed('DSnosecret.1', body), body)).toBe(401);
  const listed = await inbox(unverifying.url);
  expect(listed.secretConfigured).toBe(false);
  expect(listed.deliveries[0]).toMatchObject({ webhookId: 'DSnosecret.1', verified: false });
  const page = await (await request(`${unverifying.url}/inbox`)).body.text();
  expect(page).toContain('SANDBOX_INBOX_WEBHOOK_SECRET');
});

test('the inbox page escapes everything it received, runs no script and sends a strict CSP', async () => {
  const hostile = '<script>alert(1)</script>';
  const body = JSON.stringify({ type: hostile, data: { sessionId: '"><img src=x onerror=alert(1)>' } });
  await post(sandbox.url, signed('DShostile.1', body), body);
  const answer = await request(`${sandbox.url}/inbox`);
  const page = await answer.body.text();
  expect(answer.statusCode).toBe(200);
  expect(answer.headers['content-type']).toContain('text/html');
  expect(answer.headers['content-security-policy']).toBe("default-src 'none'; style-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  expect(page).not.toMatch(/<script|<img|onerror=alert\(1\)>/i);
  expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  expect(page).toContain('DSretry.1');
  expect(page).toContain('verified');
});

test('the returned page answers with its own escaped query and a link to the inbox', async () => {
  const answer = await request(`${sandbox.url}/returned?tag=%3Cb%3EREF-1%3C%2Fb%3E`);
  const page = await answer.body.text();
  expect(answer.statusCode).toBe(200);
  expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
  expect(page).toContain('Back from the hosted page');
  expect(page).toContain('&#60;b&#62;REF-1&#60;/b&#62;');
  expect(page).not.toContain('<b>');
  expect(page).toContain('href="/inbox"');
  const css = await request(`${sandbox.url}/tenant-pages.css`);
  expect(css.headers['content-type']).toContain('text/css');
  await css.body.dump();
});
