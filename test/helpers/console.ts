/**
 * The codec server as src/codec-server.ts wires it (reviewers' routes and the console, one
 * ReviewDesk), on a free loopback port, with one operator of each role, and what the console's
 * Chromium tests do alike: signing in, reading the CSRF token a page's forms carry.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildCodecServer } from '../../src/keys/codec-server';
import { OperatorRegistry } from '../../src/operators/registry';
import { newOperatorToken, operatorTokenSha256 } from '../../src/operators/tokens';
import { ReviewDesk, serveReviews } from '../../src/operator-api/reviews';
import { serveConsole } from '../../src/console/routes';
import { CSRF_COOKIE } from '../../src/console/csrf';
import type { FunnelSource } from '../../src/funnel/report';
import type { AuditTrail } from '../../src/audit/trail';
import { scratchAuditTrail } from './audit';
import { reviewSecret, type Stack } from './stack';

export const CONSOLE_OPERATORS = {
  ada: { role: 'admin', token: newOperatorToken() },
  rita: { role: 'reviewer', token: newOperatorToken() },
  vic: { role: 'viewer', token: newOperatorToken() },
} as const;
export type ConsoleOperator = keyof typeof CONSOLE_OPERATORS;

/** What the console links the Temporal UI as. */
export const TEMPORAL_UI = 'http://localhost:8233';

export interface ConsoleServer {
  url: string;
  audit: AuditTrail;
  close(): Promise<void>;
}

export async function startConsole(stack: Stack, funnel?: FunnelSource): Promise<ConsoleServer> {
  const operators = new OperatorRegistry(
    Object.entries(CONSOLE_OPERATORS).map(([name, { role, token }]) => ({ name, role, tokenSha256: [operatorTokenSha256(token)] })),
  );
  const audit = scratchAuditTrail('test-console-audit-');
  const app: FastifyInstance = buildCodecServer({
    keys: stack.encryption.keys,
    uiOrigin: TEMPORAL_UI,
    operators,
    allowedHosts: ['127.0.0.1'],
    defaultNamespace: stack.config.temporal.namespace,
    audit: audit.trail,
    routes: (server, context) => {
      const reviews = { ...context, client: async () => stack.client, reviewSecret };
      const desk = new ReviewDesk(reviews);
      serveReviews(server, reviews, desk);
      serveConsole(server, { ...context, client: async () => stack.client, reviews: desk, temporalUiUrl: TEMPORAL_UI, namespace: stack.config.temporal.namespace, ...(funnel ? { funnel } : {}) });
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, audit: audit.trail, close: () => app.close() };
}

/** Signs in on the console's sign-in page with the operator's token, as a person would, and lands on `path`. */
export async function signIn(page: Page, url: string, as: ConsoleOperator, path = '/console/find'): Promise<void> {
  await page.goto(`${url}${path}`);
  await page.getByRole('heading', { level: 1, name: 'Sign in to the console' }).waitFor();
  await page.getByLabel('Operator token').fill(CONSOLE_OPERATORS[as].token);
  await page.getByLabel('Operator token').press('Enter');
  await page.waitForURL((target) => target.pathname === path.split('?')[0]);
}

/** The token the console's forms carry in this browser: the SHA-256 of its CSRF cookie (which the test, unlike a page, can read). */
export async function formTokenOf(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === CSRF_COOKIE);
  if (!cookie) throw new Error('no console CSRF cookie in this browser');
  return createHash('sha256').update(cookie.value).digest('base64url');
}
