/**
 * The operator identity (src/operators): roles and what each may do, the registry's format and
 * its refusals (one line naming the variable, never a value but a well-formed name), token
 * lookup by SHA-256 only, and the development operator `make start` creates.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config';
import { DEV_OPERATOR_NAME, loadOperators } from '../../src/operators/load';
import { OperatorRegistry, parseOperators } from '../../src/operators/registry';
import { may } from '../../src/operators/roles';
import { newOperatorToken, operatorTokenSha256 } from '../../src/operators/tokens';

const token = newOperatorToken();
const entry = (extra: Record<string, unknown> = {}) => ({ name: 'alice', role: 'viewer', tokenSha256: [operatorTokenSha256(token)], ...extra });
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sessionflow-operators-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function refusal(json: unknown, source = 'SESSIONFLOW_OPERATORS'): ConfigError {
  try {
    parseOperators(typeof json === 'string' ? json : JSON.stringify(json), source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('accepted');
}

test('roles are ordered: a viewer decodes, a reviewer also reviews, only an admin encodes and shreds', () => {
  expect([may('viewer', 'decode'), may('viewer', 'review'), may('viewer', 'encode')]).toEqual([true, false, false]);
  expect([may('reviewer', 'decode'), may('reviewer', 'review'), may('reviewer', 'encode'), may('reviewer', 'shred')]).toEqual([true, true, false, false]);
  expect([may('admin', 'decode'), may('admin', 'review'), may('admin', 'encode'), may('admin', 'shred')]).toEqual([true, true, true, true]);
});

test('a token finds its operator by its SHA-256; any other token finds none', () => {
  const other = newOperatorToken();
  const registry = new OperatorRegistry(parseOperators(JSON.stringify([entry(), { name: 'bob', role: 'admin', tokenSha256: [operatorTokenSha256(other)] }]), 'SESSIONFLOW_OPERATORS'));
  expect(registry.byToken(token)).toEqual({ name: 'alice', role: 'viewer' });
  expect(registry.byToken(other)).toEqual({ name: 'bob', role: 'admin' });
  expect(registry.byToken(newOperatorToken())).toBeNull();
  expect(registry.byToken(operatorTokenSha256(token))).toBeNull();
  expect(registry.byName('bob')).toEqual({ name: 'bob', role: 'admin' });
  expect(token).toMatch(/^sfo_[A-Za-z0-9_-]{43}$/);
});

test.each([
  ['not JSON', 'nope {', /not valid JSON/],
  ['an empty list', [], /at least one operator/],
  ['a bad name', [entry({ name: 'al ice' })], /operator 1: name/],
  ['an unknown role', [entry({ role: 'root' })], /operator 1 \("alice"\): role must be one of viewer, reviewer, admin/],
  ['a token in clear', [entry({ tokenSha256: [token] })], /tokenSha256/],
  ['no token', [entry({ tokenSha256: [] })], /tokenSha256/],
  ['an unknown key', [entry({ password: 'hunter2' })], /may hold only/],
  ['a name twice', [entry(), entry({ tokenSha256: ['0'.repeat(64)] })], /operator 2 \("alice"\): name is used/],
  ['a token twice', [entry(), entry({ name: 'bob' })], /operator 2 \("bob"\): a token is listed twice/],
])('%s is refused in one line naming the variable, without the value', (_, json, problem) => {
  const err = refusal(json);
  expect(err.message).toMatch(/^SESSIONFLOW_OPERATORS /);
  expect(err.message).toMatch(problem);
  expect(err.message).not.toContain(token);
  expect(err.message).not.toContain('hunter2');
});

test('the registry comes from the variable or the file, never both', () => {
  const json = JSON.stringify([entry()]);
  const file = join(dir, 'operators.json');
  writeFileSync(file, json);
  expect(loadOperators({ SESSIONFLOW_OPERATORS: json }, dir).source).toBe('env');
  expect(loadOperators({ SESSIONFLOW_OPERATORS_FILE: file }, dir).registry.byToken(token)?.name).toBe('alice');
  expect(() => loadOperators({ SESSIONFLOW_OPERATORS: json, SESSIONFLOW_OPERATORS_FILE: file }, dir)).toThrow(/^SESSIONFLOW_OPERATORS and SESSIONFLOW_OPERATORS_FILE are both set/);
  const missing = join(dir, 'someone-home', 'operators.json');
  expect(() => loadOperators({ SESSIONFLOW_OPERATORS_FILE: missing }, dir)).toThrow(/^SESSIONFLOW_OPERATORS_FILE names a file that cannot be read$/);
});

test('with neither, a development admin whose token is created once, 0600, in the data folder', () => {
  const first = loadOperators({}, dir);
  expect(first.source).toBe('dev');
  expect(first.registry.operators).toEqual([{ name: DEV_OPERATOR_NAME, role: 'admin' }]);
  expect(first.devTokenFile).toBe(join(dir, 'operator-token'));
  expect(statSync(first.devTokenFile!).mode & 0o777).toBe(0o600);
  const devToken = readFileSync(first.devTokenFile!, 'utf8').trim();
  expect(devToken).toMatch(/^sfo_[A-Za-z0-9_-]{43}$/);
  expect(first.registry.byToken(devToken)?.name).toBe(DEV_OPERATOR_NAME);
  // The next start (or another process) reads the same token.
  expect(loadOperators({}, dir).registry.byToken(devToken)?.name).toBe(DEV_OPERATOR_NAME);
});
