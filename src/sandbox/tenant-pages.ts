/**
 * Stand-ins for a tenant's own side, so a bare `make start` shows webhooks and returns: a
 * webhook inbox that checks each delivery's Standard Webhooks signature, and the page a user
 * returns to from the hosted page. The development client points at both (src/util/tenant-pages.ts).
 *
 * The inbox verifies with the published `standardwebhooks` library, not with our signing code,
 * so a signing bug shows as "not verified". It answers 204 to a verified delivery and 401 to
 * any other, as a real receiver would, so a refused delivery's retries show here too. Deliveries
 * are kept in memory (the newest MAX_DELIVERIES) and are gone when the sandbox restarts.
 *
 * Pages: HTML with every value escaped, no scripts, a strict CSP; `/inbox.json` for tests.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { INBOX_PATH, RETURNED_PATH } from '../util/tenant-pages';

export interface TenantPagesOptions {
  /** The `whsec_` secret deliveries are verified with; absent, none verifies. */
  webhookSecret?: string;
}

export interface InboxAttempt {
  /** Unix time in ms. */
  at: number;
  verified: boolean;
  /** Why the signature did not verify. */
  problem?: string;
}

export interface InboxDelivery {
  /** `webhook-id`: the same on every retry of one event. */
  webhookId: string;
  type: string | null;
  sessionId: string | null;
  /** Whether the latest attempt verified. */
  verified: boolean;
  attempts: InboxAttempt[];
  /** The latest attempt's body: parsed JSON, or the text when it is not JSON. */
  body: unknown;
}

const MAX_DELIVERIES = 500;
const MAX_ATTEMPTS = 100;
const MAX_BODY_CHARS = 64 * 1024;
const CSS_PATH = '/tenant-pages.css';

const CSP = "default-src 'none'; style-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Every user-facing string of these pages. */
const S = {
  inboxTitle: 'Webhook inbox',
  inboxIntro: "The development client's webhooks arrive here. Each signature is checked with the client's webhookSecret (Standard Webhooks); a delivery that does not verify is refused with 401 and retried by sessionflow.",
  noSecret: 'No webhook secret is configured (SANDBOX_INBOX_WEBHOOK_SECRET), so no delivery can verify.',
  empty: 'No webhook has arrived yet. Create a session with "webhook": true and run it.',
  refresh: 'Refresh',
  json: 'As JSON',
  columns: ['Last attempt', 'Event', 'Session', 'Signature', 'Attempts'],
  verified: 'verified',
  notVerified: 'not verified',
  details: 'Attempts and body',
  attempt: (n: number) => `attempt ${n}`,
  returnedTitle: 'Back from the hosted page',
  returnedIntro: "This page stands in for your app's own page: the hosted page sends the user here (the session's returnUrl) once the flow has ended.",
  returnedNext: 'The result is not in the address: read it from your backend (GET /api/v1/public/flowx/handshake/:id), or take it from the session.consumed webhook.',
  query: 'Query parameters',
  toInbox: 'See the webhooks in the inbox',
};

