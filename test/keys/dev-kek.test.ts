/**
 * The embedded default's KEK lives outside the data folder: a copy of the folder (a backup, a
 * tarball) holds wrapped keys and no KEK, so it cannot bring a shredded session's data back.
 * A folder from before the move has its KEK moved out once; a folder whose KEK is not on this
 * machine is unavailable, never given a new KEK.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_KEK_ID_FILE } from '../../src/keys/kek';
import { initialiseKeyStore } from '../../src/keys/init';
import { KeyStoreUnavailableError } from '../../src/keys/key-store';
import { openKeyStore } from '../../src/keys/open-store';

let root: string;
let dataDir: string;
let devKekDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sessionflow-dev-kek-'));
  dataDir = join(root, 'data');
  devKekDir = join(root, 'home', 'dev-keks');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir`, with its bytes as text. */
function filesUnder(dir: string): Array<{ name: string; text: string }> {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => ({ name: join(entry.parentPath, entry.name), text: readFileSync(join(entry.parentPath, entry.name), 'utf8') }));
}

test('a copy of the data folder holds no KEK: only wrapped keys and the name of a KEK kept elsewhere', async () => {
  await initialiseKeyStore({ dataDir, devKekDir, namespace: 'default' });
  const store = openKeyStore({ dataDir, devKekDir });
  await store.createIfAbsent('session-0123456789abcdef0123456789abcdef');
  await store.close();
  const [kekFile] = readdirSync(devKekDir);
  const kek = readFileSync(join(devKekDir, kekFile), 'utf8').trim();
  expect(kek).toMatch(/^[0-9a-f]{64}$/);
  expect(statSync(join(devKekDir, kekFile)).mode & 0o777).toBe(0o600);
  expect(statSync(devKekDir).mode & 0o777).toBe(0o700);
  const copy = join(root, 'copy');
  cpSync(dataDir, copy, { recursive: true });
  const files = filesUnder(copy);
  expect(files.map(({ name }) => name)).toContain(join(copy, DEV_KEK_ID_FILE));
  for (const { name, text } of files) {
    expect({ name, holdsKek: text.includes(kek) || text.includes(Buffer.from(kek, 'hex').toString('base64')) }).toEqual({ name, holdsKek: false });
  }
  // On a machine without that KEK, the copy is unavailable: no new KEK is made for it.
  await expect(openKeyStore({ dataDir: copy, devKekDir: join(root, 'elsewhere') }).get('session-0123456789abcdef0123456789abcdef')).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  expect(existsSync(join(root, 'elsewhere'))).toBe(false);
});

test('a data folder from before keeps its keys: its KEK moves out once and the store still reads them', async () => {
  mkdirSync(dataDir, { recursive: true });
  const legacyKek = randomBytes(32).toString('hex');
  writeFileSync(join(dataDir, 'kek'), `${legacyKek}\n`, { mode: 0o600 });
  // A key wrapped under the old KEK, written as the old layout did.
  await initialiseKeyStore({ dataDir, devKekDir: join(root, 'unused'), keks: [Buffer.from(legacyKek, 'hex')], namespace: 'default' });
  const before = openKeyStore({ dataDir, devKekDir: join(root, 'unused'), keks: [Buffer.from(legacyKek, 'hex')] });
  const key = await before.createIfAbsent('session-fedcba9876543210fedcba9876543210');
  await before.close();

  // The init step (make start runs it) moves the KEK out; the processes only read it.
  await initialiseKeyStore({ dataDir, devKekDir, namespace: 'default' });
  const after = openKeyStore({ dataDir, devKekDir });
  expect(await after.get('session-fedcba9876543210fedcba9876543210')).toEqual(key);
  await after.close();
  expect(existsSync(join(dataDir, 'kek'))).toBe(false);
  expect(readdirSync(devKekDir).map((file) => readFileSync(join(devKekDir, file), 'utf8').trim())).toEqual([legacyKek]);
  // And again on the next start.
  const again = openKeyStore({ dataDir, devKekDir });
  expect(await again.get('session-fedcba9876543210fedcba9876543210')).toEqual(key);
  await again.close();
});
