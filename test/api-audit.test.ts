/**
 * A tenant's result read is audited through the real api and Temporal: the record names the
 * tenant, the session's reference (never its id), the address and the request id; another
 * tenant's read is a refusal; an audit that cannot be written answers 503 5033 and no result.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileAuditStore } from '../src/audit/file-store';
import { AuditTrail } from '../src/audit/trail';
import { sessionRef } from '../src/session-secret';
import { startApi, TENANT_A, TENANT_B, type Api } from './helpers/api';
import { scratchAuditTrail } from './helpers/audit';
import { useStack } from './helpers/use-stack';

const HANDSHAKE = '/api/v1/public/flowx/handshake';
const { stack } = useStack('api-audit');
const audit = scratchAuditTrail();
const apis: Api[] = [];

afterAll(async () => {
  await Promise.all(apis.map((api) => api.close()));
});

test("a tenant's result read is recorded under the session reference; another tenant's is a refusal", async () => {
  const api = await startApi(stack, [TENANT_A, TENANT_B], stack.catalog, 0, audit.trail);
  apis.push(api);
  const created = await api.call('POST', HANDSHAKE, { body: { flow: 'consent-only', snapshot: null, tag: 'REF-audit' } });
  expect(created.status).toBe(200);
  const id = created.body._id as string;
  const read = await api.call('GET', `${HANDSHAKE}/${id}`);
  expect(read.status).toBe(200);
  const records = await audit.trail.query({ action: 'result.read' });
  expect(records.map((r) => [r.phase, r.outcome ?? null])).toEqual([
    ['intent', null],
    ['outcome', 'ok'],
  ]);
  expect(records[0]).toMatchObject({ actor: 'tenant:tenant-a', refs: [sessionRef(id)], address: '127.0.0.1', requestId: read.headers['x-request-id'] });
  expect(JSON.stringify(await audit.trail.query({}))).not.toContain(id);
  expect((await api.call('GET', `${HANDSHAKE}/${id}`, { as: TENANT_B })).status).toBe(403);
  expect((await audit.trail.query({ actor: 'tenant:tenant-b' })).map((r) => r.outcome ?? r.phase)).toEqual(['intent', 'refused']);
  expect(await audit.trail.verify()).toMatchObject({ intact: true, incomplete: [] });
});

test('an audit that cannot be written: the read answers 503 with code 5033 and no result', async () => {
  const broken = scratchAuditTrail();
  writeFileSync(join(broken.dataDir, 'audit'), 'not a folder');
  const api = await startApi(stack, [TENANT_A], stack.catalog, 0, new AuditTrail(new FileAuditStore(broken.dataDir), broken.key, 400));
  apis.push(api);
  const created = await api.call('POST', HANDSHAKE, { body: { flow: 'consent-only', snapshot: null, tag: 'REF-audit-down' } });
  const read = await api.call('GET', `${HANDSHAKE}/${created.body._id}`);
  expect(read.status).toBe(503);
  expect(read.body).toMatchObject({ code: 5033 });
  expect(read.headers['retry-after']).toBe('1');
});
