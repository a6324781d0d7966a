/**
 * The key store's states through the real stack (docs/security/key-store.md): the api on
 * loopback, a worker process, Temporal; once over the file store and once over the PostgreSQL
 * store. A store that is not there, is empty, is another one, lacks its namespace key or is
 * opened under a wrong KEK is unavailable: 503 with the documented codes, /readyz and the
 * worker's /healthz not ready, and nothing written, neither a key nor a workflow. Once the store
 * is back, everything from before works, and a create refused meanwhile succeeds with its
 * Idempotency-Key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client as TemporalClient, WorkflowNotFoundError } from '@temporalio/client';
import { Client } from 'pg';
import { freePort } from '../scripts/dev-server';
import { idempotentSessionId } from '../src/api/session-ids';
import type { Config } from '../src/config';
import { openEncryption } from '../src/keys/encryption';
import { initialiseKeyStore, initSettings } from '../src/keys/init';
import { sessionWorkflowId } from '../src/session-secret';
import { startApi, TENANT_A, type Api } from './helpers/api';
import { eventually, startStack, type Stack } from './helpers/stack';

const HANDSHAKE = '/api/v1/public/flowx/handshake';
const UNAVAILABLE = { code: 5031, message: 'Session data keys are unavailable; try again shortly' };

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

function postgresUrl(): string {
  const url = process.env.TEST_POSTGRES_URL;
  if (!url) throw new Error('TEST_POSTGRES_URL is not set: run the tests with `make test`, which starts PostgreSQL');
  return url;
}

interface Kind {
  name: string;
  /** The stack's key store settings. */
  env(): Promise<Record<string, string>>;
  /** Puts an empty place where the store was (an unmounted volume; an empty database); answers how to put the store back. */
  empty(config: Config): Promise<() => Promise<void>>;
  /** Takes the store away (no keys folder; no keys table); answers how to bring it back. */
  moveAway(config: Config): Promise<() => Promise<void>>;
  /** Puts another store, initialised under the same KEK, in the store's place. */
  swapForAnother(config: Config): Promise<() => Promise<void>>;
  /** Takes the namespace key out of the store. */
  hideNamespaceKey(config: Config): Promise<() => Promise<void>>;
  /** Everything stored, to see that nothing was written. */
  contents(config: Config): Promise<string>;
  cleanup(config: Config): Promise<void>;
}

function listing(dir: string, skip: readonly string[] = []): string {
  if (!existsSync(dir)) return `${dir}: none`;
  return readdirSync(dir)
    .filter((name) => !skip.includes(name))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listing(path) : `${path}: ${readFileSync(path, 'utf8')}`;
    })
    .join('\n');
}

const fileKind: Kind = {
  name: 'file store',
  env: async () => ({ DATA_DIR: join('.data', `test-states-${process.pid}-${randomBytes(4).toString('hex')}`), SESSIONFLOW_KEK: randomBytes(32).toString('hex') }),
  empty: async ({ dataDir }) => {
    renameSync(join(dataDir, 'keys'), join(dataDir, 'keys-away'));
    mkdirSync(join(dataDir, 'keys'));
    return async () => {
      rmSync(join(dataDir, 'keys'), { recursive: true });
      renameSync(join(dataDir, 'keys-away'), join(dataDir, 'keys'));
    };
  },
  moveAway: async ({ dataDir }) => {
    renameSync(join(dataDir, 'keys'), join(dataDir, 'keys-away'));
    return async () => renameSync(join(dataDir, 'keys-away'), join(dataDir, 'keys'));
  },
  swapForAnother: async (config) => {
    const other = join(config.dataDir, 'other');
    await initialiseKeyStore({ ...initSettings(config), dataDir: other });
    renameSync(join(config.dataDir, 'keys'), join(config.dataDir, 'keys-away'));
    renameSync(join(other, 'keys'), join(config.dataDir, 'keys'));
    return async () => {
      renameSync(join(config.dataDir, 'keys'), join(other, 'keys'));
      renameSync(join(config.dataDir, 'keys-away'), join(config.dataDir, 'keys'));
    };
  },
  hideNamespaceKey: async ({ dataDir }) => {
    const [key, away] = [join(dataDir, 'keys', 'namespace-default.json'), join(dataDir, 'namespace-key-away')];
    renameSync(key, away);
    return async () => renameSync(away, key);
  },
  // The audit trail records each refused request, by design; the keys and sessions must not change.
  contents: async ({ dataDir }) => listing(dataDir, ['audit']),
  cleanup: async ({ dataDir }) => rmSync(dataDir, { recursive: true, force: true }),
};

