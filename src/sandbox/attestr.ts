/**
 * Attestr FlowX sandbox: create handshake, execution result, and a `_device` endpoint that plays
 * the end user finishing the flow. Register with `{ prefix: '/attestr' }`.
 */
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Agent, request as httpRequest } from 'undici';
import { sha256Hex } from '../util/hash';
import { installFaults, type FaultHarness } from './faults';

export interface AttestrSandboxOptions {
  clientId: string;
  secret: string;
  /** Where completion webhooks go, for handshakes created with `webhook: true`. */
  webhookUrl?: string;
}

type StageResult = Record<string, { input: Record<string, unknown>; output: unknown }>;

interface Handshake {
  _id: string;
  number: string;
  digest: string;
  flow: string;
  snapshot: string | null;
  tag: string;
  webhook: boolean;
  expiry: number;
  consumed: boolean;
  result: StageResult | null;
  resultSignature: string | null;
}

const MESSAGES: Record<number, string> = {
  4001: 'Malformed data or missing required parameter values',
  4005: 'Operation could not be performed due to low credits balance',
  4002: 'Flow ID does not exist',
  40034: 'Requested flow is inactive',
  4016: 'Invalid client authorization',
  4031: 'Unauthorized access',
  4035: 'Requested service is not provisioned for your account',
  4039: "Client's IP address is not whitelisted",
  4291: 'Maximum account rate limit exceeded',
  4292: 'Maximum API rate limit exceeded',
  4293: 'Maximum account daily limit exceeded',
  4294: 'Maximum API daily limit exceeded',
  5001: 'Request could not be processed',
};
const DEFAULT_CODE_BY_STATUS: Record<number, number> = { 400: 4001, 401: 4016, 403: 4031, 429: 4291 };

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_EXPIRY_MS = 365 * DAY_MS;
const CREATE_FIELDS = ['flow', 'snapshot', 'tag', 'webhook', 'expiry'];

// Invented sample values modelled on the seed's Aadhaar-style stage; no real person.
const SAMPLE_INPUT = { uuid: '9999xxxx0001', otp: '1xx234', email: null, mobile: null };
const SAMPLE_OUTPUT = {
  name: 'Sandbox Test User',
  birthDate: '01-01-1990',
  gender: 'F',
  state: 'Karnataka',
  zip: '560001',
};

function errorBody(code: number, details?: string): { code: number; message: string; details?: string } {
  return { code, message: MESSAGES[code] ?? MESSAGES[5001], ...(details ? { details } : {}) };
}

function randomBase36(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += randomInt(36).toString(36);
  return out;
}

function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += String(randomInt(10));
  return out;
}

function sign(result: StageResult, secret: string): string {
  return createHmac('sha256', secret).update(JSON.stringify(result)).digest('hex');
}

/** Returns the validation problem of a create-handshake body, or undefined when it is valid. */
function createProblem(body: unknown, now: number): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).filter((key) => !CREATE_FIELDS.includes(key));
  if (unknown.length > 0) return `unknown fields: ${unknown.join(', ')}`;
  if (typeof input.flow !== 'string' || input.flow === '') return 'flow must be a non-empty string';
  if (!('snapshot' in input) || (input.snapshot !== null && typeof input.snapshot !== 'string')) {
    return 'snapshot must be a string or null';
  }
  if (typeof input.tag !== 'string' || input.tag === '') return 'tag must be a non-empty string';
  if (input.webhook !== undefined && typeof input.webhook !== 'boolean') return 'webhook must be a boolean';
  if (input.expiry !== undefined) {
    if (!Number.isInteger(input.expiry)) return 'expiry must be a unix timestamp in milliseconds';
    const expiry = input.expiry as number;
    if (expiry <= now) return 'expiry must be in the future';
    if (expiry > now + MAX_EXPIRY_MS) return 'expiry must be at most 1 year ahead';
  }
  return undefined;
}

type CreateInput = { flow: string; snapshot: string | null; tag: string; webhook?: boolean; expiry?: number };

function createHandshake(handshakes: Map<string, Handshake>, byFlowAndTag: Map<string, string>, input: CreateInput, now: number) {
  // Sandbox behaviour: a create with the tag of an existing handshake of the same flow returns
  // that handshake unchanged (same _id, number, digest) and creates nothing, so a connector
  // that retries a create after a lost answer does not make a second handshake.
  const key = `${input.flow}\u0000${input.tag}`;
  const existing = handshakes.get(byFlowAndTag.get(key) ?? '');
  if (existing) return { _id: existing._id, number: existing.number, digest: existing.digest };

  const _id = `DS${randomBase36(19)}`;
  const number = `${randomDigits(4)}-${randomDigits(6)}-${randomDigits(4)}`;
  // The seed says the digest is "for future use"; the sandbox makes it SHA-256 hex of `${_id}:${number}:${tag}`.
  const digest = sha256Hex(`${_id}:${number}:${input.tag}`);
  handshakes.set(_id, {
    _id,
    number,
    digest,
    flow: input.flow,
    snapshot: input.snapshot,
    tag: input.tag,
    webhook: input.webhook ?? false,
    expiry: input.expiry ?? now + DAY_MS,
    consumed: false,
    result: null,
    resultSignature: null,
  });
  byFlowAndTag.set(key, _id);
  return { _id, number, digest };
}