const CSS = `body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
.ok{color:#11663a;font-weight:600}.bad{color:#a4161a;font-weight:600}pre{white-space:pre-wrap;word-break:break-all;background:#f5f5f5;padding:.5rem}
nav a{margin-right:1rem}`;

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="${CSS_PATH}"></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function sendHtml(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

function time(ms: number): string {
  return new Date(ms).toISOString();
}

function signatureCell(delivery: InboxDelivery): string {
  const last = delivery.attempts[delivery.attempts.length - 1];
  return delivery.verified ? `<span class="ok">${escapeHtml(S.verified)}</span>` : `<span class="bad">${escapeHtml(S.notVerified)}</span>: ${escapeHtml(last.problem ?? '')}`;
}

function inboxHtml(deliveries: InboxDelivery[], secretConfigured: boolean): string {
  const rows = deliveries.map((delivery) => {
    const attempts = delivery.attempts
      .map((attempt, i) => `<li>${escapeHtml(S.attempt(i + 1))}: ${escapeHtml(time(attempt.at))}, ${escapeHtml(attempt.verified ? S.verified : `${S.notVerified} (${attempt.problem ?? ''})`)}</li>`)
      .join('');
    const body = typeof delivery.body === 'string' ? delivery.body : JSON.stringify(delivery.body, null, 2);
    return `<tr><td>${escapeHtml(time(delivery.attempts[delivery.attempts.length - 1].at))}</td><td>${escapeHtml(delivery.type ?? '')}<br><small>${escapeHtml(delivery.webhookId)}</small></td><td>${escapeHtml(delivery.sessionId ?? '')}</td><td>${signatureCell(delivery)}</td><td>${delivery.attempts.length}<details><summary>${escapeHtml(S.details)}</summary><ol>${attempts}</ol><pre>${escapeHtml(body)}</pre></details></td></tr>`;
  });
  const table = rows.length ? `<table><thead><tr>${S.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>` : `<p>${escapeHtml(S.empty)}</p>`;
  return page(
    S.inboxTitle,
    `<p>${escapeHtml(S.inboxIntro)}</p>${secretConfigured ? '' : `<p class="bad">${escapeHtml(S.noSecret)}</p>`}<nav><a href="${INBOX_PATH}">${escapeHtml(S.refresh)}</a><a href="${INBOX_PATH}.json">${escapeHtml(S.json)}</a></nav>${table}`,
  );
}

function returnedHtml(query: Record<string, unknown>): string {
  const entries = Object.entries(query);
  const params = entries.length
    ? `<h2>${escapeHtml(S.query)}</h2><table><tbody>${entries.map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</tbody></table>`
    : '';
  return page(S.returnedTitle, `<p>${escapeHtml(S.returnedIntro)}</p><p>${escapeHtml(S.returnedNext)}</p>${params}<p><a href="${INBOX_PATH}">${escapeHtml(S.toInbox)}</a></p>`);
}

function parseBody(text: string): { body: unknown; type: string | null; sessionId: string | null } {
  try {
    const body = JSON.parse(text) as { type?: unknown; data?: { sessionId?: unknown } };
    return {
      body,
      type: typeof body?.type === 'string' ? body.type : null,
      sessionId: typeof body?.data?.sessionId === 'string' ? body.data.sessionId : null,
    };
  } catch {
    return { body: text.slice(0, MAX_BODY_CHARS), type: null, sessionId: null };
  }
}

export const tenantPages: FastifyPluginAsync<TenantPagesOptions> = async (app, options) => {
  const deliveries = new Map<string, InboxDelivery>();
  const hook = options.webhookSecret ? new Webhook(options.webhookSecret) : null;
  let unnamed = 0;

  const newestFirst = () => [...deliveries.values()].reverse();

  // The signature covers the exact bytes: the inbox takes every body as text, in its own scope.
  await app.register(async (inbox) => {
    inbox.removeAllContentTypeParsers();
    inbox.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_BODY_CHARS * 4 }, (_request, body, done) => done(null, body));
    inbox.post(INBOX_PATH, async (request, reply) => {
      const text = typeof request.body === 'string' ? request.body : '';
      const header = (name: string) => (typeof request.headers[name] === 'string' ? (request.headers[name] as string) : '');
      let problem: string | undefined;
      if (!hook) problem = 'no webhook secret is configured';
      else {
        try {
          hook.verify(text, { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') });
        } catch (err) {
          problem = err instanceof Error ? err.message : 'the signature did not verify';
        }
      }
      const webhookId = header('webhook-id').slice(0, 256) || `(no webhook-id) ${(unnamed += 1)}`;
      const attempt: InboxAttempt = { at: Date.now(), verified: problem === undefined, ...(problem ? { problem } : {}) };
      const existing = deliveries.get(webhookId);
      const delivery: InboxDelivery = { webhookId, ...parseBody(text), verified: attempt.verified, attempts: [...(existing?.attempts ?? []), attempt].slice(-MAX_ATTEMPTS) };
      // Re-inserted, so the most recently attempted delivery is listed first.
      deliveries.delete(webhookId);
      deliveries.set(webhookId, delivery);
      if (deliveries.size > MAX_DELIVERIES) deliveries.delete(deliveries.keys().next().value as string);
      return problem === undefined ? reply.code(204).send() : reply.code(401).send({ message: `the webhook signature did not verify: ${problem}` });
    });
  });

  app.get(INBOX_PATH, async (_request, reply) => sendHtml(reply, inboxHtml(newestFirst(), hook !== null)));
  app.get(`${INBOX_PATH}.json`, async (_request, reply) => reply.header('cache-control', 'no-store').send({ secretConfigured: hook !== null, deliveries: newestFirst() }));
  app.get(RETURNED_PATH, async (request, reply) => sendHtml(reply, returnedHtml((request.query ?? {}) as Record<string, unknown>)));
  app.get(CSS_PATH, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-store').send(CSS));
};
