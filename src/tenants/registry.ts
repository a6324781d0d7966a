/**
 * Tenant applications ("clients"): who may call the backend API, with which secret, where
 * their webhooks go and how many requests they may make.
 *
 * The registry comes from, in order:
 *   1. `SESSIONFLOW_CLIENTS`: the JSON array itself;
 *   2. `SESSIONFLOW_CLIENTS_FILE`: a path to a file holding it (docker-compose mounts a secret);
 *   3. neither: the embedded default, `<DATA_DIR>/clients.json`, created on first start with
 *      one development client and random secrets, then reused so that api and worker (and the
 *      next start) agree on them. Where the file gives that client no webhookUrl or
 *      redirectUrls, it gets the sandbox's inbox and "returned" page (`devPages`), so a bare
 *      `make start` shows webhooks and returns; they follow SANDBOX_PORT, so they are not stored.
 * Setting both variables is an error rather than a silent choice.
 *
 * A ConfigError message is one line naming the source (the variable) and the problem. It never holds a
 * secret, a value taken from the registry other than a well-formed client id, or a file path
 * (paths can name a user's home directory), because entry points print it to logs.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseJsonArray } from '../util/config-error';
import { isObject } from '../util/json';
import { isWebhookSecret, WEBHOOK_SECRET_RULE } from '../util/webhook-secret';
import { parseBrand, type TenantBrand } from './brand';

export interface TenantClient {
  id: string;
  secret: string;
  webhookUrl?: string;
  /** A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. */
  webhookSecret?: string;
  perSecond?: number;
  perDay?: number;
  redirectUrls?: string[];
  /** How long a consumed or expired session is kept before it archives itself (default 30 days). */
  retentionSeconds?: number;
  /** What the hosted page shows of the tenant (src/tenants/brand.ts); absent, the product's defaults. */
  brand?: TenantBrand;
}

/** At most ten years: longer is a mistake, not a policy. */
export const MAX_RETENTION_SECONDS = 10 * 365 * 24 * 60 * 60;

export const CLIENTS_ENV = 'SESSIONFLOW_CLIENTS';
export const CLIENTS_FILE_ENV = 'SESSIONFLOW_CLIENTS_FILE';
/** How messages name the embedded default's file (never by its path). */
export const DEV_CLIENTS_SOURCE = 'the development clients file (clients.json in DATA_DIR)';
export const DEV_CLIENTS_FILE_NAME = 'clients.json';
export const DEV_CLIENT_ID = 'dev-client';

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const MIN_SECRET_LENGTH = 16;
const CLIENT_KEYS: ReadonlySet<string> = new Set([
  'id',
  'secret',
  'webhookUrl',
  'webhookSecret',
  'perSecond',
  'perDay',
  'redirectUrls',
  'retentionSeconds',
  'brand',
]);

type Env = Record<string, string | undefined>;

/** Key names are echoed only when they look like field names, never arbitrary text. */
function describeKey(key: string): string {
  return /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(key) ? `unknown key "${key}"` : 'an unknown key';
}

