/**
 * What the review-stage tests need besides the Stack: the codec server with its reviewers'
 * routes (as src/codec-server.ts wires them) on a free loopback port, one operator of each
 * role, a webhook receiver that verifies each delivery, and history readers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { FastifyInstance } from 'fastify';
import { buildCodecServer } from '../../src/keys/codec-server';
import { OperatorRegistry } from '../../src/operators/registry';
import { newOperatorToken, operatorTokenSha256 } from '../../src/operators/tokens';
import { serveReviews } from '../../src/operator-api/reviews';
import type { AuditTrail } from '../../src/audit/trail';
import { scratchAuditTrail } from './audit';
import { reviewSecret, type Stack } from './stack';
import { rawCall } from './api';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export const OPERATOR_TOKENS = { reviewer: newOperatorToken(), other: newOperatorToken(), viewer: newOperatorToken() };

export interface Reviewers {
  url: string;
  /** GET or POST on the codec server as `as` (a key of OPERATOR_TOKENS), or with no credential. */
  call(method: 'GET' | 'POST', path: string, as: keyof typeof OPERATOR_TOKENS | null, body?: unknown): ReturnType<typeof rawCall>;
  close(): Promise<void>;
  /** The trail the codec server records each review view and decision in. */
  audit: AuditTrail;
}

export async function startReviewers(stack: Stack): Promise<Reviewers> {
  const operators = new OperatorRegistry([
    { name: 'rita', role: 'reviewer', tokenSha256: [operatorTokenSha256(OPERATOR_TOKENS.reviewer)] },
    { name: 'rob', role: 'reviewer', tokenSha256: [operatorTokenSha256(OPERATOR_TOKENS.other)] },
    { name: 'vic', role: 'viewer', tokenSha256: [operatorTokenSha256(OPERATOR_TOKENS.viewer)] },
  ]);
  const audit = scratchAuditTrail('test-review-audit-');
  const app: FastifyInstance = buildCodecServer({
    keys: stack.encryption.keys,
    uiOrigin: 'http://localhost:8233',
    operators,
    allowedHosts: ['127.0.0.1'],
    defaultNamespace: stack.config.temporal.namespace,
    audit: audit.trail,
    routes: (server, context) => serveReviews(server, { ...context, client: async () => stack.client, reviewSecret }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    call: (method, path, as, body) => {
      const headers: Record<string, string> = as ? { authorization: `Bearer ${OPERATOR_TOKENS[as]}` } : {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      return rawCall(url, method, path, headers, body === undefined ? undefined : JSON.stringify(body));
    },
    close: () => app.close(),
    audit: audit.trail,
  };
}

export interface Delivery {
  type: string;
  data: Record<string, unknown>;
}

/** A tenant's webhook endpoint that keeps every delivery whose signature holds. */
export class Receiver {
  private server!: Server;
  url = '';
  accepted: Delivery[] = [];

  constructor(private readonly secret: string) {}

  async start(): Promise<void> {
    const verifier = new Webhook(this.secret);
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        try {
          verifier.verify(body, req.headers as Record<string, string>);
        } catch {
          res.statusCode = 400;
          res.end();
          return;
        }
        this.accepted.push(JSON.parse(body) as Delivery);
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

/** The decideReview updates a history accepted, their arguments decoded. */
export async function acceptedDecisions(stack: Stack, events: HistoryEvent[]): Promise<Array<{ updateId: string; args: Record<string, unknown> }>> {
  const accepted = events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'decideReview');
  return Promise.all(
    accepted.map(async (e) => {
      const request = e.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!;
      const [payload] = await stack.encryption.codec.decode(request.input!.args!.payloads!);
      return { updateId: String(request.meta?.updateId), args: defaultPayloadConverter.fromPayload(payload) as Record<string, unknown> };
    }),
  );
}

/** The refusal type Temporal carried back for an update, or throws when it was not refused. */
export async function refusalOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : err;
    if (cause instanceof ApplicationFailure) return cause.type ?? undefined;
    throw err;
  }
  throw new Error('the update was not refused');
}
