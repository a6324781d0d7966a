import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import {
  ClientDirectory,
  DEV_CLIENTS_SOURCE,
  devInboxSecret,
  loadClients,
  parseClients,
  type TenantClient,
} from '../../src/tenants/registry';
import { ConfigError } from '../../src/config';
import { tenantPageUrls } from '../../src/util/tenant-pages';

// Clients are built as loose JSON here, since most of them are deliberately wrong.
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A secret that must never appear in any error message. */
const DISTINCTIVE_SECRET = 'Zebediah-Quixotefield-S3cr3t-9412';
/** "ABC" eight times: 24 bytes, the smallest Standard Webhooks secret. */
const WHSEC_24 = 'whsec_QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD';
/** 21 x "ABC" + "A": 64 bytes, the largest. */
const WHSEC_64 = `whsec_${'QUJD'.repeat(21)}QQ==`;

function fullClient(): Json {
  return {
    id: 'acme',
    secret: DISTINCTIVE_SECRET,
    webhookUrl: 'https://hooks.acme.example/sessionflow?x=1',
    webhookSecret: WHSEC_24,
    perSecond: 5,
    perDay: 1000,
    redirectUrls: ['https://app.acme.example/done', 'http://localhost:3000/callback?state=1'],
  };
}

function clientsError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const error = err as ConfigError;
    expect(error.name).toBe('ConfigError');
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain(DISTINCTIVE_SECRET);
    return error;
  }
  throw new Error('expected a ConfigError');
}

/** The message for a registry of one client changed by `change`. */
function problemWith(change: (client: Json) => void): string {
  const client = fullClient();
  change(client);
  return clientsError(() => parseClients(JSON.stringify([client]), 'SESSIONFLOW_CLIENTS')).message;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sessionflow-clients-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  jest.restoreAllMocks();
});

describe('parseClients: valid registries', () => {
  it('accepts a client using every key, and keeps the values as given', () => {
    const clients = parseClients(JSON.stringify([fullClient()]), 'SESSIONFLOW_CLIENTS');
    expect(clients).toEqual([fullClient()]);
  });

  it('accepts a minimal client and several clients', () => {
    const text = JSON.stringify([
      { id: 'a', secret: '0123456789abcdef' },
      { id: 'B.2_x-y', secret: 'fedcba9876543210:with-colon' },
    ]);
    expect(parseClients(text, 'x')).toEqual([
      { id: 'a', secret: '0123456789abcdef' },
      { id: 'B.2_x-y', secret: 'fedcba9876543210:with-colon' },
    ]);
  });

  it('accepts the bounds: 64-character id, 16-character secret, 64-byte webhook secret', () => {
    const id = `x${'y'.repeat(63)}`;
    const clients = parseClients(JSON.stringify([{ id, secret: 's'.repeat(16), webhookSecret: WHSEC_64 }]), 'x');
    expect(clients[0].id).toBe(id);
    expect(clients[0].webhookSecret).toBe(WHSEC_64);
  });
});

