/**
 * Fault injection and call log shared by the provider sandboxes.
 *
 * Installed inside one provider plugin, it adds `POST|DELETE _faults` and `GET|DELETE _calls`
 * under that plugin's prefix, and hooks every vendor call (a route whose path below the prefix
 * does not start with `/_`): the call is logged, and the next queued fault, if any, is applied.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface Fault {
  status?: number;
  code?: number | string;
  /** Seconds or an HTTP date, sent as `Retry-After` with `status`. */
  retryAfter?: number | string;
  delayMs?: number;
  /** The call is processed, then its answer held this long: the provider acted, the caller may not hear. */
  holdMs?: number;
  drop?: boolean;
  badSignature?: boolean;
}

export interface CallRecord {
  method: string;
  /** Path below the provider's base URL (`/api/v1/...`), or `webhook` for outgoing webhooks. */
  path: string;
  /** 0 when the connection was dropped or a webhook could not be delivered. */
  status: number;
  at: number;
  fault?: true;
  /** Answered as an exact repeat of the previous call (Finqware's step replay). */
  replayed?: true;
}

export interface FaultOptions {
  /** The vendor's error body for an injected `status`. */
  errorBody(status: number, code: number | string | undefined): unknown;
  /** Whether `badSignature` means anything for this provider. */
  signsResults: boolean;
}

export interface FaultHarness {
  /** Logs a call the sandbox made itself (a webhook delivery). */
  record(call: CallRecord): void;
  markReplayed(request: FastifyRequest): void;
  /** True when the fault applied to this request asks for a wrong result signature. */
  wantsBadSignature(request: FastifyRequest): boolean;
}

const MAX_DELAY_MS = 60_000;
const FAULT_KEYS = ['status', 'code', 'retryAfter', 'delayMs', 'holdMs', 'drop', 'badSignature', 'count'];

/** Parses a `_faults` body; returns an error message when it is not a valid fault. */
function parseFault(body: unknown, signsResults: boolean): { fault: Fault; count: number } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).filter((key) => !FAULT_KEYS.includes(key));
  if (unknown.length > 0) return `unknown fields: ${unknown.join(', ')}`;
  const { status, code, retryAfter, delayMs, holdMs, drop, badSignature, count } = input;
  if (!Number.isInteger(count) || (count as number) < 1) return 'count must be an integer >= 1';
  if (status !== undefined && (!Number.isInteger(status) || (status as number) < 400 || (status as number) > 599)) {
    return 'status must be an integer from 400 to 599';
  }
  if (code !== undefined && typeof code !== 'number' && (typeof code !== 'string' || code === '')) {
    return 'code must be a number or a non-empty string';
  }
  if (retryAfter !== undefined) {
    const valid =
      (typeof retryAfter === 'number' && Number.isInteger(retryAfter) && retryAfter >= 0) ||
      (typeof retryAfter === 'string' && (/^\d+$/.test(retryAfter) || !Number.isNaN(Date.parse(retryAfter))));
    if (!valid) return 'retryAfter must be whole seconds or an HTTP date';
  }
  if ((code !== undefined || retryAfter !== undefined) && status === undefined) return 'code and retryAfter need a status';
  if (delayMs !== undefined && (!Number.isInteger(delayMs) || (delayMs as number) < 0 || (delayMs as number) > MAX_DELAY_MS)) {
    return `delayMs must be an integer from 0 to ${MAX_DELAY_MS}`;
  }
  if (drop !== undefined && typeof drop !== 'boolean') return 'drop must be a boolean';
  if (badSignature !== undefined && typeof badSignature !== 'boolean') return 'badSignature must be a boolean';
  if (badSignature && !signsResults) return 'badSignature is not supported by this provider';
  if (drop && (status !== undefined || badSignature)) return 'drop cannot be combined with status or badSignature';
  if (holdMs !== undefined && (!Number.isInteger(holdMs) || (holdMs as number) < 0 || (holdMs as number) > MAX_DELAY_MS)) {
    return `holdMs must be an integer from 0 to ${MAX_DELAY_MS}`;
  }
  if (status === undefined && delayMs === undefined && holdMs === undefined && !drop && !badSignature) {
    return 'a fault needs at least one of status, delayMs, holdMs, drop, badSignature';
  }
  const fault: Fault = {};
  for (const key of FAULT_KEYS) if (key !== 'count' && input[key] !== undefined) Object.assign(fault, { [key]: input[key] });
  return { fault, count: count as number };
}

export function installFaults(app: FastifyInstance, options: FaultOptions): FaultHarness {
  const queue: { fault: Fault; remaining: number }[] = [];
  // Entries are pushed when a call arrives (so the log is in arrival order) and listed once answered.
  const calls: (Omit<CallRecord, 'status'> & { status?: number })[] = [];
  const entries = new WeakMap<FastifyRequest, { entry: (typeof calls)[number]; fault?: Fault }>();
  const prefix = app.prefix;

  const pending = (): number => queue.reduce((sum, item) => sum + item.remaining, 0);
  const takeFault = (): Fault | undefined => {
    const head = queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining === 0) queue.shift();
    return head.fault;
  };

  app.post('/_faults', async (request, reply) => {
    const parsed = parseFault(request.body, options.signsResults);
    if (typeof parsed === 'string') return reply.code(400).send({ message: `Invalid fault: ${parsed}` });
    queue.push({ fault: parsed.fault, remaining: parsed.count });
    return { queued: pending() };
  });
  app.delete('/_faults', async () => {
    queue.length = 0;
    return { queued: 0 };
  });
  app.get('/_calls', async (): Promise<CallRecord[]> =>
    calls.flatMap(({ method, path, status, at, fault, replayed }) =>
      status === undefined ? [] : [{ method, path, status, at, ...(fault ? { fault } : {}), ...(replayed ? { replayed } : {}) }],
    ),
  );
  app.delete('/_calls', async () => {
    calls.length = 0;
    return { cleared: true };
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0].slice(prefix.length);
    if (path.startsWith('/_')) return;
    const fault = takeFault();
    const entry = { method: request.method, path, at: Date.now(), ...(fault ? { fault: true as const } : {}) };
    calls.push(entry);
    entries.set(request, { entry, fault });
    if (!fault) return;
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.drop) {
      Object.assign(entry, { status: 0 });
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    if (fault.status !== undefined) {
      if (fault.retryAfter !== undefined) reply.header('retry-after', String(fault.retryAfter));
      return reply.code(fault.status).send(options.errorBody(fault.status, fault.code));
    }
  });
  app.addHook('onSend', async (request) => {
    const holdMs = entries.get(request)?.fault?.holdMs;
    if (holdMs) await sleep(holdMs);
  });
  app.addHook('onResponse', async (request, reply) => {
    const tracked = entries.get(request);
    if (tracked && tracked.entry.status === undefined) tracked.entry.status = reply.statusCode;
  });

  return {
    record: (call) => {
      calls.push(call);
    },
    wantsBadSignature: (request) => entries.get(request)?.fault?.badSignature === true,
    markReplayed: (request) => {
      const tracked = entries.get(request);
      if (tracked) tracked.entry.replayed = true;
    },
  };
}
