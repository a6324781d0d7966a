import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { sessionInputDigest } from '../../src/contract/session-state';
import { loadSessionSecret, nonceHash, SealedIdError, SessionSecret, SessionSecretError, sessionRef, sessionWorkflowId } from '../../src/session-secret';

const SECRET = 'unit-test-session-secret-0123456789abcdef';
const SESSION = 'DSa1B2c3D4e5F6g7H8i9J0';

describe('SessionSecret', () => {
  const secret = new SessionSecret(SECRET);

  test('the next nonce is the same for the same session and update id, on any instance, and differs otherwise', () => {
    const nonce = secret.nextNonce(SESSION, 'step-abc');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{16}$/);
    expect(new SessionSecret(SECRET).nextNonce(SESSION, 'step-abc')).toBe(nonce);
    expect(secret.nextNonce(SESSION, 'step-abd')).not.toBe(nonce);
    expect(secret.nextNonce(`${SESSION}x`, 'step-abc')).not.toBe(nonce);
    expect(new SessionSecret(`${SECRET}-other`).nextNonce(SESSION, 'step-abc')).not.toBe(nonce);
  });

  test('nonces and device keys carry a tag over the session id: the api tells those it minted for a session without asking anyone', () => {
    const nonce = secret.nextNonce(SESSION, 'step-abc');
    const key = secret.newDeviceKey(SESSION);
    expect(key).not.toBe(secret.newDeviceKey(SESSION));
    for (const value of [nonce, key]) {
      expect(secret.isMintedFor(SESSION, value)).toBe(true);
      expect(secret.isMintedFor(`${SESSION.slice(0, -1)}x`, value)).toBe(false);
      expect(new SessionSecret(`${SECRET}-other`).isMintedFor(SESSION, value)).toBe(false);
      const [body, tag] = value.split('.');
      expect(secret.isMintedFor(SESSION, `${body}.${tag.slice(0, -1)}${tag.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
      expect(secret.isMintedFor(SESSION, `${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}.${tag}`)).toBe(false);
    }
    // A nonce from before tags, and anything else, is not.
    for (const other of [createHash('sha256').update('n').digest('base64url'), '', '.', 'x.y', `${nonce}.${nonce}`]) expect(secret.isMintedFor(SESSION, other)).toBe(false);
  });

  test('the launch proof is an HMAC of the session id: the same on any instance, another for another session or secret', () => {
    const proof = secret.launchProof(SESSION);
    expect(new SessionSecret(SECRET).launchProof(SESSION)).toBe(proof);
    expect(secret.launchProof(`${SESSION}x`)).not.toBe(proof);
    expect(new SessionSecret(`${SECRET}-other`).launchProof(SESSION)).not.toBe(proof);
  });

  test('a sealed id opens to the id, seals the same every time, and hides it', () => {
    const sealed = secret.seal(SESSION);
    expect(sealed.startsWith('sid1.')).toBe(true);
    expect(sealed).not.toContain(SESSION);
    expect(secret.seal(SESSION)).toBe(sealed);
    expect(secret.seal(`${SESSION}x`)).not.toBe(sealed);
    expect(secret.open(sealed)).toBe(SESSION);
    expect(secret.openOrLegacy(sealed)).toBe(SESSION);
    expect(secret.openOrLegacy(SESSION)).toBe(SESSION);
  });

  test('a tampered sealed id, or one sealed under another secret, does not open', () => {
    const sealed = secret.seal(SESSION);
    const bytes = Buffer.from(sealed.slice(5), 'base64url');
    bytes[14] ^= 1;
    expect(() => secret.open(`sid1.${bytes.toString('base64url')}`)).toThrow(SealedIdError);
    expect(() => new SessionSecret(`${SECRET}-other`).open(sealed)).toThrow(SealedIdError);
    expect(() => secret.open('sid1.AAAA')).toThrow(SealedIdError);
    expect(() => secret.open(SESSION)).toThrow(SealedIdError);
  });

  test('refuses a secret shorter than 32 characters', () => {
    expect(() => new SessionSecret('x'.repeat(31))).toThrow(SessionSecretError);
  });
});

test('an input seal holds only for its workflow id and input digest, under its secret; an unsealed session only within UNSEALED_SESSIONS_UNTIL', () => {
  const secret = new SessionSecret(SECRET);
  const workflowId = sessionWorkflowId(SESSION);
  const input = { ref: sessionRef(SESSION), clientId: 'tenant-a', definition: { flowId: 'consent-only', machine: { initial: 'consent' } } };
  const inputDigest = sessionInputDigest(input);
  const seal = secret.inputSeal(workflowId, inputDigest);
  expect(secret.vouchesFor(workflowId, { inputDigest, seal })).toBe(true);
  // The same input, with its seal and a continued run's state, digests the same.
  expect(sessionInputDigest({ ...input, seal, state: { status: 'in_progress' } })).toBe(inputDigest);
  expect(secret.vouchesFor(sessionWorkflowId(`${SESSION}x`), { inputDigest, seal })).toBe(false);
  expect(secret.vouchesFor(workflowId, { inputDigest: sessionInputDigest({ ...input, clientId: 'tenant-b' }), seal })).toBe(false);
  expect(new SessionSecret(`${SECRET}-other`).vouchesFor(workflowId, { inputDigest, seal })).toBe(false);
  const now = Date.UTC(2026, 11, 6);
  for (const unsealed of [{ inputDigest, seal: null }, {}]) {
    expect(secret.vouchesFor(workflowId, unsealed, undefined, now)).toBe(false);
    expect(secret.vouchesFor(workflowId, unsealed, now + 1, now)).toBe(true);
    expect(secret.vouchesFor(workflowId, unsealed, now, now)).toBe(false);
  }
  // The window never excuses a seal that does not hold.
  expect(secret.vouchesFor(workflowId, { inputDigest, seal: `${seal.slice(0, -1)}A` === seal ? `${seal.slice(0, -1)}B` : `${seal.slice(0, -1)}A` }, now + 1, now)).toBe(false);
});

test('the workflow id is a SHA-256 of the session id, never the id; nonces are kept as SHA-256', () => {
  const expected = createHash('sha256').update(SESSION).digest('hex').slice(0, 32);
  expect(sessionRef(SESSION)).toBe(expected);
  expect(sessionWorkflowId(SESSION)).toBe(`session-${expected}`);
  expect(nonceHash('n')).toBe(createHash('sha256').update('n').digest('base64url'));
});

test('SESSION_SECRET wins and must be long enough; otherwise one is kept under the data dir, mode 0600', () => {
  expect(loadSessionSecret({ SESSION_SECRET: SECRET }, '/nonexistent').nextNonce(SESSION, 'u')).toBe(new SessionSecret(SECRET).nextNonce(SESSION, 'u'));
  expect(() => loadSessionSecret({ SESSION_SECRET: 'short' }, '/nonexistent')).toThrow(SessionSecretError);
  const dir = mkdtempSync(join(tmpdir(), 'session-secret-'));
  try {
    const first = loadSessionSecret({}, dir);
    const file = join(dir, 'session-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').length).toBeGreaterThanOrEqual(32);
    expect(loadSessionSecret({}, dir).nextNonce(SESSION, 'u')).toBe(first.nextNonce(SESSION, 'u'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
