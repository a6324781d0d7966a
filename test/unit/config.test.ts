import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { REPO_ROOT } from './fixtures';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

let dir: string;
let certPath: string;
let keyPath: string;
let caPath: string;
/** A key of another certificate, and a file that is neither a certificate nor a key. */
let otherKeyPath: string;
let junkPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sessionflow-config-'));
  // Real certificates, as `make cluster` makes them: two sets, each with its own CA.
  for (const set of ['a', 'b']) {
    const made = spawnSync('sh', [join(REPO_ROOT, 'scripts', 'temporal-certs.sh'), join(dir, set)], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`temporal-certs.sh failed: ${made.stderr}`);
  }
  certPath = join(dir, 'a', 'clients', 'api.pem');
  keyPath = join(dir, 'a', 'clients', 'api.key');
  caPath = join(dir, 'a', 'clients', 'ca.pem');
  otherKeyPath = join(dir, 'b', 'clients', 'api.key');
  junkPath = join(dir, 'junk.pem');
  writeFileSync(junkPath, 'NOT PEM AT ALL');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadConfig defaults', () => {
  it('fits the embedded stack with an empty environment', () => {
    const config = loadConfig({});
    expect(config.temporal).toEqual({ address: 'localhost:7233', namespace: 'default', taskQueue: 'sessionflow', tls: false, workflowTaskTimeoutMs: 5_000 });
    expect(config.workerStickyQueueTimeoutMs).toBe(2_000);
    expect(config.api).toEqual({
      host: '127.0.0.1',
      port: 8080,
      bodyLimitBytes: 65536,
      addressLimits: { deviceClientsPerMinute: 20, launchesPerMinute: 60, authFailuresPerMinute: 20, sessionRequestsPerMinute: 600, sessionFailuresPerMinute: 30 },
      trustedProxies: [],
      deviceClientUnusedMs: 3_600_000,
      handoffTtlMs: 600_000,
    });
    expect(config.sandbox).toEqual({ host: '127.0.0.1', port: 8090 });
    expect(config.flowsDir).toBe('flows');
    expect(config.dataDir).toBe('.data');
    expect(config.logLevel).toBe('info');
    expect(config.workflowBundlePath).toBeUndefined();
    expect(config.providers.attestr.baseUrl).toBe('http://127.0.0.1:8090/attestr');
    expect(config.providers.finqware.baseUrl).toBe('http://127.0.0.1:8090/finqware');
    expect(config.temporal).not.toHaveProperty('apiKey');
  });

  it('reads per-address limits and trusted proxies, and refuses what is not an address or range', () => {
    const config = loadConfig({ ADDRESS_DEVICE_CLIENTS_PER_MINUTE: '5', TRUSTED_PROXIES: '10.0.0.1, 10.1.0.0/16,::1', DEVICE_CLIENT_UNUSED_SECONDS: '60' });
    expect(config.api.addressLimits.deviceClientsPerMinute).toBe(5);
    expect(config.api.trustedProxies).toEqual(['10.0.0.1', '10.1.0.0/16', '::1']);
    expect(config.api.deviceClientUnusedMs).toBe(60_000);
    for (const bad of ['proxy.example', '10.0.0.1/33', '10.0.0.0/8/1', '*']) expect(configError({ TRUSTED_PROXIES: bad }).message).toMatch(/TRUSTED_PROXIES/);
    expect(configError({ ADDRESS_LAUNCHES_PER_MINUTE: '0' }).message).toMatch(/ADDRESS_LAUNCHES_PER_MINUTE/);
    const session = loadConfig({ ADDRESS_SESSION_REQUESTS_PER_MINUTE: '1200', ADDRESS_SESSION_FAILURES_PER_MINUTE: '10' }).api.addressLimits;
    expect(session).toMatchObject({ sessionRequestsPerMinute: 1200, sessionFailuresPerMinute: 10 });
    expect(configError({ ADDRESS_SESSION_FAILURES_PER_MINUTE: '0' }).message).toMatch(/ADDRESS_SESSION_FAILURES_PER_MINUTE/);
  });

  it('reads how soon a dead worker is noticed, within the bounds Temporal allows', () => {
    const config = loadConfig({ WORKFLOW_TASK_TIMEOUT_SECONDS: '10', WORKER_STICKY_QUEUE_TIMEOUT_SECONDS: '5' });
    expect(config.temporal.workflowTaskTimeoutMs).toBe(10_000);
    expect(config.workerStickyQueueTimeoutMs).toBe(5_000);
    // Temporal refuses a workflow task timeout over 120 s; no fractions, no zero.
    for (const bad of ['0', '121', '2.5', 'soon']) expect(configError({ WORKFLOW_TASK_TIMEOUT_SECONDS: bad }).message).toMatch(/^WORKFLOW_TASK_TIMEOUT_SECONDS /);
    for (const bad of ['0', '61', 'never']) expect(configError({ WORKER_STICKY_QUEUE_TIMEOUT_SECONDS: bad }).message).toMatch(/^WORKER_STICKY_QUEUE_TIMEOUT_SECONDS /);
  });

  it('reads how long a handoff link works, within a day', () => {
    expect(loadConfig({ HANDOFF_TTL_SECONDS: '30' }).api.handoffTtlMs).toBe(30_000);
    for (const bad of ['0', '86401', 'ten']) expect(configError({ HANDOFF_TTL_SECONDS: bad }).message).toMatch(/HANDOFF_TTL_SECONDS/);
  });

  it("sends make start's access lines to a file unless SESSIONFLOW_ACCESS_LOG=stdout, and reads the inbox's webhook secret", () => {
    expect(loadConfig({}).accessLog).toBe('file');
    expect(loadConfig({ SESSIONFLOW_ACCESS_LOG: 'stdout' }).accessLog).toBe('stdout');
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    expect(loadConfig({ SANDBOX_INBOX_WEBHOOK_SECRET: secret }).sandbox).toEqual({ host: '127.0.0.1', port: 8090, inboxWebhookSecret: secret });
    // A bad secret is named, never repeated.
    const wrong = `whsec_${Buffer.alloc(8, 9).toString('base64')}`;
    expect(configError({ SANDBOX_INBOX_WEBHOOK_SECRET: wrong }).message).not.toContain(wrong.slice(6));
  });

  it('reads UNTAGGED_NONCES_UNTIL as an instant with its offset, unset by default, and refuses anything else', () => {
    expect(loadConfig({}).api).not.toHaveProperty('untaggedNoncesUntil');
    expect(loadConfig({ UNTAGGED_NONCES_UNTIL: '2030-01-31T00:00:00Z' }).api.untaggedNoncesUntil).toBe(Date.UTC(2030, 0, 31));
    expect(loadConfig({ UNTAGGED_NONCES_UNTIL: '2030-01-31T02:00:00+02:00' }).api.untaggedNoncesUntil).toBe(Date.UTC(2030, 0, 31));
    for (const bad of ['2030-01-31', 'tomorrow', '2030-13-45T00:00:00Z', '2030-01-31T00:00:00']) expect(configError({ UNTAGGED_NONCES_UNTIL: bad }).message).toMatch(/UNTAGGED_NONCES_UNTIL/);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '', TEMPORAL_ADDRESS: '', LOG_LEVEL: '', TEMPORAL_TLS: '', TEMPORAL_API_KEY: '' });
    expect(config.api.port).toBe(8080);
    expect(config.temporal.address).toBe('localhost:7233');
    expect(config.temporal.tls).toBe(false);
  });

  it('reads the values it is given', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7000',
      TEMPORAL_NAMESPACE: 'prod',
      TEMPORAL_TASK_QUEUE: 'q1',
      PORT: '65535',
      HOST: '0.0.0.0',
      BODY_LIMIT_BYTES: '1',
      LOG_LEVEL: 'silent',
      WORKFLOW_BUNDLE_PATH: '/tmp/bundle.js',
    });
    expect(config.temporal).toMatchObject({ address: 'temporal.internal:7000', namespace: 'prod', taskQueue: 'q1' });
    expect(config.api).toMatchObject({ host: '0.0.0.0', port: 65535, bodyLimitBytes: 1 });
    expect(config.logLevel).toBe('silent');
    expect(config.workflowBundlePath).toBe('/tmp/bundle.js');
  });
});

