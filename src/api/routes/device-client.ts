/**
 * Device client API, Clerk shape: a browser or app gets a client credential (a cookie, or the
 * response's Authorization header for native apps), sees the sessions it launched, ends them
 * all, and refreshes its credential through a redirect to an allow-listed URL.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceClientView } from '../../contract/device-client';
import type { ApiContext } from '../context';
import { cookieValues, servedOverHttps, setCookie } from '../cookies';
import { clientCookie, deviceCredential, unauthorized, type DeviceCredential } from '../device-auth';
import { DeviceError } from '../errors';
import { redirectAllowed } from '../redirects';
import { SessionNotFoundError, SessionRefusedError } from '../session-errors';
import { clientEnvelope, createClientQuery, handshakeQuery, redirect, type CreateClientQuery, type HandshakeQuery } from '../schemas/device-client';
import { deviceError, errorAnswers } from '../schemas/common';

function wantsNative(request: FastifyRequest): boolean {
  const flag = (request.query as { _is_native?: string } | undefined)?._is_native;
  return flag === 'true' || flag === '1';
}

/**
 * Hands the credential over: a cookie for browsers (Secure and `__Host-client` over HTTPS, see
 * cookies.ts), the Authorization header for native apps.
 */
function handOver(request: FastifyRequest, reply: FastifyReply, context: ApiContext, token: string, refreshUntil: number): void {
  if (wantsNative(request)) {
    reply.header('authorization', `Bearer ${token}`);
    return;
  }
  setCookie(reply, clientCookie(request, context), token, { maxAgeSeconds: (refreshUntil - Date.now()) / 1000, secure: servedOverHttps(request, context.config), sameSite: 'Lax' });
}

/** Tells a browser to drop the credential cookie: the same name, path and attributes, expired. */
function clearCookie(request: FastifyRequest, reply: FastifyReply, context: ApiContext): void {
  setCookie(reply, clientCookie(request, context), '', { maxAgeSeconds: 0, secure: servedOverHttps(request, context.config), sameSite: 'Lax' });
}

/**
 * The sessions this device client owns: those its record names and whose own state says this
 * client launched them. The record alone is not trusted (records written before launches were
 * checked first may name sessions the client never launched).
 */
async function ownedSessions(context: ApiContext, client: DeviceClientView) {
  const sessions = await Promise.all(
    client.sessionIds.map(async (id) => {
      try {
        const status = await context.gateway.status(id);
        return status.deviceClientId === client.deviceClientId && status.clientId === client.tenantId ? status : null;
      } catch (err) {
        if (err instanceof SessionNotFoundError) return null; // past retention
        throw err;
      }
    }),
  );
  return sessions.filter((s) => s !== null);
}

async function clientView(context: ApiContext, client: DeviceClientView) {
  const sessions = (await ownedSessions(context, client)).map((status) => ({ id: status.sessionId, status: status.status, step: status.stage }));
  const view = {
    object: 'client' as const,
    id: client.deviceClientId,
    sessions,
    created_at: client.createdAt,
    refresh_until: client.refreshUntil,
  };
  return { response: view, client: view };
}

/** GET and DELETE /v1/client need a credential, as a bearer token or the cookie. */
const credentialRequired: Array<Record<string, string[]>> = [{ deviceBearer: [] }, { deviceCookie: [] }];

const errors = errorAnswers(deviceError, [400, 401, 403, 413, 415, 422, 429, 500, 503]);

export function deviceClientRoutes(app: FastifyInstance, context: ApiContext): void {
  const { gateway, clients, tokens } = context;

  async function create(request: FastifyRequest<{ Querystring: CreateClientQuery }>, reply: FastifyReply) {
    const tenant = clients.get(request.query.client_id);
    if (!tenant) throw new DeviceError(400, 'invalid_request', 'invalid_client_id', 'client_id names no client app');
    const client = await gateway.createDeviceClient(tenant.id, context.config.api.deviceClientUnusedMs);
    handOver(request, reply, context, tokens.issue({ sub: client.deviceClientId, ten: tenant.id, ref: client.refreshUntil }), client.refreshUntil);
    return clientView(context, client);
  }

  const createSchema = { summary: 'Create a new client and set its credential', querystring: createClientQuery, response: { 200: clientEnvelope, ...errors } };
  app.post<{ Querystring: CreateClientQuery }>('/client', { schema: createSchema }, create);
  app.put<{ Querystring: CreateClientQuery }>('/client', { schema: createSchema }, create);

  app.get('/client', { schema: { summary: 'The current client and its sessions', security: credentialRequired, response: { 200: clientEnvelope, ...errors } } }, async (request) => {
    const credential = await deviceCredential(request, context);
    if (!credential) throw unauthorized();
    const client = await gateway.deviceClient(credential.deviceClientId);
    return clientView(context, client!);
  });

  app.delete('/client', { schema: { summary: "End the client's sessions, revoke its credential and clear its cookie", security: credentialRequired, response: { 200: clientEnvelope, ...errors } } }, async (request, reply) => {
    const credential = await deviceCredential(request, context);
    if (!credential) throw unauthorized();
    const revoked = await gateway.revokeDeviceClient(credential.deviceClientId);
    for (const { sessionId } of await ownedSessions(context, revoked)) {
      try {
        await gateway.expire(sessionId, 'ended by the device (DELETE /v1/client)');
      } catch (err) {
        // Sessions that already ended stay as they are.
        if (!(err instanceof SessionRefusedError) && !(err instanceof SessionNotFoundError)) throw err;
      }
    }
    // A browser holding the cookie drops it; native apps hold the credential themselves.
    if (cookieValues(request.headers.cookie, clientCookie(request, context)).length > 0) clearCookie(request, reply, context);
    return clientView(context, revoked);
  });

  app.get<{ Querystring: HandshakeQuery }>(
    '/client/handshake',
    { schema: { summary: 'Refresh the client credential and redirect', querystring: handshakeQuery, security: credentialRequired, response: { 307: redirect, ...errorAnswers(deviceError, [400, 403, 422, 429, 500, 503]) } } },
    async (request, reply) => {
      let credential: DeviceCredential | undefined;
      try {
        credential = await deviceCredential(request, context, { allowExpired: true });
      } catch {
        credential = undefined;
      }
      if (!credential) throw new DeviceError(403, 'authentication_error', 'invalid_client_credential', 'The handshake needs a valid, unrevoked client credential');
      const tenant = clients.get(credential.tenantId);
      if (!tenant || !redirectAllowed(request.query.redirect_url, tenant.redirectUrls ?? [])) {
        throw new DeviceError(422, 'invalid_request', 'redirect_url_not_allowed', "redirect_url is not on the client app's allow-list");
      }
      handOver(request, reply, context, tokens.issue({ sub: credential.deviceClientId, ten: credential.tenantId, ref: credential.refreshUntil }), credential.refreshUntil);
      return reply.code(307).header('location', request.query.redirect_url).send();
    },
  );
}
