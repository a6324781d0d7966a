/**
 * The codec server's audit, over real HTTP on loopback with a real key store and audit trail:
 * a decode is recorded (intent, then outcome) naming the operator and the session references
 * whose keys it used, never a payload; a refused credential is recorded; an audit that cannot be
 * written refuses the decode (503) and no payload leaves; GET /audit is for admins only.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { EncryptionCodec } from '../../src/keys/codec';
import { buildCodecServer } from '../../src/keys/codec-server';
import { FileAuditStore } from '../../src/audit/file-store';
import { AuditTrail } from '../../src/audit/trail';
import { OperatorRegistry } from '../../src/operators/registry';
import { newOperatorToken, operatorTokenSha256 } from '../../src/operators/tokens';
import { initialisedFileStore } from '../helpers/key-stores';
import { scratchAuditTrail } from '../helpers/audit';

const ADMIN = newOperatorToken();
const VIEWER = newOperatorToken();
const operators = new OperatorRegistry([
  { name: 'ada', role: 'admin', tokenSha256: [operatorTokenSha256(ADMIN)] },
  { name: 'vic', role: 'viewer', tokenSha256: [operatorTokenSha256(VIEWER)] },
]);
const servers: FastifyInstance[] = [];
const ref = randomBytes(16).toString('hex');

async function start(audit: AuditTrail) {
  const keys = await initialisedFileStore('test-codec-audit-keys-');
  const app = buildCodecServer({ keys, audit, uiOrigin: 'http://localhost:8233', operators, allowedHosts: ['127.0.0.1'], defaultNamespace: 'default' });
  servers.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const codec = new EncryptionCodec(keys, { namespace: 'default' });
  const [payload] = await codec.encode([defaultPayloadConverter.toPayload({ name: 'Asha Rao' })], { type: 'workflow', namespace: 'default', workflowId: `session-${ref}` });
  const body = JSON.stringify({
    payloads: [{ metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(payload.data!).toString('base64') }],
  });
  const decode = (token: string) => fetch(`${url}/decode`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  return { url, decode };
}

afterAll(async () => {
  await Promise.all(servers.map((app) => app.close()));
});

test('a decode is recorded with the operator, the session reference, the address and the request id, and no payload', async () => {
  const { trail, dataDir } = scratchAuditTrail();
  const { decode } = await start(trail);
  const answer = await decode(VIEWER);
  expect(answer.status).toBe(200);
  const decoded = (await answer.json()) as { payloads: Array<{ data: string }> };
  expect(Buffer.from(decoded.payloads[0].data, 'base64').toString()).toContain('Asha Rao');
  const records = await trail.query({ action: 'codec.decode' });
  expect(records.map((r) => [r.phase, r.outcome ?? null])).toEqual([
    ['intent', null],
    ['outcome', 'ok'],
  ]);
  expect(records[0]).toMatchObject({ actor: 'operator:vic', refs: [ref], address: '127.0.0.1', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  expect(records[1].intent).toBe(records[0].seq);
  expect(await trail.verify()).toMatchObject({ intact: true, incomplete: [] });
  expect(readFileSync(join(dataDir, 'audit', 'audit.jsonl'), 'utf8')).not.toMatch(/Asha|Rao/);
});

test('a refused credential is recorded; an operator without the audit permission cannot query; an admin can', async () => {
  const { trail } = scratchAuditTrail();
  const { url, decode } = await start(trail);
  expect((await decode(newOperatorToken())).status).toBe(401);
  expect(await trail.query({ action: 'operator.auth_failed' })).toEqual([expect.objectContaining({ actor: 'anonymous:', outcome: 'refused', detail: { credential: 'bearer' } })]);
  expect((await fetch(`${url}/audit?ref=${ref}`, { headers: { authorization: `Bearer ${VIEWER}` } })).status).toBe(403);
  await decode(VIEWER);
  const answer = await fetch(`${url}/audit?ref=${ref}&action=codec.decode`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(answer.status).toBe(200);
  expect(((await answer.json()) as { records: Array<{ actor: string }> }).records.map((r) => r.actor)).toEqual(['operator:vic', 'operator:vic']);
  expect(await trail.query({ action: 'audit.read', actor: 'operator:ada' })).toHaveLength(2);
  const bad = await fetch(`${url}/audit?since=yesterday`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { message: string }).message).toMatch(/since must be an ISO 8601/);
});

test('an audit that cannot be written refuses the decode: 503 and no payload', async () => {
  const { dataDir, key } = scratchAuditTrail();
  // The audit folder's place holds a file: nothing can be appended.
  writeFileSync(join(dataDir, 'audit'), 'not a folder');
  const { decode } = await start(new AuditTrail(new FileAuditStore(dataDir), key, 400));
  const answer = await decode(VIEWER);
  expect(answer.status).toBe(503);
  const text = await answer.text();
  expect(text).toMatch(/audit trail is unavailable/);
  expect(text).not.toMatch(/Asha/);
});