/** Completion webhooks in flight, each recorded as a call; closing waits for them. */
class WebhookDeliveries {
  private readonly agent = new Agent();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly faults: FaultHarness) {}

  deliver(handshake: Handshake, url: string): void {
    const at = Date.now();
    const body = {
      event: 'handshake.completed',
      _id: handshake._id,
      tag: handshake.tag,
      consumed: true,
      result: handshake.result,
      resultSignature: handshake.resultSignature,
    };
    const delivery = httpRequest(url, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    })
      .then(async (response) => {
        await response.body.dump();
        return response.statusCode;
      })
      .catch(() => 0)
      .then((status) => this.faults.record({ method: 'POST', path: 'webhook', status, at }));
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.agent.close();
  }
}

export const attestrSandbox: FastifyPluginAsync<AttestrSandboxOptions> = async (app, options) => {
  const handshakes = new Map<string, Handshake>();
  const byFlowAndTag = new Map<string, string>();
  const expectedCredentials = `${options.clientId}:${options.secret}`;

  const faults = installFaults(app, {
    errorBody: (status, code) => errorBody(code !== undefined ? Number(code) : (DEFAULT_CODE_BY_STATUS[status] ?? 5001)),
    signsResults: true,
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(400).send(errorBody(4001, error.message));
    return reply.code(500).send(errorBody(5001));
  });

  const webhooks = new WebhookDeliveries(faults);
  app.addHook('onClose', () => webhooks.close());

  // A route-level onRequest hook, so a bad authorization wins over a malformed body.
  const requireAuth = async (request: FastifyRequest, reply: FastifyReply) => {
    const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (match && Buffer.from(match[1], 'base64').toString('utf8') === expectedCredentials) return;
    return reply.code(401).send(errorBody(4016));
  };

  const view = (handshake: Handshake, badSignature: boolean) => ({
    _id: handshake._id,
    number: handshake.number,
    tag: handshake.tag,
    requestId: randomUUID(),
    consumed: handshake.consumed,
    archived: null,
    result: handshake.result,
    resultSignature:
      badSignature && handshake.result ? sign(handshake.result, `${options.secret}-wrong`) : handshake.resultSignature,
  });

  app.post('/api/v1/public/flowx/handshake', { onRequest: requireAuth }, async (request, reply) => {
    const now = Date.now();
    const problem = createProblem(request.body, now);
    if (problem) return reply.code(400).send(errorBody(4001, problem));
    const input = request.body as CreateInput;

    return createHandshake(handshakes, byFlowAndTag, input, now);
  });

  app.get<{ Params: { id: string } }>('/api/v1/public/flowx/handshake/:id', { onRequest: requireAuth }, async (request, reply) => {
    const handshake = handshakes.get(request.params.id);
    if (!handshake) return reply.code(404).send({ code: 4001, message: 'Handshake not found' });
    return view(handshake, faults.wantsBadSignature(request));
  });

  // Test hook: the handshakes that exist, so a test can count side effects, not just calls.
  app.get('/_handshakes', async () =>
    [...handshakes.values()].map((h) => ({ _id: h._id, tag: h.tag, consumed: h.consumed })),
  );

  app.post<{ Params: { id: string } }>('/_device/handshakes/:id/complete', async (request, reply) => {
    const handshake = handshakes.get(request.params.id);
    if (!handshake) return reply.code(404).send({ code: 4001, message: 'Handshake not found' });
    const output: unknown = request.body ?? SAMPLE_OUTPUT;
    if (typeof output !== 'object' || output === null || Array.isArray(output)) {
      return reply.code(400).send(errorBody(4001, 'the stage output must be a JSON object'));
    }
    if (handshake.consumed) return reply.code(409).send({ code: 4001, message: 'Handshake already completed' });
    if (Date.now() >= handshake.expiry) return reply.code(409).send({ code: 4001, message: 'Handshake expired' });

    handshake.consumed = true;
    handshake.result = { [`FS${randomBase36(19)}`]: { input: { ...SAMPLE_INPUT }, output } };
    handshake.resultSignature = sign(handshake.result, options.secret);
    if (handshake.webhook && options.webhookUrl) webhooks.deliver(handshake, options.webhookUrl);
    return view(handshake, false);
  });
};
