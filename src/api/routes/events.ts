/**
 * Backend events in: `POST /v1/events` with `{ id, type, tag, data }`, authenticated like the
 * backend API. SESSIONFLOW_EVENT_RULES maps each type to an action: start a session of a flow
 * for the tag (the event id makes it once-only), deliver the event to the tag's session
 * waiting in a `wait` stage, or archive the tag's ended sessions.
 */
import type { FastifyInstance } from 'fastify';
import { contentHash } from '../../util/hash';
import { REFUSALS } from '../../contract/session';
import type { ApiContext } from '../context';
import { requireBackendClient } from '../backend-auth';
import { hasWebhookEndpoint, resolveFlow, WEBHOOK_NEEDS_ENDPOINT } from '../flow-resolution';
import { BackendError } from '../errors';
import { backendError, errorAnswers } from '../schemas/common';
import { eventAnswer, eventBody, type EventAnswer, type EventBody } from '../schemas/events';
import { IdempotencyConflictError, SessionNotFoundError, SessionRefusedError } from '../session-errors';
import { hostedPageUrl } from '../hosted/urls';
import { sessionRef } from '../../session-secret';
import type { AuditEntry } from '../../audit/trail';

/** A session archived meanwhile, or gone: not this event's to archive (a refusal, not a failure). */
const alreadyGone = (err: unknown) => (err instanceof SessionRefusedError && err.type === REFUSALS.WRONG_STATUS) || err instanceof SessionNotFoundError;

export function eventRoutes(app: FastifyInstance, context: ApiContext): void {
  const { gateway, catalog } = context;

  requireBackendClient(app, context);

  app.post<{ Body: EventBody }>(
    '/events',
    {
      schema: {
        summary: 'Take a backend event',
        body: eventBody,
        response: { 200: eventAnswer, ...errorAnswers(backendError, [400, 401, 409, 413, 415, 429, 500, 503]) },
      },
    },
    async (request): Promise<EventAnswer> => {
      const tenant = request.tenant!;
      const event = request.body;
      const rule = context.config.eventRules.find((candidate) => candidate.type === event.type);
      if (!rule) throw new BackendError(4001, `no rule for event type "${event.type}" (SESSIONFLOW_EVENT_RULES)`);

      if (rule.action === 'start') {
        const definition = resolveFlow(catalog, rule.flowId, rule.snapshot);
        if (rule.webhook && !hasWebhookEndpoint(tenant)) throw new BackendError(4001, WEBHOOK_NEEDS_ENDPOINT);
        try {
          const created = await gateway.create({
            tenantId: tenant.id,
            tag: event.tag,
            webhook: rule.webhook ?? false,
            retentionSeconds: tenant.retentionSeconds,
            definition,
            idempotency: {
              // A control character no Idempotency-Key header can hold keeps the two apart.
              key: `\u0001event:${event.id}`,
              requestHash: contentHash({ type: event.type, tag: event.tag }),
              tenantSecret: tenant.secret,
            },
          });
          const session = { _id: created.sessionId, number: created.number, created: created.created, url: hostedPageUrl(context, request, created.sessionId) };
          return { id: event.id, action: rule.action, sessions: [session] };
        } catch (err) {
          if (err instanceof IdempotencyConflictError) throw new BackendError(4001, `event ${event.id} was taken before with another type or tag`);
          throw err;
        }
      }

      if (rule.action === 'deliver') {
        const delivered = [];
        for (const sessionId of await gateway.findSessions(tenant.id, event.tag, ['in_progress'])) {
          try {
            const status = await gateway.deliverEvent(sessionId, { eventId: event.id, type: event.type, data: event.data ?? {} });
            delivered.push({ _id: sessionId, status: status.status });
          } catch (err) {
            // Sessions of the tag that wait for something else are not this event's.
            if (!(err instanceof SessionRefusedError) && !(err instanceof SessionNotFoundError)) throw err;
          }
        }
        if (delivered.length === 0) {
          throw new BackendError(4001, `no session with tag "${event.tag}" is waiting for an event "${event.type}"`, { status: 409 });
        }
        return { id: event.id, action: rule.action, sessions: delivered };
      }

      const archived = [];
      for (const sessionId of await gateway.findSessions(tenant.id, event.tag, ['consumed', 'expired'])) {
        // Recorded like the backend's archive route: one intent and outcome per session, before
        // it is archived (no record, no archive: 503 5033).
        const entry: AuditEntry = { actor: `tenant:${tenant.id}`, action: 'session.archive', refs: [sessionRef(sessionId)], address: request.ip, requestId: request.id, detail: { via: 'event' } };
        try {
          archived.push({ _id: sessionId, status: (await context.audit.audited(entry, () => gateway.archive(sessionId), { refused: alreadyGone })).status });
        } catch (err) {
          if (!alreadyGone(err)) throw err;
        }
      }
      return { id: event.id, action: rule.action, sessions: archived };
    },
  );
}