const TABLES = ['sessionflow_data_keys', 'sessionflow_key_store'];
const rename = (url: string, tables: string[], from: string, to: string) => Promise.all(tables.map((table) => sql(url, `ALTER TABLE ${table}${from} RENAME TO ${table}${to}`)));

const postgresKind: Kind = {
  name: 'PostgreSQL store',
  env: async () => {
    const name = `test_states_${randomBytes(6).toString('hex')}`;
    await sql(postgresUrl(), `CREATE DATABASE ${name}`);
    return { SESSIONFLOW_KEY_STORE_URL: postgresUrl().replace(/\/[^/]+$/, `/${name}`), SESSIONFLOW_KEK: randomBytes(32).toString('hex') };
  },
  empty: async ({ keys }) => {
    await rename(keys.keyStoreUrl!, TABLES, '', '_away');
    return async () => void (await rename(keys.keyStoreUrl!, TABLES, '_away', ''));
  },
  moveAway: async ({ keys }) => {
    await rename(keys.keyStoreUrl!, [TABLES[0]], '', '_away');
    return async () => void (await rename(keys.keyStoreUrl!, [TABLES[0]], '_away', ''));
  },
  swapForAnother: async (config) => {
    const url = config.keys.keyStoreUrl!;
    // Another store in the same database: its marker in this store's place, under the same KEK.
    await rename(url, TABLES, '', '_away');
    await initialiseKeyStore({ ...initSettings(config), keyStoreUrl: url });
    return async () => {
      await sql(url, `DROP TABLE ${TABLES.join(', ')}`);
      await rename(url, TABLES, '_away', '');
    };
  },
  hideNamespaceKey: async ({ keys }) => {
    const move = (from: string, to: string) => sql(keys.keyStoreUrl!, `UPDATE sessionflow_data_keys SET key_id = '${to}' WHERE key_id = '${from}'`);
    await move('namespace-default', 'away-namespace-default');
    return async () => void (await move('away-namespace-default', 'namespace-default'));
  },
  contents: async ({ keys }) => {
    const url = keys.keyStoreUrl!;
    const tables = await sql<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
    const rows = await Promise.all(tables.map(async ({ table_name: table }) => `${table}: ${JSON.stringify(await sql(url, `SELECT * FROM ${table} ORDER BY 1`))}`));
    return rows.join('\n');
  },
  cleanup: async ({ keys }) => {
    const name = keys.keyStoreUrl!.slice(keys.keyStoreUrl!.lastIndexOf('/') + 1);
    await sql(postgresUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  },
};

async function health(port: number): Promise<string> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string }).status;
  } catch {
    return 'unreachable';
  }
}

