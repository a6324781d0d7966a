/**
 * The init step as operators run it, `npm run keys:init` (src/key-store-init.ts), on the
 * embedded default (a data directory with the file store and its generated KEK): what it makes,
 * what it adopts, what it refuses, and the store id it records so that a keys folder swapped
 * for an empty one or another store is refused by every process and by the next init.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { kekOf, wrapKey } from '../../src/keys/kek';
import { KeyStoreUnavailableError, namespaceKeyId } from '../../src/keys/key-store';
import { openKeyStore } from '../../src/keys/open-store';

const freshDataDir = () => mkdtempSync(join('.data', 'test-keys-init-'));

/** `npm run keys:init` with DATA_DIR (and `env`), as its own process. */
function keysInit(dataDir: string, env: Record<string, string> = {}) {
  const environment: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, TEMPORAL_NAMESPACE: 'default', ...env };
  for (const name of ['SESSIONFLOW_KEK', 'SESSIONFLOW_KEK_FILE', 'SESSIONFLOW_KEY_STORE_URL', 'SESSIONFLOW_KEY_STORE_ID']) if (!(name in env)) delete environment[name];
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/key-store-init.ts'], { env: environment, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** What a process that starts now sees: the store its configuration opens. */
const processStore = (dataDir: string, env: Record<string, string> = {}) =>
  openKeyStore({ ...loadConfig({ DATA_DIR: dataDir, SESSIONFLOW_DEV_KEK_DIR: process.env.SESSIONFLOW_DEV_KEK_DIR, ...env }).keys, dataDir });

const everything = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? everything(join(dir, name)).map((inner) => `${name}/${inner}`) : [name])).sort() : [];

test('keys:init makes the store, its KEK and namespace key, and records the store id; run again, it changes nothing', async () => {
  const dataDir = freshDataDir();
  const first = keysInit(dataDir);
  expect(first.status).toBe(0);
  const storeId = /key store ([0-9a-f-]{36}) created; namespace key created/.exec(first.stdout)?.[1];
  expect(storeId).toBeDefined();
  expect(first.stdout).toContain(`set SESSIONFLOW_KEY_STORE_ID=${storeId}`);
  expect(readFileSync(join(dataDir, 'key-store-id'), 'utf8').trim()).toBe(storeId);
  // The KEK is outside the data directory, which only names it (kek-id).
  const kekId = readFileSync(join(dataDir, 'kek-id'), 'utf8').trim();
  expect(statSync(join(loadConfig(process.env).keys.devKekDir, kekId)).mode & 0o777).toBe(0o600);
  const files = everything(dataDir);
  const again = keysInit(dataDir);
  expect(again).toMatchObject({ status: 0, stdout: expect.stringContaining(`key store ${storeId} ready\n`) });
  expect(everything(dataDir)).toEqual(files);
  const store = processStore(dataDir);
  await store.check('default');
  expect(await store.get(namespaceKeyId('default'))).toHaveLength(32);
});

test('processes never make a store: without the init step they are unavailable, and the data directory stays empty', async () => {
  const dataDir = freshDataDir();
  const store = processStore(dataDir);
  await expect(store.check('default')).rejects.toThrow('no generated KEK');
  await expect(store.createIfAbsent(`session-${'ab'.repeat(16)}`)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  expect(everything(dataDir)).toEqual([]);
});

test('a data directory from before markers (keys and KEK, no marker) is adopted once, under its own KEK', async () => {
  const dataDir = freshDataDir();
  const kek = randomBytes(32);
  writeFileSync(join(dataDir, 'kek'), `${kek.toString('hex')}\n`, { mode: 0o600 });
  mkdirSync(join(dataDir, 'keys'));
  const sessionKey = randomBytes(32);
  const ids = [namespaceKeyId('default'), `session-${'cd'.repeat(16)}`];
  for (const id of ids) writeFileSync(join(dataDir, 'keys', `${id}.json`), JSON.stringify(wrapKey(kekOf(kek), id, id === ids[1] ? sessionKey : randomBytes(32))));
  await expect(processStore(dataDir).get(ids[1])).rejects.toThrow('keys:init');
  const adopted = keysInit(dataDir);
  expect(adopted.status).toBe(0);
  expect(adopted.stdout).toMatch(/key store [0-9a-f-]{36}: 2 existing key\(s\) adopted\n/);
  expect((await processStore(dataDir).get(ids[1]))?.equals(sessionKey)).toBe(true);
  expect(keysInit(dataDir).stdout).toMatch(/ready\n/);
});

test('the keys folder swapped for an empty one or for another store: every new process refuses it, and keys:init refuses to make anything there', async () => {
  const dataDir = freshDataDir();
  expect(keysInit(dataDir).status).toBe(0);
  // An empty folder where the keys were (a volume not mounted).
  renameSync(join(dataDir, 'keys'), join(dataDir, 'keys-away'));
  mkdirSync(join(dataDir, 'keys'));
  await expect(processStore(dataDir).check('default')).rejects.toThrow('not initialised');
  const refused = keysInit(dataDir);
  expect(refused.status).toBe(1);
  expect(refused.stderr).toMatch(/^keys:init failed: key store unavailable: it holds no store marker, and key store [0-9a-f-]{36} is expected/);
  expect(readdirSync(join(dataDir, 'keys'))).toEqual([]);
  // Another store under the same KEK in its place (another machine's folder, say).
  const other = freshDataDir();
  writeFileSync(join(other, 'kek-id'), readFileSync(join(dataDir, 'kek-id')));
  expect(keysInit(other).status).toBe(0);
  renameSync(join(dataDir, 'keys'), join(dataDir, 'keys-empty'));
  renameSync(join(other, 'keys'), join(dataDir, 'keys'));
  await expect(processStore(dataDir).check('default')).rejects.toThrow('another key store');
  expect(keysInit(dataDir)).toMatchObject({ status: 1, stderr: expect.stringContaining('another key store') });
  // The right folder back: everything answers.
  renameSync(join(dataDir, 'keys'), join(other, 'keys'));
  renameSync(join(dataDir, 'keys-away'), join(dataDir, 'keys'));
  await processStore(dataDir).check('default');
});

test('SESSIONFLOW_KEY_STORE_ID names the one store every process and keys:init accept', async () => {
  const dataDir = freshDataDir();
  const storeId = /key store ([0-9a-f-]{36}) created/.exec(keysInit(dataDir).stdout)![1];
  await processStore(dataDir, { SESSIONFLOW_KEY_STORE_ID: storeId }).check('default');
  const other = randomUUID();
  await expect(processStore(dataDir, { SESSIONFLOW_KEY_STORE_ID: other }).check('default')).rejects.toThrow('another key store');
  expect(keysInit(dataDir, { SESSIONFLOW_KEY_STORE_ID: other })).toMatchObject({ status: 1, stderr: expect.stringContaining('another key store') });
  // Given before the first init, it refuses to make a new store (nor a KEK): the id names one that exists somewhere.
  const fresh = freshDataDir();
  expect(keysInit(fresh, { SESSIONFLOW_KEY_STORE_ID: other })).toMatchObject({ status: 1, stderr: expect.stringContaining(`key store ${other} is expected`) });
  expect(everything(fresh)).toEqual([]);
  writeFileSync(join(fresh, 'kek-id'), readFileSync(join(dataDir, 'kek-id')));
  expect(keysInit(fresh, { SESSIONFLOW_KEY_STORE_ID: other })).toMatchObject({ status: 1, stderr: expect.stringContaining('holds no store marker') });
  expect(everything(fresh)).toEqual(['kek-id']);
});
