/** The codec server's record of who may do what: once per configuration, again when it changes. */
import { auditOperatorConfig } from '../../src/keys/operator-config';
import { OperatorRegistry, type OperatorEntry } from '../../src/operators/registry';
import { newOperatorToken, operatorTokenSha256 } from '../../src/operators/tokens';
import { scratchAuditTrail } from '../helpers/audit';

const ALICE: OperatorEntry = { name: 'alice', role: 'admin', tokenSha256: [operatorTokenSha256(newOperatorToken())] };
const VIC: OperatorEntry = { name: 'vic', role: 'viewer', tokenSha256: [operatorTokenSha256(newOperatorToken())] };

test('the first configuration is recorded; the same one again (in any order) is not; a changed role, a new token or a new operator is', async () => {
  const { trail } = scratchAuditTrail('test-operator-config-');
  const records = () => trail.query({ action: 'operator.config_change' });
  expect(await auditOperatorConfig(trail, new OperatorRegistry([ALICE, VIC]))).toBe(true);
  expect(await auditOperatorConfig(trail, new OperatorRegistry([VIC, ALICE]))).toBe(false);
  expect(await records()).toHaveLength(1);

  const changes = [
    [ALICE, { ...VIC, role: 'reviewer' as const }],
    [ALICE, { ...VIC, role: 'reviewer' as const, tokenSha256: [...VIC.tokenSha256, operatorTokenSha256(newOperatorToken())] }],
    [ALICE, { ...VIC, role: 'reviewer' as const, tokenSha256: [...VIC.tokenSha256, operatorTokenSha256(newOperatorToken())] }, { name: 'rita', role: 'reviewer' as const, tokenSha256: [operatorTokenSha256(newOperatorToken())] }],
  ];
  for (const entries of changes) expect(await auditOperatorConfig(trail, new OperatorRegistry(entries))).toBe(true);
  const all = await records();
  expect(all).toHaveLength(4);
  expect(new Set(all.map((record) => record.detail?.digest)).size).toBe(4);
  expect(all.map(({ actor, detail }) => ({ actor, admin: detail?.admin, reviewer: detail?.reviewer, viewer: detail?.viewer }))).toEqual([
    { actor: 'system:codec', admin: 1, reviewer: 0, viewer: 1 },
    { actor: 'system:codec', admin: 1, reviewer: 1, viewer: 0 },
    { actor: 'system:codec', admin: 1, reviewer: 1, viewer: 0 },
    { actor: 'system:codec', admin: 1, reviewer: 2, viewer: 0 },
  ]);
  // Nothing of an operator's name or credential is in a record.
  const written = JSON.stringify(all);
  for (const secretish of ['alice', 'vic', 'rita', ...changes.flat().flatMap((entry) => entry.tokenSha256)]) expect(written).not.toContain(secretish);
  expect((await trail.verify()).intact).toBe(true);
});
