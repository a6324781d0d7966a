/**
 * A fresh clone stays clean: the npm that `make start` and CI run must take package-lock.json
 * as it is. npm resolves the lock again from package.json (in a scratch copy, from its cache or
 * the registry) and the result must be byte for byte the committed file. Every dependency with
 * an install script must be decided in package.json's `allowScripts`, so npm warns about none.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '..');
const run = promisify(execFile);

test('npm install leaves package-lock.json unchanged', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sessionflow-lock-'));
  try {
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, file), join(scratch, file));
    await run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: scratch });
    const committed = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
    const rewritten = readFileSync(join(scratch, 'package-lock.json'), 'utf8');
    // Not toEqual on the whole text: a failure should name the packages npm added or dropped.
    const packagesOf = (lock: string) => Object.keys((JSON.parse(lock) as { packages: object }).packages);
    expect(packagesOf(rewritten)).toEqual(packagesOf(committed));
    expect(rewritten === committed).toBe(true);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}, 120_000);

test('every installed dependency with an install script is allowed or denied in package.json', async () => {
  const { stdout } = await run('npm', ['install-scripts', 'ls'], { cwd: ROOT });
  expect(stdout.trim()).toBe('No packages with unreviewed install scripts.');
});
