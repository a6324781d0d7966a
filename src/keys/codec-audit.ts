/** GET /audit on the codec server's port: the operator API's query of the audit trail (admins). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuditEntryError, type AuditEntry, type AuditQuery, type AuditTrail } from '../audit/trail';

const auditQuerystring = {
  type: 'object',
  properties: {
    ref: { type: 'string', description: "A session's keyed reference (32 hex): its records." },
    actor: { type: 'string', description: 'operator:<name>, tenant:<client id>, system:<part>, cli:<user>' },
    action: { type: 'string', description: 'An audited action, e.g. codec.decode' },
    since: { type: 'string', description: 'ISO 8601: records at or after' },
    until: { type: 'string', description: 'ISO 8601: records before' },
    limit: { type: 'string', description: 'At most this many records (a whole number)' },
  },
} as const;

/**
 * GET /audit?ref=&actor=&action=&since=&until=&limit=: the operator API's query of the trail
 * (admins), oldest first; each query is itself recorded. Bad parameters: 400, nothing recorded.
 */
export function serveAudit(app: FastifyInstance, audit: AuditTrail, auditEntry: (request: FastifyRequest, action: AuditEntry['action'], refs?: string[]) => AuditEntry): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/audit', { schema: { summary: 'Query the audit trail, oldest first; the query is itself audited', querystring: auditQuerystring }, config: { permission: 'audit' } }, async (request) => {
    const { ref, actor, action, since, until, limit } = request.query;
    if (limit !== undefined && !/^\d{1,6}$/.test(limit)) throw new AuditEntryError('audit query refused: limit must be a whole number');
    const query: AuditQuery = { ref, actor, action: action as AuditQuery['action'], since, until, ...(limit !== undefined ? { limit: Number(limit) } : {}) };
    for (const name of Object.keys(query) as Array<keyof AuditQuery>) if (query[name] === undefined) delete query[name];
    // Checked before the record, so a bad query changes nothing.
    await audit.query({ ...query, limit: 1 });
    return audit.audited({ ...auditEntry(request, 'audit.read', query.ref ? [query.ref] : []) }, async () => ({ records: await audit.query(query) }));
  });
}
