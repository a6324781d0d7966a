/**
 * The codec server for operators: Temporal's codec server protocol (`POST /encode`,
 * `POST /decode`, JSON `{ payloads: [{ metadata: { k: base64 }, data: base64 }] }`, the
 * namespace in `X-Namespace`), so the Temporal UI and CLI show live sessions decoded.
 *
 * - It runs on its own operator port (CODEC_PORT), never on the api's public one.
 * - CORS answers the configured UI origin only (CODEC_UI_ORIGIN), with credentials.
 * - From loopback it needs nothing; from anywhere else an operator credential: the
 *   `sessionflow_codec` cookie (set by `POST /auth`, which the UI then sends cross-origin) or
 *   `Authorization: Bearer <CODEC_OPERATOR_TOKEN>` (the CLI's `--codec-auth`). Without a
 *   configured token, only loopback is served.
 * - It reads keys straight from the store, never cached, so a shredded session shows
 *   SHREDDED_MARKER at once; the rest of the batch decodes. A store that cannot be read answers
 *   503 for the batch: it never guesses.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Payload } from '@temporalio/common';
import { decryptPayload, encryptPayload, isEncrypted, payloadKeyId, SHREDDED_MARKER } from './codec';
import { KeyStoreUnavailableError } from './errors';
import { namespaceKeyId, type KeyStore } from './key-store';

export const CODEC_COOKIE = 'sessionflow_codec';

export interface CodecServerOptions {
  keys: KeyStore;
  /** The Temporal UI's origin, the only one CORS allows. */
  uiOrigin: string;
  /** The operator credential for requests from outside loopback; loopback only when absent. */
  operatorToken?: string;
  defaultNamespace: string;
  logger?: false | { level: string };
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

const shredded = (): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(SHREDDED_MARKER)) });

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

// `payloads` may be absent: clients send Payloads as protobuf JSON, which leaves out an empty
// list, so an update without arguments (archive) arrives as `{}`. Refusing it made the CLI
// retry the history page until its deadline.
const payloadsSchema = {
  type: 'object',
  properties: {
    payloads: {
      type: 'array',
      maxItems: 10_000,
      items: {
        type: 'object',
        properties: { metadata: { type: 'object', additionalProperties: { type: 'string' } }, data: { type: 'string' } },
      },
    },
  },
} as const;

export function buildCodecServer(options: CodecServerOptions): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 * 1024 });
  const { keys } = options;

  const authorized = (request: FastifyRequest): boolean => {
    if (isLoopback(request.socket.remoteAddress)) return true;
    if (!options.operatorToken) return false;
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const given = bearer ?? cookie(request, CODEC_COOKIE);
    return given !== undefined && sameSecret(given, options.operatorToken);
  };

  const cors = (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.origin === options.uiOrigin) {
      reply.header('access-control-allow-origin', options.uiOrigin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('vary', 'origin');
    }
  };

  app.addHook('onRequest', async (request, reply) => {
    cors(request, reply);
    if (request.method === 'OPTIONS') {
      if (request.headers.origin === options.uiOrigin) {
        reply.header('access-control-allow-methods', 'POST, OPTIONS');
        reply.header('access-control-allow-headers', 'content-type, x-namespace, authorization');
        reply.header('access-control-max-age', '600');
      }
      return reply.code(204).send();
    }
    if (request.url === '/auth' || request.url === '/healthz') return;
    if (!authorized(request)) return reply.code(401).send({ message: 'an operator credential is required' });
  });

  app.setErrorHandler((error, request, reply) => {
    request.log.warn({ err: error }, 'codec request refused');
    if (error instanceof KeyStoreUnavailableError) return reply.code(503).send({ message: 'the key store is unavailable' });
    if ((error as { validation?: unknown }).validation) return reply.code(400).send({ message: 'the body must be { payloads: [...] }' });
    return reply.code(400).send({ message: 'the payloads could not be processed' });
  });

  const namespaceOf = (request: FastifyRequest) => {
    const header = request.headers['x-namespace'];
    return typeof header === 'string' && header !== '' ? header : options.defaultNamespace;
  };

  app.post<{ Body: { payloads?: JsonPayload[] } }>('/encode', { schema: { body: payloadsSchema } }, async (request) => {
    // Operators' encodes (e.g. a signal sent from the UI) have no workflow context: namespace key.
    const keyId = namespaceKeyId(namespaceOf(request));
    // Made by the init step only: an encode never creates a key.
    const key = await keys.get(keyId);
    if (!key) throw new KeyStoreUnavailableError('its namespace key is missing');
    return { payloads: (request.body.payloads ?? []).map((payload) => toJson(encryptPayload(fromJson(payload), keyId, key))) };
  });

  app.post<{ Body: { payloads?: JsonPayload[] } }>('/decode', { schema: { body: payloadsSchema } }, async (request) => {
    const decoded = await Promise.all(
      (request.body.payloads ?? []).map(async (json) => {
        const payload = fromJson(json);
        if (!isEncrypted(payload)) return json;
        const keyId = payloadKeyId(payload);
        const key = keyId ? await keys.get(keyId) : null;
        if (!keyId || !key) return toJson(shredded());
        try {
          return toJson(decryptPayload(payload, keyId, key));
        } catch {
          return toJson(shredded());
        }
      }),
    );
    return { payloads: decoded };
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  // The browser side of the cookie credential: an operator posts the token once; the cookie is
  // HttpOnly, Secure and SameSite=None so the UI's cross-origin fetches (credentials included) carry it.
  app.get('/auth', async (_request, reply) =>
    reply
      .type('text/html')
      .send('<!doctype html><title>sessionflow codec</title><form method="post" action="/auth"><label>Operator token <input name="token" type="password" autocomplete="off"></label> <button>Sign in</button></form>'),
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  app.post<{ Body: { token?: string } }>('/auth', async (request, reply) => {
    const token = request.body?.token ?? '';
    if (!options.operatorToken || !sameSecret(token, options.operatorToken)) return reply.code(401).send({ message: 'wrong operator token' });
    reply.header('set-cookie', `${CODEC_COOKIE}=${encodeURIComponent(token)}; HttpOnly; Secure; SameSite=None; Path=/; Max-Age=43200`);
    return reply.type('text/plain').send('signed in: the Temporal UI can now decode payloads through this codec server\n');
  });

  return app;
}