describe('parseClients: each rule refused', () => {
  it('refuses malformed JSON without quoting the text', () => {
    const text = `[{"id":"acme","secret":"${DISTINCTIVE_SECRET}"`;
    expect(clientsError(() => parseClients(text, 'SESSIONFLOW_CLIENTS')).message).toBe('SESSIONFLOW_CLIENTS must be a JSON array of clients (it is not valid JSON)');
  });

  it('refuses anything but an array, and an empty array', () => {
    expect(clientsError(() => parseClients(JSON.stringify(fullClient()), 'SESSIONFLOW_CLIENTS')).message).toBe(
      'SESSIONFLOW_CLIENTS must be a JSON array of clients',
    );
    expect(clientsError(() => parseClients('[]', 'SESSIONFLOW_CLIENTS_FILE')).message).toBe(
      'SESSIONFLOW_CLIENTS_FILE must list at least one client',
    );
  });

  it('refuses an entry that is not an object', () => {
    expect(clientsError(() => parseClients(`["${DISTINCTIVE_SECRET}"]`, 'S')).message).toBe('S client 1: must be an object');
  });

  it('refuses unknown keys', () => {
    expect(problemWith((c) => (c.webhook_url = 'https://x.example'))).toBe('SESSIONFLOW_CLIENTS client 1 ("acme"): has unknown key "webhook_url"');
    // A key that looks like a value (here the secret itself) is not echoed.
    expect(problemWith((c) => (c[DISTINCTIVE_SECRET] = true))).toBe('SESSIONFLOW_CLIENTS client 1 ("acme"): has an unknown key');
  });

  it('refuses a missing or malformed id without echoing it', () => {
    const expected = 'SESSIONFLOW_CLIENTS client 1: id must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit';
    expect(problemWith((c) => delete c.id)).toBe(expected);
    expect(problemWith((c) => (c.id = ''))).toBe(expected);
    expect(problemWith((c) => (c.id = '-acme'))).toBe(expected);
    expect(problemWith((c) => (c.id = 'ac:me'))).toBe(expected);
    expect(problemWith((c) => (c.id = 'a'.repeat(65)))).toBe(expected);
    expect(problemWith((c) => (c.id = 42))).toBe(expected);
    // Someone pasted the secret into the id: the message must not show it.
    expect(problemWith((c) => (c.id = `${DISTINCTIVE_SECRET}!`))).toBe(expected);
  });

  it('refuses a short or missing secret, naming the client by its position and id', () => {
    const second = [{ id: 'first', secret: '0123456789abcdef' }, { id: 'acme', secret: '123456789012345' }];
    expect(clientsError(() => parseClients(JSON.stringify(second), 'SESSIONFLOW_CLIENTS')).message).toBe(
      'SESSIONFLOW_CLIENTS client 2 ("acme"): secret must be a string of at least 16 characters',
    );
    expect(problemWith((c) => delete c.secret)).toBe('SESSIONFLOW_CLIENTS client 1 ("acme"): secret must be a string of at least 16 characters');
    expect(problemWith((c) => (c.secret = 1234567890123456))).toContain('secret must be a string');
  });

  it('refuses duplicate ids', () => {
    const text = JSON.stringify([
      { id: 'acme', secret: '0123456789abcdef' },
      { id: 'other', secret: '0123456789abcdef' },
      { id: 'acme', secret: DISTINCTIVE_SECRET },
    ]);
    expect(clientsError(() => parseClients(text, 'S')).message).toBe('S client 3 ("acme"): id is used by an earlier client');
  });

  it('refuses a webhookUrl that is not an absolute http(s) URL', () => {
    const expected = 'SESSIONFLOW_CLIENTS client 1 ("acme"): webhookUrl must be an absolute http(s) URL without credentials';
    for (const bad of ['/hooks', 'hooks.acme.example', 'ftp://hooks.acme.example/x', 'http:hooks.acme.example', 'https://', 42]) {
      expect(problemWith((c) => (c.webhookUrl = bad))).toBe(expected);
    }
    // Credentials in a URL would end up in logs.
    expect(problemWith((c) => (c.webhookUrl = `https://user:${DISTINCTIVE_SECRET}@hooks.acme.example/`))).toBe(expected);
  });

  it('refuses a webhookSecret that is not whsec_ + base64 of 24 to 64 bytes', () => {
    const expected = 'SESSIONFLOW_CLIENTS client 1 ("acme"): webhookSecret must be "whsec_" followed by the standard base64 of 24 to 64 bytes';
    const bad = [
      'QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD', // no prefix
      `whsec_${'QUJD'.repeat(7)}`, // 21 bytes
      `whsec_${'QUJD'.repeat(21)}QUI=`, // 65 bytes
      `whsec_${'QUJD'.repeat(7)}QU_-`, // base64url alphabet
      `whsec_${'QUJD'.repeat(8)}Q`, // truncated
      `whsec_${DISTINCTIVE_SECRET}`,
      'whsec_',
    ];
    for (const value of bad) expect(problemWith((c) => (c.webhookSecret = value))).toBe(expected);
  });

  it('refuses perSecond and perDay that are not positive whole numbers', () => {
    for (const key of ['perSecond', 'perDay']) {
      const expected = `SESSIONFLOW_CLIENTS client 1 ("acme"): ${key} must be a positive whole number`;
      for (const bad of [0, -1, 1.5, '10', null, 2 ** 53]) expect(problemWith((c) => (c[key] = bad))).toBe(expected);
    }
  });

  it('takes retentionSeconds from 1 to ten years, and refuses anything else', () => {
    const client = { ...fullClient(), retentionSeconds: 5 };
    expect(parseClients(JSON.stringify([client]), 'x')[0].retentionSeconds).toBe(5);
    expect(parseClients(JSON.stringify([{ ...client, retentionSeconds: 315_360_000 }]), 'x')[0].retentionSeconds).toBe(315_360_000);
    const expected = 'SESSIONFLOW_CLIENTS client 1 ("acme"): retentionSeconds must be a whole number of seconds from 1 to 315360000 (ten years)';
    for (const bad of [0, -1, 1.5, '5', null, 315_360_001]) expect(problemWith((c) => (c.retentionSeconds = bad))).toBe(expected);
  });

  it('refuses redirectUrls that are not an array of absolute http(s) URLs without fragments', () => {
    expect(problemWith((c) => (c.redirectUrls = 'https://app.acme.example/done'))).toBe(
      'SESSIONFLOW_CLIENTS client 1 ("acme"): redirectUrls must be an array of URLs',
    );
    const second = 'SESSIONFLOW_CLIENTS client 1 ("acme"): redirectUrls[1] must be an absolute http(s) URL without credentials or fragment';
    for (const bad of ['https://app.acme.example/done#top', 'https://app.acme.example/done#', '/done', 'javascript:alert(1)', 7]) {
      expect(problemWith((c) => (c.redirectUrls = ['https://app.acme.example/ok', bad]))).toBe(second);
    }
  });

  it('never puts the secret into any message of a client holding it', () => {
    // clientsError checks every message for DISTINCTIVE_SECRET; this runs one of each kind.
    const changes: Array<(c: Json) => void> = [
      (c) => (c.extra = 1),
      (c) => (c.webhookUrl = 'nope'),
      (c) => (c.webhookSecret = DISTINCTIVE_SECRET),
      (c) => (c.perDay = 0),
      (c) => (c.redirectUrls = [DISTINCTIVE_SECRET]),
    ];
    for (const change of changes) expect(problemWith(change)).toMatch(/^SESSIONFLOW_CLIENTS client 1 \("acme"\): /);
  });
});

