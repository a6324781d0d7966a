/**
 * `npm run flow:check` and `npm run flows:status` (scripts/flow-check.ts) as operators run them:
 * the api's own loader, its exact problems, exit 0 and "ok" on a valid file, exit 1 with the
 * problems on an invalid one, and the flows directory's failed files with their reasons.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlowFile } from '../src/flows/catalog';
import { testEnv } from './helpers/stack';

const consent = readFileSync(join(__dirname, '..', 'flows', 'consent-only.json'), 'utf8');
const invalid = JSON.stringify({ ...JSON.parse(consent), id: 'not-broken', active: 'yes' });
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sessionflow-flow-check-'));
  writeFileSync(join(dir, 'consent-only.json'), consent);
  writeFileSync(join(dir, 'broken.json'), invalid);
  writeFileSync(join(dir, 'notes.txt'), 'not a flow: the api skips it');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: 'flow:check' | 'flows:status', args: string[] = [], env: Record<string, string> = {}) {
  const result = spawnSync('npm', ['run', '--silent', script, '--', ...args], { env: testEnv(env) as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('flow:check <file>: exit 0 and ok on a valid flow file', () => {
  expect(run('flow:check', [join(dir, 'consent-only.json')])).toEqual({ status: 0, stdout: `${join(dir, 'consent-only.json')}: ok\n`, stderr: '' });
});

test("flow:check <file>: exit 1 with the loader's exact problems on an invalid one", () => {
  const parsed = parseFlowFile('broken.json', invalid);
  expect(parsed.ok).toBe(false);
  const problems = parsed.ok ? [] : parsed.problems;
  expect(problems).toEqual(['id must be "broken", the file\'s name', 'active must be true or false']);
  expect(run('flow:check', [join(dir, 'broken.json')])).toEqual({
    status: 1,
    stdout: `${join(dir, 'broken.json')}: failed\n${problems.map((p) => `  - ${p}\n`).join('')}`,
    stderr: '',
  });
  const missing = run('flow:check', [join(dir, 'missing.json')]);
  expect(missing).toMatchObject({ status: 1, stdout: `${join(dir, 'missing.json')}: failed\n  - cannot be read (ENOENT)\n` });
  expect(run('flow:check', [join(dir, 'notes.txt')]).status).toBe(1);
});

test('flows:status lists the flows directory: each .json file ok or failed with its reasons', () => {
  const status = run('flows:status', [], { FLOWS_DIR: dir });
  expect(status).toEqual({
    status: 1,
    stdout: [
      `${join(dir, 'broken.json')}: failed`,
      '  - id must be "broken", the file\'s name',
      '  - active must be true or false',
      `${join(dir, 'consent-only.json')}: ok`,
      '1 ok, 1 failed',
      '',
    ].join('\n'),
    stderr: '',
  });
  // The same as flow:check on the directory; the repository's own flows are all ok.
  expect(run('flow:check', [dir]).stdout).toBe(status.stdout);
  expect(run('flows:status', [], { FLOWS_DIR: 'flows' })).toMatchObject({ status: 0, stdout: expect.stringMatching(/: ok\n2 ok, 0 failed\n$/) });
});