describe.each([fileKind, postgresKind])('$name', (kind) => {
  let stack: Stack;
  let api: Api;
  let healthPort: number;

  beforeAll(async () => {
    // No key cache in these processes, so a change of the store shows at once (the cache is tested on its own).
    stack = await startStack('key-store-states', {}, { ...(await kind.env()), SESSIONFLOW_KEY_CACHE_SECONDS: '0' });
    api = await startApi(stack);
    healthPort = await freePort();
    await stack.spawnWorker({ WORKER_HEALTH_PORT: String(healthPort) });
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    await stack?.stop();
    if (stack) await kind.cleanup(stack.config);
  }, 240_000);

  const create = (tag: string, idempotencyKey: string, on: Api = api) =>
    on.call('POST', HANDSHAKE, { body: { flow: 'consent-only', snapshot: null, tag }, headers: { 'idempotency-key': idempotencyKey } });
  const step = (sessionId: string, nonce: string) =>
    api.call('POST', `/v1/sessions/${sessionId}/steps`, { body: { client_id: TENANT_A.id, skill: 'consent-only', nonce, step: 'consent', data: { accepted: true } } });
  /** A session created and launched while the store was there. */
  const launchedSession = async () => {
    const created = await create('REF-before', randomUUID());
    expect(created.status).toBe(200);
    const launch = await api.call('POST', `/v1/handshakes/${created.body._id}/launch`);
    expect(launch.status).toBe(200);
    return { id: created.body._id as string, nonce: launch.body.nonce as string };
  };
  const workerHealthIs = (status: string) => eventually(async () => ((await health(healthPort)) === status ? true : undefined), 30_000, `the worker's health to say ${status}`);
  const noWorkflowFor = async (idempotencyKey: string) => {
    const workflowId = sessionWorkflowId(idempotentSessionId(TENANT_A.secret, TENANT_A.id, idempotencyKey));
    await expect(stack.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  };
  const expectNotReady = async (on: Api = api) => {
    const ready = await on.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not_ready', ready: false, keyStore: { available: false }, problems: [expect.stringMatching(/^key store unavailable: /)] });
    return ready.body.problems[0] as string;
  };
  const expectReady = async () => {
    const ready = await api.call('GET', '/readyz');
    expect(ready.body).toMatchObject({ status: 'ready', keyStore: { available: true }, problems: [] });
  };

  test('an empty place (an unmounted volume, an empty database): 503 and nothing written; once the store is back, the session from before goes on and the refused create succeeds', async () => {
    const before = await launchedSession();
    const putBack = await kind.empty(stack.config);
    const contents = await kind.contents(stack.config);
    const key = `states-${randomUUID()}`;

    const refused = await create('REF-empty', key);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual(UNAVAILABLE);
    expect(refused.headers['retry-after']).toBe('1');
    const read = await api.call('GET', `${HANDSHAKE}/${before.id}`);
    expect({ status: read.status, body: read.body }).toEqual({ status: 503, body: UNAVAILABLE });
    const stepped = await step(before.id, before.nonce);
    expect(stepped.status).toBe(503);
    expect(stepped.body).toMatchObject({ type: 'api_error', http: 503, code: 'key_store_unavailable' });
    expect(await expectNotReady()).toContain('not initialised');
    await workerHealthIs('key_store_unavailable');
    // Nothing written: no key in the empty place (nor in the store moved aside), no workflow.
    expect(await kind.contents(stack.config)).toBe(contents);

    await putBack();
    await noWorkflowFor(key);
    await expectReady();
    await workerHealthIs('ok');
    const retried = await create('REF-empty', key);
    expect(retried.status).toBe(200);
    expect((await create('REF-empty', key)).body._id).toBe(retried.body._id);
    expect((await api.call('GET', `${HANDSHAKE}/${before.id}`)).body).toMatchObject({ _id: before.id, status: 'in_progress' });
    const finished = await step(before.id, before.nonce);
    expect(finished.status).toBe(200);
    expect((await api.call('GET', `${HANDSHAKE}/${before.id}`)).body).toMatchObject({ status: 'consumed' });
  }, 120_000);

  test('the store moved away (no folder, no table): GET /handshake/<id> answers 503, never 500, and everything answers again once it is back', async () => {
    const before = await launchedSession();
    const bringBack = await kind.moveAway(stack.config);
    const contents = await kind.contents(stack.config);
    const read = await api.call('GET', `${HANDSHAKE}/${before.id}`);
    expect({ status: read.status, body: read.body }).toEqual({ status: 503, body: UNAVAILABLE });
    const key = `states-${randomUUID()}`;
    expect((await create('REF-moved', key)).status).toBe(503);
    await expectNotReady();
    await workerHealthIs('key_store_unavailable');
    expect(await kind.contents(stack.config)).toBe(contents);
    await bringBack();
    await noWorkflowFor(key);
    expect((await api.call('GET', `${HANDSHAKE}/${before.id}`)).status).toBe(200);
    expect((await create('REF-moved', key)).status).toBe(200);
    await workerHealthIs('ok');
  }, 120_000);

  test('another store in its place (same KEK) is unavailable, and nothing is written to it', async () => {
    const before = await launchedSession();
    const putBack = await kind.swapForAnother(stack.config);
    const contents = await kind.contents(stack.config);
    const key = `states-${randomUUID()}`;
    expect((await create('REF-other', key)).status).toBe(503);
    expect((await api.call('GET', `${HANDSHAKE}/${before.id}`)).status).toBe(503);
    expect(await expectNotReady()).toContain('another key store');
    await workerHealthIs('key_store_unavailable');
    expect(await kind.contents(stack.config)).toBe(contents);
    await putBack();
    await noWorkflowFor(key);
    expect((await create('REF-other', key)).status).toBe(200);
    expect((await step(before.id, before.nonce)).status).toBe(200);
    await workerHealthIs('ok');
  }, 120_000);

  test('the namespace key missing: 503 and nothing written, not ready; back, everything answers', async () => {
    const before = await launchedSession();
    const putBack = await kind.hideNamespaceKey(stack.config);
    const contents = await kind.contents(stack.config);
    const key = `states-${randomUUID()}`;
    expect((await create('REF-namespace', key)).body).toEqual(UNAVAILABLE);
    expect((await api.call('GET', `${HANDSHAKE}/${before.id}`)).body).toEqual(UNAVAILABLE);
    expect(await expectNotReady()).toContain('namespace key is missing');
    await workerHealthIs('key_store_unavailable');
    expect(await kind.contents(stack.config)).toBe(contents);
    await putBack();
    await noWorkflowFor(key);
    expect((await create('REF-namespace', key)).status).toBe(200);
    expect((await step(before.id, before.nonce)).status).toBe(200);
    await workerHealthIs('ok');
  }, 120_000);

  test('a wrong KEK: create 503 writing nothing, /readyz and the worker not ready; the same Idempotency-Key succeeds once the KEK is right', async () => {
    const wrongConfig: Config = { ...stack.config, keys: { ...stack.config.keys, keks: [randomBytes(32)] } };
    const wrongEncryption = openEncryption(wrongConfig);
    const wrongClient = new TemporalClient({ connection: stack.client.connection, namespace: stack.config.temporal.namespace, dataConverter: wrongEncryption.dataConverter });
    const wrongApi = await startApi({ ...stack, config: wrongConfig, client: wrongClient, encryption: wrongEncryption });
    // A worker process under the wrong KEK: it never polls, and says why.
    const wrongHealthPort = await freePort();
    const wrongWorker: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      env: { ...stack.env, SESSIONFLOW_KEK: randomBytes(32).toString('hex'), WORKER_HEALTH_PORT: String(wrongHealthPort) } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    wrongWorker.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    wrongWorker.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const contents = await kind.contents(stack.config);
      const key = `states-${randomUUID()}`;
      const refused = await create('REF-kek', key, wrongApi);
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual(UNAVAILABLE);
      expect((await create('REF-kek', key, wrongApi)).status).toBe(503);
      expect(await expectNotReady(wrongApi)).toContain('wrong KEK');
      await eventually(async () => (output.includes('polling waits until it answers') ? true : undefined), 60_000, 'the wrong-KEK worker to say it waits');
      expect(await health(wrongHealthPort)).toBe('key_store_unavailable');
      expect(output).not.toContain('polling task queue');
      // Nothing under the wrong KEK: no data key, no workflow.
      expect(await kind.contents(stack.config)).toBe(contents);
      await noWorkflowFor(key);
      // The KEK put right (the stack's own api): the same request succeeds, once.
      const retried = await create('REF-kek', key);
      expect(retried.status).toBe(200);
      expect((await create('REF-kek', key)).body._id).toBe(retried.body._id);
      await expectReady();
    } finally {
      wrongWorker.kill('SIGKILL');
      await wrongApi.close();
      await wrongEncryption.close();
    }
  }, 120_000);
});