describe('loadClients', () => {
  const one = JSON.stringify([{ id: 'from-env', secret: '0123456789abcdef' }]);
  const other = JSON.stringify([{ id: 'from-file', secret: 'fedcba9876543210' }]);

  it('uses SESSIONFLOW_CLIENTS when set, and creates no development file', () => {
    const dataDir = join(dir, 'data');
    expect(loadClients({ SESSIONFLOW_CLIENTS: one }, dataDir)).toEqual({
      clients: [{ id: 'from-env', secret: '0123456789abcdef' }],
      source: 'env',
    });
    expect(existsSync(dataDir)).toBe(false);
  });

  it('uses SESSIONFLOW_CLIENTS_FILE when only it is set', () => {
    const file = join(dir, 'clients.json');
    writeFileSync(file, other);
    expect(loadClients({ SESSIONFLOW_CLIENTS_FILE: file, SESSIONFLOW_CLIENTS: '' }, join(dir, 'data'))).toEqual({
      clients: [{ id: 'from-file', secret: 'fedcba9876543210' }],
      source: 'file',
    });
  });

  it('refuses both variables set at once', () => {
    const file = join(dir, 'clients.json');
    writeFileSync(file, other);
    const message = clientsError(() => loadClients({ SESSIONFLOW_CLIENTS: one, SESSIONFLOW_CLIENTS_FILE: file }, dir)).message;
    expect(message).toBe('SESSIONFLOW_CLIENTS and SESSIONFLOW_CLIENTS_FILE are both set; set only one of them');
    expect(message).not.toContain(dir);
  });

  it('reports an unreadable SESSIONFLOW_CLIENTS_FILE without its path', () => {
    const missing = join(dir, 'home-of-zebediah', 'clients.json');
    const error = clientsError(() => loadClients({ SESSIONFLOW_CLIENTS_FILE: missing }, dir));
    expect(error.message).toBe('SESSIONFLOW_CLIENTS_FILE names a file that cannot be read (ENOENT)');
    expect(error.message).not.toContain('zebediah');
    expect(error.variable).toBe('SESSIONFLOW_CLIENTS_FILE');
  });

  it('reports an invalid SESSIONFLOW_CLIENTS_FILE by variable, not by path', () => {
    const file = join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify([{ id: 'acme', secret: 'short' }]));
    const error = clientsError(() => loadClients({ SESSIONFLOW_CLIENTS_FILE: file }, dir));
    expect(error.message).toBe('SESSIONFLOW_CLIENTS_FILE client 1 ("acme"): secret must be a string of at least 16 characters');
  });

  it('creates the development file once, mode 0600, and reuses it', () => {
    const dataDir = join(dir, 'nested', 'data');
    const first = loadClients({}, dataDir);
    const devFile = join(dataDir, 'clients.json');
    expect(first.source).toBe('dev');
    expect(first.devFile).toBe(devFile);
    expect(readdirSync(dataDir)).toEqual(['clients.json']); // no temporary file left behind
    expect(statSync(devFile).mode & 0o777).toBe(0o600);

    expect(first.clients).toHaveLength(1);
    const [client] = first.clients;
    expect(Object.keys(client).sort()).toEqual(['id', 'perDay', 'perSecond', 'secret', 'webhookSecret']);
    expect(client.id).toBe('dev-client');
    expect(client.perSecond).toBe(20);
    expect(client.perDay).toBe(100000);
    // 32 random bytes in base64url: 43 characters, no padding.
    expect(client.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // 32 random bytes in standard base64: 44 characters ending in one "=".
    expect(client.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(client.webhookSecret!.slice(6), 'base64')).toHaveLength(32);
    // The Standard Webhooks library takes the secret as it is.
    const hook = new Webhook(client.webhookSecret!);
    const timestamp = new Date();
    const signature = hook.sign('msg_1', timestamp, '{"a":1}');
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature };
    expect(hook.verify('{"a":1}', headers)).toEqual({ a: 1 });

    const text = readFileSync(devFile, 'utf8');
    const second = loadClients({}, dataDir);
    expect(second).toEqual(first);
    expect(readFileSync(devFile, 'utf8')).toBe(text);

    // A second data directory gets different random secrets.
    const elsewhere = loadClients({}, join(dir, 'other'));
    expect(elsewhere.clients[0].secret).not.toBe(client.secret);
    expect(elsewhere.clients[0].webhookSecret).not.toBe(client.webhookSecret);
  });

  it("gives the development client the sandbox's inbox and returned page, unless its file says otherwise", () => {
    const dataDir = join(dir, 'pages');
    const pages = tenantPageUrls(41234);
    const loaded = loadClients({}, dataDir, pages);
    const [client] = loaded.clients;
    expect(client).toMatchObject({
      id: 'dev-client',
      webhookUrl: 'http://127.0.0.1:41234/inbox',
      redirectUrls: ['http://localhost:41234/returned', 'http://127.0.0.1:41234/returned'],
    });
    // Not stored: they follow SANDBOX_PORT from one start to the next.
    expect(readFileSync(join(dataDir, 'clients.json'), 'utf8')).not.toContain('41234');
    expect(devInboxSecret(loaded, pages.webhookUrl)).toBe(client.webhookSecret);
    expect(devInboxSecret(loaded, 'http://127.0.0.1:1/inbox')).toBeUndefined();

    // A development file that names its own endpoints keeps them.
    const own = { id: 'dev-client', secret: 'own-secret-0123456789', webhookUrl: 'https://hooks.example/x', webhookSecret: WHSEC_24, redirectUrls: ['https://app.example/done'] };
    writeFileSync(join(dir, 'clients.json'), JSON.stringify([own]));
    const kept = loadClients({}, dir, pages);
    expect(kept.clients).toEqual([own]);
    expect(devInboxSecret(kept, pages.webhookUrl)).toBeUndefined();

    // Configured clients are never given the sandbox's pages.
    const configured = loadClients({ SESSIONFLOW_CLIENTS: JSON.stringify([{ id: 'dev-client', secret: '0123456789abcdef' }]) }, dir, pages);
    expect(configured.clients).toEqual([{ id: 'dev-client', secret: '0123456789abcdef' }]);
    expect(devInboxSecret(configured, pages.webhookUrl)).toBeUndefined();
  });

  it('reads an existing development file as it is', () => {
    writeFileSync(join(dir, 'clients.json'), other);
    expect(loadClients({}, dir)).toEqual({
      clients: [{ id: 'from-file', secret: 'fedcba9876543210' }],
      source: 'dev',
      devFile: join(dir, 'clients.json'),
    });
  });

  it('reports a broken development file by name, not by path', () => {
    writeFileSync(join(dir, 'clients.json'), `[{"id":"dev-client","secret":"${DISTINCTIVE_SECRET}",}]`);
    const error = clientsError(() => loadClients({}, dir));
    expect(error.message).toBe(`${DEV_CLIENTS_SOURCE} must be a JSON array of clients (it is not valid JSON)`);
    expect(error.message).not.toContain(dir);
  });

  it('reports a data directory it cannot create without its path', () => {
    // Runs as root too, unlike a permission check: a regular file stands where a directory must.
    const blocker = join(dir, 'zebediah-file');
    writeFileSync(blocker, 'not a directory');
    const error = clientsError(() => loadClients({}, join(blocker, 'data')));
    expect(error.message).toBe(`${DEV_CLIENTS_SOURCE} cannot be created (ENOTDIR)`);
    expect(error.message).not.toContain('zebediah');
    expect(error.variable).toBe(DEV_CLIENTS_SOURCE);
  });
});