describe('loadConfig refuses bad values, naming the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '0'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['SANDBOX_PORT', 'x'],
    ['TEMPORAL_ADDRESS', 'nohost'],
    ['TEMPORAL_ADDRESS', 'http://host:7233'],
    ['TEMPORAL_ADDRESS', 'host:port'],
    ['LOG_LEVEL', 'loud'],
    ['TEMPORAL_TLS', 'maybe'],
    ['ATTESTR_BASE_URL', 'ftp://x'],
    ['ATTESTR_BASE_URL', 'not a url'],
    ['FINQWARE_BASE_URL', 'file:///etc/passwd'],
    ['BODY_LIMIT_BYTES', '0'],
    ['BODY_LIMIT_BYTES', '1k'],
    ['HOST', ' 0.0.0.0'],
    ['API_METRICS_PORT', 'metrics'],
    ['API_METRICS_PORT', '8080'],
    ['WORKER_METRICS_PORT', '70000'],
    ['WORKER_MAX_CACHED_WORKFLOWS', '0'],
    ['WORKER_MAX_CACHED_WORKFLOWS', 'lots'],
    ['SESSIONFLOW_KEY_STORE_ID', 'production'],
    ['SESSIONFLOW_KEY_STORE_ID', '0F8FAD5B-D9CB-469F-A165-70867728950E'],
    ['SESSIONFLOW_ACCESS_LOG', 'stderr'],
    ['SANDBOX_INBOX_WEBHOOK_SECRET', 'not-a-whsec-secret'],
    ['SANDBOX_INBOX_WEBHOOK_SECRET', `whsec_${Buffer.alloc(16, 1).toString('base64')}`],
    ['SESSIONFLOW_FUNNEL_URL', 'mysql://db/funnel'],
    ['SESSIONFLOW_FUNNEL_RETENTION_DAYS', '89'],
    ['SESSIONFLOW_FUNNEL_RETENTION_DAYS', 'forever'],
  ])('%s=%p', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable} `)).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  it('keeps the funnel in files for 400 days unless told otherwise, and at least 90', () => {
    expect(loadConfig({}).funnel).toEqual({ retentionDays: 400 });
    expect(loadConfig({ SESSIONFLOW_FUNNEL_URL: 'postgres://db/funnel', SESSIONFLOW_FUNNEL_RETENTION_DAYS: '90' }).funnel).toEqual({ url: 'postgres://db/funnel', retentionDays: 90 });
  });

  it('refuses one port for the worker metrics and health servers', () => {
    expect(configError({ WORKER_METRICS_PORT: '9465', WORKER_HEALTH_PORT: '9465' }).variable).toBe('WORKER_METRICS_PORT');
    expect(loadConfig({ WORKER_METRICS_PORT: '9465', WORKER_HEALTH_PORT: '9466' }).workerMetricsPort).toBe(9465);
  });

  it('takes the key store id the init step prints, and none when it is empty', () => {
    expect(loadConfig({ SESSIONFLOW_KEY_STORE_ID: '0f8fad5b-d9cb-469f-a165-70867728950e' }).keys.keyStoreId).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(loadConfig({ SESSIONFLOW_KEY_STORE_ID: '' }).keys.keyStoreId).toBeUndefined();
  });

  it('sizes the worker cache only when asked', () => {
    expect(loadConfig({}).workerMaxCachedWorkflows).toBeUndefined();
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '6000' }).workerMaxCachedWorkflows).toBe(6000);
  });

  it('refuses a client certificate without its key, naming the missing one', () => {
    const err = configError({ TEMPORAL_TLS_CLIENT_CERT_PATH: certPath });
    expect(err.variable).toBe('TEMPORAL_TLS_CLIENT_KEY_PATH');
    expect(err.message).toContain('TEMPORAL_TLS_CLIENT_KEY_PATH');
  });

  it('refuses a client key without its certificate, naming the missing one', () => {
    expect(configError({ TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath }).variable).toBe('TEMPORAL_TLS_CLIENT_CERT_PATH');
  });

  it('refuses a certificate path to a missing file without printing the path', () => {
    const missing = join(dir, 'home-of-someone', 'missing-cert.pem');
    const err = configError({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath });
    expect(err.variable).toBe('TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(err.message).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(err.message).not.toContain(missing);
    expect(err.message).not.toContain('home-of-someone');
  });

  it('refuses a CA path to a missing file without printing the path', () => {
    const missing = join(dir, 'nope-ca.pem');
    const err = configError({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing });
    expect(err.variable).toBe('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    expect(err.message).not.toContain('nope-ca');
  });
});

describe('loadConfig metrics ports', () => {
  it('are off unless set, and read when set', () => {
    expect(loadConfig({}).api.metricsPort).toBeUndefined();
    expect(loadConfig({}).workerMetricsPort).toBeUndefined();
    const config = loadConfig({ API_METRICS_PORT: '9465', WORKER_METRICS_PORT: '9466' });
    expect(config.api.metricsPort).toBe(9465);
    expect(config.workerMetricsPort).toBe(9466);
  });
});

describe('loadConfig TLS', () => {
  it('turns TLS on for an API key and keeps the key', () => {
    const { temporal } = loadConfig({ TEMPORAL_API_KEY: 'key-123' });
    expect(temporal.tls).toEqual({});
    expect(temporal.apiKey).toBe('key-123');
  });

  it('keeps TLS off when TEMPORAL_TLS=false even with an API key', () => {
    const { temporal } = loadConfig({ TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: 'false' });
    expect(temporal.tls).toBe(false);
    expect(temporal.apiKey).toBe('key-123');
  });

  it.each(['true', 'TRUE', '1', 'yes'])('turns TLS on for TEMPORAL_TLS=%s', (value) => {
    expect(loadConfig({ TEMPORAL_TLS: value }).temporal.tls).toEqual({});
  });

  it.each(['false', 'No', '0'])('keeps TLS off for TEMPORAL_TLS=%s', (value) => {
    expect(loadConfig({ TEMPORAL_TLS: value }).temporal.tls).toBe(false);
  });

  it('loads a client certificate pair, a CA and a server name', () => {
    const { temporal } = loadConfig({
      TEMPORAL_TLS_CLIENT_CERT_PATH: certPath,
      TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: caPath,
      TEMPORAL_TLS_SERVER_NAME: 'ns.tmprl.cloud',
    });
    // serverNameOverride: the SDK's name for it (the server's certificate is checked against it).
    expect(temporal.tls).toEqual({
      serverNameOverride: 'ns.tmprl.cloud',
      serverRootCACertificate: readFileSync(caPath),
      clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) },
    });
  });

  it('turns TLS on for a server name alone', () => {
    expect(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'x.example' }).temporal.tls).toEqual({ serverNameOverride: 'x.example' });
  });

  it.each([
    ['a client certificate that is not PEM', { TEMPORAL_TLS_CLIENT_CERT_PATH: 'junk', TEMPORAL_TLS_CLIENT_KEY_PATH: 'key' }, 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'must name a file of PEM certificates'],
    ['a client key that is not a key', { TEMPORAL_TLS_CLIENT_CERT_PATH: 'cert', TEMPORAL_TLS_CLIENT_KEY_PATH: 'junk' }, 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'must name a PEM private key'],
    ['the key of another certificate', { TEMPORAL_TLS_CLIENT_CERT_PATH: 'cert', TEMPORAL_TLS_CLIENT_KEY_PATH: 'otherKey' }, 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'is not the key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH'],
    ['a CA file without a certificate', { TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'junk' }, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'must name a file of PEM certificates'],
    ['TLS off with a certificate', { TEMPORAL_TLS: 'false', TEMPORAL_TLS_CLIENT_CERT_PATH: 'cert', TEMPORAL_TLS_CLIENT_KEY_PATH: 'key' }, 'TEMPORAL_TLS', 'is false, but TEMPORAL_TLS_CLIENT_CERT_PATH is set'],
    ['TLS off with a server name', { TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'temporal' }, 'TEMPORAL_TLS', 'is false, but TEMPORAL_TLS_SERVER_NAME is set'],
  ])('refuses %s in one line naming the variable, never the file', (_, files, variable, problem) => {
    const paths: Record<string, string> = { junk: junkPath, cert: certPath, key: keyPath, otherKey: otherKeyPath };
    const env = Object.fromEntries(Object.entries(files).map(([name, file]) => [name, paths[file] ?? file]));
    const err = configError(env);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(problem);
    expect(err.message).not.toContain('\n');
    expect(err.message).not.toContain(dir);
    expect(err.message).not.toContain('NOT PEM');
  });

  it('refuses an expired client certificate, saying when it expired', () => {
    const validTo = new Date(new X509Certificate(readFileSync(certPath)).validTo);
    jest.useFakeTimers({ now: validTo.getTime() + 24 * 3600_000 });
    try {
      const err = configError({ TEMPORAL_TLS_CLIENT_CERT_PATH: certPath, TEMPORAL_TLS_CLIENT_KEY_PATH: keyPath });
      expect(err.variable).toBe('TEMPORAL_TLS_CLIENT_CERT_PATH');
      expect(err.message).toBe(`TEMPORAL_TLS_CLIENT_CERT_PATH names a certificate that expired on ${validTo.toISOString().slice(0, 10)}`);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('loadConfig provider URLs', () => {
  it('points the default provider URLs at SANDBOX_PORT', () => {
    const config = loadConfig({ SANDBOX_PORT: '9100' });
    expect(config.sandbox.port).toBe(9100);
    expect(config.providers.attestr.baseUrl).toBe('http://127.0.0.1:9100/attestr');
    expect(config.providers.finqware.baseUrl).toBe('http://127.0.0.1:9100/finqware');
  });

  it('removes trailing slashes from URLs', () => {
    const config = loadConfig({
      ATTESTR_BASE_URL: 'https://api.attestr.example/v2/',
      ATTESTR_CLIENT_SECRET: 'a-secret',
      FINQWARE_BASE_URL: 'http://fq.example///',
      FINQWARE_CLIENT_APP_KEY: 'f-key',
    });
    expect(config.providers.attestr.baseUrl).toBe('https://api.attestr.example/v2');
    expect(config.providers.finqware.baseUrl).toBe('http://fq.example');
  });

  it.each([
    ['ATTESTR_BASE_URL', 'ATTESTR_CLIENT_SECRET'],
    ['FINQWARE_BASE_URL', 'FINQWARE_CLIENT_APP_KEY'],
  ])('a real %s needs %s: the sandbox default secret is public', (baseUrl, secret) => {
    expect(() => loadConfig({ [baseUrl]: 'https://vendor.example' })).toThrow(new RegExp(`^${secret} must be set when ${baseUrl} is set`));
    expect(() => loadConfig({ [baseUrl]: 'https://vendor.example', [secret]: 'real-secret' })).not.toThrow();
  });

  it('reads provider credentials', () => {
    const config = loadConfig({ ATTESTR_CLIENT_ID: 'a-id', ATTESTR_CLIENT_SECRET: 'a-s', FINQWARE_CLIENT_ID: 'f-id', FINQWARE_CLIENT_APP_KEY: 'f-k' });
    expect(config.providers.attestr).toMatchObject({ clientId: 'a-id', secret: 'a-s' });
    expect(config.providers.finqware).toMatchObject({ clientId: 'f-id', secret: 'f-k' });
  });
});

describe('loadConfigOrExit in a process', () => {
  it('exits with code 2 and one stderr line naming the variable', () => {
    const child = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['-e', "require('./src/config').loadConfigOrExit()"], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), TEMPORAL_ADDRESS: 'bad' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.error).toBeUndefined();
    expect(child.status).toBe(2);
    const lines = child.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(child.stderr.endsWith('\n')).toBe(true);
    expect(lines[0]).toContain('TEMPORAL_ADDRESS');
    expect(child.stderr).toMatch(/^[^\n]*TEMPORAL_ADDRESS[^\n]*\n$/);
    expect(child.stdout).toBe('');
  });

  it('exits normally with a good configuration', () => {
    const child = spawnSync(
      join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      ['-e', "const c = require('./src/config').loadConfigOrExit(); process.stdout.write(c.temporal.address)"],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), TEMPORAL_ADDRESS: 'good-host:7233' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('good-host:7233');
    expect(child.stderr).toBe('');
  });
});

describe('TEMPORAL_ADDRESS and BODY_LIMIT_BYTES ranges', () => {
  test.each(['localhost:0', 'localhost:99999', 'host:port'])('TEMPORAL_ADDRESS=%s is refused', (address) => {
    expect(() => loadConfig({ TEMPORAL_ADDRESS: address })).toThrow(/^TEMPORAL_ADDRESS /);
  });

  test('an IPv6 address in brackets is accepted', () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: '[::1]:7233' }).temporal.address).toBe('[::1]:7233');
  });

  test('an absurd body limit is refused', () => {
    expect(() => loadConfig({ BODY_LIMIT_BYTES: '99999999999999999999999' })).toThrow(/^BODY_LIMIT_BYTES /);
  });
});

describe('the codec server, the worker monitoring servers and the development KEK', () => {
  const secret = 'A'.repeat(43);

  it('the codec server answers for loopback names, believes no proxy and has no UI capability unless set', () => {
    expect(loadConfig({}).codec).toEqual({ host: '127.0.0.1', port: 8081, uiOrigin: 'http://localhost:8233', allowedHosts: ['localhost', '127.0.0.1', '::1'], trustedProxies: [] });
    const config = loadConfig({ CODEC_ALLOWED_HOSTS: 'Codec.Example, 10.0.0.5', CODEC_TRUSTED_PROXIES: '10.0.0.0/8', CODEC_UI_CAPABILITY: `dev-admin:${secret}` });
    expect(config.codec).toMatchObject({ allowedHosts: ['codec.example', '10.0.0.5'], trustedProxies: ['10.0.0.0/8'], uiCapability: { operator: 'dev-admin', secret } });
  });

  it.each([
    ['CODEC_ALLOWED_HOSTS', 'codec.example:8081'],
    ['CODEC_ALLOWED_HOSTS', '*'],
    ['CODEC_TRUSTED_PROXIES', 'proxy.example'],
    ['CODEC_UI_CAPABILITY', secret],
    ['CODEC_UI_CAPABILITY', 'dev-admin:short'],
    ['CODEC_UI_CAPABILITY', `dev admin:${secret}`],
    ['WORKER_MONITORING_HOST', 'localhost'],
    ['WORKER_MONITORING_HOST', '0.0.0.0:9464'],
  ])('refuses %s=%p, naming it', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.variable).toBe(variable);
    if (variable === 'CODEC_UI_CAPABILITY') expect(err.message).not.toContain('short');
  });

  it('refuses the old shared CODEC_OPERATOR_TOKEN, saying what replaced it, without repeating it', () => {
    const err = configError({ CODEC_OPERATOR_TOKEN: 'operator-token-0123456789-abcdefghijkl' });
    expect(err.variable).toBe('CODEC_OPERATOR_TOKEN');
    expect(err.message).toContain('SESSIONFLOW_OPERATORS_FILE');
    expect(err.message).not.toContain('0123456789');
  });

  it('worker metrics and health listen on loopback unless set', () => {
    expect(loadConfig({}).workerMonitoringHost).toBe('127.0.0.1');
    expect(loadConfig({ WORKER_MONITORING_HOST: '0.0.0.0' }).workerMonitoringHost).toBe('0.0.0.0');
  });

  it("keeps the development KEK in the user's data folder, outside DATA_DIR, unless set", () => {
    expect(loadConfig({ HOME: '/home/someone' }).keys.devKekDir).toBe('/home/someone/.local/share/sessionflow/dev-keks');
    expect(loadConfig({ XDG_DATA_HOME: '/xdg' }).keys.devKekDir).toBe('/xdg/sessionflow/dev-keks');
    expect(loadConfig({ SESSIONFLOW_DEV_KEK_DIR: '/keks', XDG_DATA_HOME: '/xdg' }).keys.devKekDir).toBe('/keks');
  });
});