/** An absolute http(s) URL; credentials in it are refused so a URL is always safe to log. */
function isHttpUrl(value: unknown, allowFragment: boolean): boolean {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.hostname === '' || url.username !== '' || url.password !== '') return false;
  if (!allowFragment && value.includes('#')) return false;
  return true;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function parseClient(raw: unknown, index: number, source: string): TenantClient {
  // The id is named in messages only once it is known to be a well-formed id, never raw text.
  const id = isObject(raw) && typeof raw.id === 'string' && CLIENT_ID_PATTERN.test(raw.id) ? raw.id : undefined;
  const where = id === undefined ? `client ${index + 1}` : `client ${index + 1} ("${id}")`;
  const fail = (problem: string): never => {
    throw new ConfigError(source, `${where}: ${problem}`);
  };
  if (!isObject(raw)) return fail('must be an object');
  for (const key of Object.keys(raw)) {
    if (!CLIENT_KEYS.has(key)) fail(`has ${describeKey(key)}`);
  }
  if (id === undefined) {
    fail('id must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit');
  }
  if (typeof raw.secret !== 'string' || raw.secret.length < MIN_SECRET_LENGTH) {
    fail(`secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
  }
  const client: TenantClient = { id: id as string, secret: raw.secret as string };
  if (raw.webhookUrl !== undefined) {
    if (!isHttpUrl(raw.webhookUrl, true)) fail('webhookUrl must be an absolute http(s) URL without credentials');
    client.webhookUrl = raw.webhookUrl as string;
  }
  if (raw.webhookSecret !== undefined) {
    if (!isWebhookSecret(raw.webhookSecret)) {
      fail(`webhookSecret must be ${WEBHOOK_SECRET_RULE}`);
    }
    client.webhookSecret = raw.webhookSecret as string;
  }
  for (const key of ['perSecond', 'perDay'] as const) {
    if (raw[key] === undefined) continue;
    if (!isPositiveInteger(raw[key])) fail(`${key} must be a positive whole number`);
    client[key] = raw[key] as number;
  }
  if (raw.retentionSeconds !== undefined) {
    if (!isPositiveInteger(raw.retentionSeconds) || raw.retentionSeconds > MAX_RETENTION_SECONDS) {
      fail(`retentionSeconds must be a whole number of seconds from 1 to ${MAX_RETENTION_SECONDS} (ten years)`);
    }
    client.retentionSeconds = raw.retentionSeconds as number;
  }
  if (raw.redirectUrls !== undefined) {
    if (!Array.isArray(raw.redirectUrls)) fail('redirectUrls must be an array of URLs');
    const urls = raw.redirectUrls as unknown[];
    urls.forEach((url, i) => {
      if (!isHttpUrl(url, false)) fail(`redirectUrls[${i}] must be an absolute http(s) URL without credentials or fragment`);
    });
    client.redirectUrls = [...(urls as string[])];
  }
  if (raw.brand !== undefined) client.brand = parseBrand(raw.brand, fail);
  return client;
}

/** Parses and checks a registry: a non-empty JSON array of clients with unique ids. */
export function parseClients(json: string, source: string): TenantClient[] {
  const data = parseJsonArray(json, source, 'clients');
  if (data.length === 0) throw new ConfigError(source, 'must list at least one client');
  const clients = data.map((raw, index) => parseClient(raw, index, source));
  const seen = new Set<string>();
  clients.forEach((client, index) => {
    if (seen.has(client.id)) throw new ConfigError(source, `client ${index + 1} ("${client.id}"): id is used by an earlier client`);
    seen.add(client.id);
  });
  return clients;
}

function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? ` (${code})` : '';
}

function newDevClients(): TenantClient[] {
  return [
    {
      id: DEV_CLIENT_ID,
      secret: randomBytes(32).toString('base64url'),
      webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
      perSecond: 20,
      perDay: 100_000,
    },
  ];
}

/** Hard links are missing on some filesystems (some network and container volumes). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** Puts the finished temporary file at `file` unless `file` exists by then. */
function publishDevFile(temporary: string, file: string, text: string): void {
  try {
    linkSync(temporary, file);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return; // another process (api or worker) created it first
    if (!NO_LINKS.has(code)) throw err;
  }
  try {
    writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * Creates the development clients file unless it exists. The content is written to a private
 * temporary file and hard-linked into place, which fails if the name exists: when api and
 * worker start together, exactly one file wins, it is never seen half written, and both
 * processes read the same secrets.
 */
function ensureDevFile(dataDir: string, file: string): void {
  if (existsSync(file)) return;
  const text = `${JSON.stringify(newDevClients(), null, 2)}\n`;
  const temporary = join(dataDir, `.${DEV_CLIENTS_FILE_NAME}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    publishDevFile(temporary, file, text);
  } catch (err) {
    throw new ConfigError(DEV_CLIENTS_SOURCE, `cannot be created${errorCode(err)}`);
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // Never created, or already gone.
    }
  }
}

function readSource(path: string, source: string, problem: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(source, `${problem}${errorCode(err)}`);
  }
}

export interface LoadedClients {
  clients: TenantClient[];
  source: 'env' | 'file' | 'dev';
  /** Where the development clients file is (source 'dev' only), for `make start` to print. */
  devFile?: string;
}