describe('ClientDirectory', () => {
  const acme: TenantClient = { id: 'acme', secret: 'correct-horse-battery-staple' };
  const colons: TenantClient = { id: 'colons', secret: 'a:b:c-0123456789abcdef' };
  const directory = new ClientDirectory([acme, colons]);
  // Hand-checked with `printf '%s' 'acme:correct-horse-battery-staple' | base64`.
  const ACME_TOKEN = 'YWNtZTpjb3JyZWN0LWhvcnNlLWJhdHRlcnktc3RhcGxl';
  const basic = (text: string): string => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

  it('looks clients up by id', () => {
    expect(directory.get('acme')).toBe(acme);
    expect(directory.get('nobody')).toBeUndefined();
    expect(directory.get('__proto__')).toBeUndefined();
    expect(directory.size).toBe(2);
  });

  it('refuses a list with a repeated id', () => {
    expect(() => new ClientDirectory([acme, { ...acme }])).toThrow('client id "acme" is listed twice');
  });

  it('authenticates Basic credentials, with any case of the scheme', () => {
    expect(directory.authenticateBasic(`Basic ${ACME_TOKEN}`)).toBe(acme);
    expect(directory.authenticateBasic(`basic ${ACME_TOKEN}`)).toBe(acme);
    expect(directory.authenticateBasic(`BASIC  ${ACME_TOKEN} `)).toBe(acme);
  });

  it('splits at the first colon: the secret may hold colons', () => {
    // printf '%s' 'colons:a:b:c-0123456789abcdef' | base64
    expect(directory.authenticateBasic('Basic Y29sb25zOmE6YjpjLTAxMjM0NTY3ODlhYmNkZWY=')).toBe(colons);
    expect(directory.authenticateBasic(basic('colons:a:b:c'))).toBeNull();
  });

  it('refuses a wrong secret, an unknown id and a secret of another client', () => {
    expect(directory.authenticateBasic(basic('acme:correct-horse-battery-stapl'))).toBeNull();
    expect(directory.authenticateBasic(basic('acme:correct-horse-battery-staple '))).toBeNull();
    expect(directory.authenticateBasic(basic('acme:'))).toBeNull();
    expect(directory.authenticateBasic(basic('nobody:correct-horse-battery-staple'))).toBeNull();
    expect(directory.authenticateBasic(basic('colons:correct-horse-battery-staple'))).toBeNull();
  });

  it('refuses missing, malformed and non-Basic headers', () => {
    for (const header of [
      undefined,
      '',
      'Basic',
      'Basic ',
      'Basic !!!!',
      `Basic ${ACME_TOKEN}!`,
      `Basic${ACME_TOKEN}`,
      `Bearer ${ACME_TOKEN}`,
      `Digest ${ACME_TOKEN}`,
      'Basic YWNtZQ==', // "acme": no colon
      'Basic OmNvcnJlY3QtaG9yc2UtYmF0dGVyeS1zdGFwbGU=', // ":correct-horse-battery-staple": empty id
    ]) {
      expect(directory.authenticateBasic(header)).toBeNull();
    }
  });

  it('authenticates an id and secret pair (Finqware client_id + client_app_key)', () => {
    expect(directory.authenticateSecret('acme', 'correct-horse-battery-staple')).toBe(acme);
    expect(directory.authenticateSecret('colons', 'a:b:c-0123456789abcdef')).toBe(colons);
    expect(directory.authenticateSecret('acme', 'a:b:c-0123456789abcdef')).toBeNull();
    expect(directory.authenticateSecret('nobody', 'correct-horse-battery-staple')).toBeNull();
    expect(directory.authenticateSecret('', '')).toBeNull();
  });

  it('does the same work whatever the outcome: one digest and one constant-time comparison', () => {
    const equal = jest.spyOn(crypto, 'timingSafeEqual');
    const hash = jest.spyOn(crypto, 'createHash');
    const cases: Array<() => unknown> = [
      () => directory.authenticateBasic(`Basic ${ACME_TOKEN}`),
      () => directory.authenticateBasic(basic('acme:wrong-secret-of-another-length')),
      () => directory.authenticateBasic(basic('nobody:correct-horse-battery-staple')),
      () => directory.authenticateBasic('Bearer token'),
      () => directory.authenticateBasic(undefined),
      () => directory.authenticateSecret('nobody', 'x'),
    ];
    for (const run of cases) {
      equal.mockClear();
      hash.mockClear();
      run();
      expect(hash).toHaveBeenCalledTimes(1);
      expect(equal).toHaveBeenCalledTimes(1);
      const [a, b] = equal.mock.calls[0] as [Buffer, Buffer];
      // SHA-256 digests on both sides: the secret's length never reaches the comparison.
      expect(a).toHaveLength(32);
      expect(b).toHaveLength(32);
    }
  });
});
