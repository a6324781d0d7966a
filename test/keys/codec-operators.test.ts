/**
 * Named operators on the operator API (the codec server), over real HTTP on loopback: roles
 * (a viewer refused an admin action, 403 operator_role_refused), password sign-in giving a
 * signed session cookie that later decodes without another scrypt, refused and tampered
 * credentials, OIDC access tokens checked against a JWKS served here, and the OpenAPI document.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { buildCodecServer, CODEC_COOKIE } from '../../src/keys/codec-server';
import { FileKeyStore } from '../../src/keys/file-store';
import { kekOf } from '../../src/keys/kek';
import { OidcVerifier, type OidcConfig } from '../../src/operators/oidc';
import { hashPassword } from '../../src/operators/passwords';
import { OperatorRegistry, parseOperators } from '../../src/operators/registry';
import { openSession, signSession } from '../../src/operators/sessions';
import { newOperatorToken, operatorTokenSha256 } from '../../src/operators/tokens';
import { scratchAuditTrail } from '../helpers/audit';

const PASSWORD = 'correct horse battery staple';
const ADMIN_TOKEN = newOperatorToken();
const store = new FileKeyStore(mkdtempSync(join('.data', 'test-codec-operators-')), [kekOf(randomBytes(32))]);
const closers: Array<() => Promise<unknown>> = [];
let registry: OperatorRegistry;
let passwordChecks = 0;

beforeAll(async () => {
  // /encode uses the namespace key, which only the init step makes.
  await store.initialise('default');
  registry = new OperatorRegistry(
    parseOperators(
      JSON.stringify([
        { name: 'vera', role: 'viewer', passwordScrypt: await hashPassword(PASSWORD) },
        { name: 'ada', role: 'admin', tokenSha256: [operatorTokenSha256(ADMIN_TOKEN)] },
      ]),
      'test',
    ),
  );
  // Counts the slow check, then runs it: the real scrypt, nothing stubbed.
  const check = registry.byPassword.bind(registry);
  registry.byPassword = (name, password) => {
    passwordChecks += 1;
    return check(name, password);
  };
});

afterAll(async () => {
  for (const close of closers) await close();
});

async function start(extra: { sessionKey?: Buffer; oidc?: OidcVerifier } = {}) {
  const audit = scratchAuditTrail('test-codec-operators-audit-');
  const app: FastifyInstance = buildCodecServer({ keys: store, audit: audit.trail, uiOrigin: 'http://localhost:8233', operators: registry, allowedHosts: ['127.0.0.1'], defaultNamespace: 'default', ...extra });
  await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, trail: audit.trail };
}

const call = (url: string, path: string, headers: Record<string, string> = {}, body: unknown = { payloads: [] }) =>
  fetch(`${url}${path}`, { method: body === null ? 'GET' : 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(body === null ? {} : { body: JSON.stringify(body) }) });

const cookieOf = (response: Response) => (response.headers.get('set-cookie') ?? '').split(';')[0];

test('a password sign-in gives a signed cookie; decodes with it cost no scrypt; the viewer is refused admin actions with 403 operator_role_refused', async () => {
  const { url, trail } = await start();
  passwordChecks = 0;
  const signIn = await call(url, '/auth', {}, { name: 'vera', password: PASSWORD });
  expect(signIn.status).toBe(200);
  const setCookie = signIn.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(new RegExp(`^${CODEC_COOKIE}=s1\\.[^;]+; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800$`));
  expect(setCookie).not.toContain(PASSWORD);
  const cookie = { cookie: cookieOf(signIn) };
  for (let i = 0; i < 5; i += 1) expect((await call(url, '/decode', cookie)).status).toBe(200);
  expect(passwordChecks).toBe(1);
  for (const [path, body] of [['/encode', { payloads: [] }], ['/audit', null]] as const) {
    const refused = await call(url, path, cookie, body);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'operator_role_refused' });
  }
  // The admin, with their own credential, may.
  expect((await call(url, '/encode', { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  expect((await trail.query({ action: 'operator.sign_in' })).map((r) => [r.actor, r.detail])).toEqual([['operator:vera', { via: 'password' }]]);
  expect((await trail.query({ action: 'codec.decode', actor: 'operator:vera' })).filter((r) => r.phase === 'intent')).toHaveLength(5);
  expect(JSON.stringify(await trail.query({}))).not.toContain(PASSWORD);
});

test('a wrong password, an unknown name and a malformed body are refused, the first two audited as sign_in_failed; no cookie', async () => {
  const { url, trail } = await start();
  for (const body of [{ name: 'vera', password: 'not the password at all' }, { name: 'nobody', password: PASSWORD }, { name: 'ada', password: PASSWORD }]) {
    const refused = await call(url, '/auth', {}, body);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.json()).toEqual({ code: 'sign_in_refused', message: 'wrong operator name or password' });
  }
  for (const body of [{ name: 'vera' }, { token: ADMIN_TOKEN, password: PASSWORD }, { name: 'v'.repeat(65), password: PASSWORD }]) {
    const malformed = await call(url, '/auth', {}, body);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'sign_in_malformed' });
  }
  const failed = await trail.query({ action: 'operator.sign_in_failed' });
  expect(failed.map((r) => [r.actor, r.outcome, r.detail])).toEqual(Array(3).fill(['anonymous:', 'refused', { via: 'password' }]));
  expect(await trail.query({ action: 'operator.sign_in' })).toEqual([]);
  const records = JSON.stringify(await trail.query({}));
  for (const secret of [PASSWORD, 'not the password', 'nobody']) expect(records).not.toContain(secret);
});

test('a token sign-in also gives a signed cookie (never the token); a tampered, foreign or expired cookie is refused', async () => {
  const key = randomBytes(32);
  const { url } = await start({ sessionKey: key });
  const signIn = await fetch(`${url}/auth`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${ADMIN_TOKEN}` });
  expect(signIn.status).toBe(200);
  const value = cookieOf(signIn).slice(CODEC_COOKIE.length + 1);
  expect(value).not.toContain(ADMIN_TOKEN);
  expect(openSession(key, value)).toMatchObject({ name: 'ada', role: 'admin', via: 'token' });
  expect((await call(url, '/encode', { cookie: `${CODEC_COOKIE}=${value}` })).status).toBe(200);

  const [prefix, payload, mac] = value.split('.');
  const promoted = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), name: 'vera' })).toString('base64url');
  const viewerAsAdmin = signSession(randomBytes(32), { name: 'vera', role: 'admin' }, 'password').value;
  const expired = signSession(key, { name: 'ada', role: 'admin' }, 'token', Date.now() - 9 * 3600 * 1000).value;
  const wrongRole = signSession(key, { name: 'vera', role: 'admin' }, 'password').value;
  for (const forged of [`${prefix}.${promoted}.${mac}`, `${prefix}.${payload}.${mac.slice(0, -2)}AA`, viewerAsAdmin, expired, wrongRole, ADMIN_TOKEN]) {
    const refused = await call(url, '/decode', { cookie: `${CODEC_COOKIE}=${forged}` });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'operator_credential_required' });
  }
});

describe('OIDC access tokens', () => {
  const ISSUER = 'https://id.example.test/realms/ops';
  const AUDIENCE = 'sessionflow-operators';
  let jwks: Server;
  let signer: KeyLike;
  let other: KeyLike;
  let config: OidcConfig;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signer = pair.privateKey;
    ({ privateKey: other } = await generateKeyPair('ES256'));
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => jwks.close(resolve)));
    config = { issuer: ISSUER, audience: AUDIENCE, jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`, operatorClaim: 'preferred_username', roleClaim: 'groups', roles: { 'sf-viewers': 'viewer', 'sf-reviewers': 'reviewer', 'sf-admins': 'admin' } };
  });

  const token = (claims: Record<string, unknown>, options: { key?: KeyLike; issuer?: string; audience?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(options.key ?? signer);

  test("a token from the issuer's key maps to its operator and role; another key, issuer or audience, or no mapped group, is refused", async () => {
    const { url, trail } = await start({ oidc: new OidcVerifier(config) });
    const reviewer = { authorization: `Bearer ${await token({ preferred_username: 'rita', groups: ['staff', 'sf-viewers', 'sf-reviewers'] })}` };
    expect((await call(url, '/decode', reviewer)).status).toBe(200);
    const encode = await call(url, '/encode', reviewer);
    expect(encode.status).toBe(403);
    expect(await encode.json()).toMatchObject({ code: 'operator_role_refused', message: 'operator "rita" (reviewer) may not encode' });
    const admin = { authorization: `Bearer ${await token({ preferred_username: 'ola', groups: 'sf-admins' })}` };
    expect((await call(url, '/encode', admin)).status).toBe(200);
    expect((await trail.query({ action: 'codec.decode' })).map((r) => r.actor)).toEqual(['operator:rita', 'operator:rita']);

    const refused = [
      await token({ preferred_username: 'rita', groups: ['sf-admins'] }, { key: other }),
      await token({ preferred_username: 'rita', groups: ['sf-admins'] }, { issuer: 'https://evil.example.test' }),
      await token({ preferred_username: 'rita', groups: ['sf-admins'] }, { audience: 'another-app' }),
      await token({ preferred_username: 'rita', groups: ['staff'] }),
      await token({ groups: ['sf-admins'] }),
    ];
    for (const jwt of refused) expect((await call(url, '/decode', { authorization: `Bearer ${jwt}` })).status).toBe(401);
    expect((await trail.query({ action: 'operator.auth_failed' })).map((r) => r.detail)).toEqual(Array(refused.length).fill({ credential: 'oidc' }));
  });
});

test('GET /openapi.json describes the operator API: each route, the permission it wants, the credentials', async () => {
  const { url } = await start();
  const response = await fetch(`${url}/openapi.json`);
  expect(response.status).toBe(200);
  const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { 'x-permission'?: string }>>; components: { securitySchemes: Record<string, unknown> } };
  expect(document.openapi).toBe('3.1.0');
  expect(Object.keys(document.paths).sort()).toEqual(['/audit', '/auth', '/decode', '/encode']);
  expect(document.paths['/decode'].post['x-permission']).toBe('decode');
  expect(document.paths['/encode'].post['x-permission']).toBe('encode');
  expect(document.paths['/audit'].get['x-permission']).toBe('audit');
  expect(document.paths['/auth'].post['x-permission']).toBeUndefined();
  expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['operatorBearer', 'operatorCookie']);
});

test('the registry refuses a malformed password hash and an operator with no credential, naming the operator', () => {
  expect(() => parseOperators('[{"name":"vera","role":"viewer","passwordScrypt":"plain-text"}]', 'OPS')).toThrow(/operator 1 \("vera"\): passwordScrypt must be/);
  expect(() => parseOperators('[{"name":"vera","role":"viewer","passwordScrypt":"scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]', 'OPS')).toThrow(/passwordScrypt must be/);
  expect(() => parseOperators('[{"name":"vera","role":"viewer"}]', 'OPS')).toThrow(/operator 1 \("vera"\): needs a credential/);
});

test('npm run operators -- hash-password reads the password from stdin and prints a hash that signs in', async () => {
  const run = (input: string, args = ['hash-password']) => spawnSync('node', ['--import', 'tsx', 'scripts/operators.ts', ...args], { input, encoding: 'utf8' });
  const made = run(`${PASSWORD}\n`);
  expect(made.status).toBe(0);
  const hash = made.stdout.trim();
  expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
  expect(made.stdout + made.stderr).not.toContain(PASSWORD);
  const fromFile = new OperatorRegistry(parseOperators(JSON.stringify([{ name: 'cli', role: 'viewer', passwordScrypt: hash }]), 'test'));
  expect(await fromFile.byPassword('cli', PASSWORD)).toEqual({ name: 'cli', role: 'viewer' });
  expect(await fromFile.byPassword('cli', `${PASSWORD}!`)).toBeNull();
  // Too short: refused, nothing printed; a password on the command line is not taken.
  expect(run('short\n')).toMatchObject({ status: 1, stdout: '' });
  expect(run('', ['hash-password', PASSWORD])).toMatchObject({ status: 2, stdout: '' });
});