/** The development client's defaults for the keys its file leaves out (see src/util/tenant-pages.ts). */
export type DevClientPages = Pick<TenantClient, 'webhookUrl' | 'redirectUrls'>;

/**
 * Loads the client registry for the api and the worker; throws ConfigError on any problem.
 * `devPages` fills in the development client's webhookUrl and redirectUrls when the embedded
 * default is used and its file lacks them.
 */
export function loadClients(env: Env, dataDir: string, devPages?: DevClientPages): LoadedClients {
  const inline = env[CLIENTS_ENV];
  const file = env[CLIENTS_FILE_ENV];
  const hasInline = inline !== undefined && inline !== '';
  const hasFile = file !== undefined && file !== '';
  if (hasInline && hasFile) {
    throw new ConfigError(CLIENTS_ENV, `and ${CLIENTS_FILE_ENV} are both set; set only one of them`);
  }
  if (hasInline) return { clients: parseClients(inline, CLIENTS_ENV), source: 'env' };
  if (hasFile) {
    const text = readSource(file, CLIENTS_FILE_ENV, 'names a file that cannot be read');
    return { clients: parseClients(text, CLIENTS_FILE_ENV), source: 'file' };
  }
  const devFile = join(dataDir, DEV_CLIENTS_FILE_NAME);
  ensureDevFile(dataDir, devFile);
  const text = readSource(devFile, DEV_CLIENTS_SOURCE, 'cannot be read');
  const clients = parseClients(text, DEV_CLIENTS_SOURCE).map((client) => (devPages && client.id === DEV_CLIENT_ID ? { ...devPages, ...client } : client));
  return { clients, source: 'dev', devFile };
}

/**
 * The webhook secret the sandbox's inbox verifies with: the development client's, when the
 * embedded default is in use and that client's webhooks go to `inboxUrl`.
 */
export function devInboxSecret(loaded: LoadedClients, inboxUrl: string): string | undefined {
  if (loaded.source !== 'dev') return undefined;
  const client = loaded.clients.find((candidate) => candidate.id === DEV_CLIENT_ID);
  return client?.webhookUrl === inboxUrl ? client.webhookSecret : undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

const BASIC = /^basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i;

/**
 * The clients of one process, with credential checks that take the same time whether the id
 * is unknown, the secret is wrong or right: secrets are compared as SHA-256 digests with
 * `timingSafeEqual` (so their lengths do not leak), and an unknown id is compared against a
 * random digest instead of returning early.
 */
export class ClientDirectory {
  private readonly byId = new Map<string, { client: TenantClient; secretDigest: Buffer }>();
  private readonly decoy = randomBytes(32);

  constructor(clients: readonly TenantClient[]) {
    for (const client of clients) {
      if (this.byId.has(client.id)) throw new Error(`client id "${client.id}" is listed twice`);
      this.byId.set(client.id, { client, secretDigest: digest(client.secret) });
    }
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): TenantClient | undefined {
    return this.byId.get(id)?.client;
  }

  list(): TenantClient[] {
    return [...this.byId.values()].map((entry) => entry.client);
  }

  /** `client_id` + secret (Finqware's `client_app_key`), or the two halves of Basic auth. */
  authenticateSecret(id: string, secret: string): TenantClient | null {
    const entry = typeof id === 'string' ? this.byId.get(id) : undefined;
    const presented = digest(typeof secret === 'string' ? secret : '');
    const matches = timingSafeEqual(presented, entry ? entry.secretDigest : this.decoy);
    return entry && matches ? entry.client : null;
  }

  /** `Authorization: Basic base64(id:secret)`; the id holds no ':', the secret may. */
  authenticateBasic(header: string | undefined): TenantClient | null {
    const match = typeof header === 'string' ? BASIC.exec(header.trim()) : null;
    let id = '';
    let secret = '';
    if (match) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        id = decoded.slice(0, colon);
        secret = decoded.slice(colon + 1);
      }
    }
    // A malformed header still costs one comparison, against no client.
    const client = this.authenticateSecret(id, secret);
    return match && id !== '' ? client : null;
  }
}
