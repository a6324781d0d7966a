import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceTokens } from '../../src/api/device-tokens';
import { ConfigError } from '../../src/config';
import { loadDeviceTokenSecret } from '../../src/settings';
import { redirectAllowed } from '../../src/api/redirects';

const SECRET = 'unit-test-device-token-secret-0123456789';
const NOW = Date.UTC(2026, 10, 22, 12);

describe('DeviceTokens', () => {
  const tokens = new DeviceTokens(SECRET, 60_000);
  const claims = { sub: 'dc_1', ten: 'tenant-a', ref: NOW + 3_600_000 };

  test('a token verifies until it expires, then only for a refresh, until the refresh window ends', () => {
    const token = tokens.issue(claims, NOW);
    expect(token).toMatch(/^sfc1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(tokens.verify(token, NOW + 59_999)).toEqual({ ok: true, claims: { ...claims, iat: NOW, exp: NOW + 60_000 } });
    expect(tokens.verify(token, NOW + 60_000)).toEqual({ ok: false, reason: 'expired' });
    expect(tokens.verify(token, NOW + 60_000, { allowExpired: true }).ok).toBe(true);
    expect(tokens.verify(token, claims.ref, { allowExpired: true })).toEqual({ ok: false, reason: 'beyond_refresh' });
  });

  test('another key, an edited payload or a malformed token do not verify', () => {
    const token = tokens.issue(claims, NOW);
    const [prefix, , signature] = token.split('.');
    const edited = Buffer.from(JSON.stringify({ ...claims, sub: 'dc_2', iat: NOW, exp: NOW + 60_000 })).toString('base64url');
    expect(new DeviceTokens(`${SECRET}-other`).verify(token, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(tokens.verify(`${prefix}.${edited}.${signature}`, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    for (const bad of [undefined, '', 'sfc1..', 'sfc2.a.b', token.slice(0, -2)]) expect(tokens.verify(bad, NOW).ok).toBe(false);
  });

  test('short secrets are refused', () => {
    expect(() => new DeviceTokens('short')).toThrow('at least 32 characters');
  });
});

describe('loadDeviceTokenSecret', () => {
  test('DEVICE_TOKEN_SECRET wins and must be long enough; otherwise one is kept under the data dir', () => {
    expect(loadDeviceTokenSecret({ DEVICE_TOKEN_SECRET: SECRET }, '/nonexistent')).toBe(SECRET);
    expect(() => loadDeviceTokenSecret({ DEVICE_TOKEN_SECRET: 'short' }, '/nonexistent')).toThrow(ConfigError);
    const dir = mkdtempSync(join(tmpdir(), 'sessionflow-tokens-'));
    try {
      const first = loadDeviceTokenSecret({}, join(dir, 'data'));
      expect(first.length).toBeGreaterThanOrEqual(32);
      expect(loadDeviceTokenSecret({}, join(dir, 'data'))).toBe(first);
      expect(readFileSync(join(dir, 'data', 'device-token-secret'), 'utf8')).toBe(first);
      expect(statSync(join(dir, 'data', 'device-token-secret')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redirectAllowed', () => {
  const allow = ['https://app.example.com/callback', 'http://localhost:3000/'];
  test.each([
    ['https://app.example.com/callback', true],
    ['https://app.example.com/callback/deeper?x=1#y', true],
    ['http://localhost:3000/anything', true],
    ['https://app.example.com/other', false],
    ['https://app.example.com/callbackevil', false],
    ['https://app.example.com:8443/callback', false],
    ['http://app.example.com/callback', false],
    ['https://evil.example/callback', false],
    ['https://app.example.com@evil.example/callback', false],
    ['javascript:alert(1)', false],
    ['data:text/html,hi', false],
    ['//app.example.com/callback', false],
    ['/callback', false],
    // Path parameters: servlet containers read `..;` as `..` (issue 23, item 6).
    ['https://app.example.com/callback/..;/evil', false],
    ['https://app.example.com/callback/..;jsessionid=1/evil', false],
    ['https://app.example.com/callback;x=1/deeper', false],
    ['https://app.example.com/callback/.;/deeper', false],
    ['https://app.example.com/callback/%3b/deeper', false],
    ['https://app.example.com/callback/%2e%2e/evil', false],
    ['https://app.example.com/callback/%2E%2E;/evil', false],
    ['https://app.example.com/callback\\..\\evil', false],
    ['https://app.example.com/callback/deeper\\x', false],
    ['https://app.example.com/callback/deeper?next=a;b', true],
  ])('%s → %s', (target, allowed) => {
    expect(redirectAllowed(target, allow)).toBe(allowed);
  });
});
