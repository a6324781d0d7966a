/**
 * The docs stay true to the repository: every link and anchor resolves inside it
 * (remark-validate-links, offline), the configuration page lists exactly the variables the code
 * reads, the dependencies page names every npm package, and no page outside CHANGELOG.md and
 * bench/ logs a dated run. The error tables have their own test (error-tables.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

function filesUnder(dir: string, ending: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(ending))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

const PAGES = ['README.md', 'CHANGELOG.md', 'bench/README.md', ...filesUnder('docs', '.md')];

/** The backticked names in the first column of every table of a Markdown page. */
function firstColumnNames(page: string): Set<string> {
  const names = new Set<string>();
  for (const line of page.split('\n')) {
    if (!line.startsWith('| `')) continue;
    for (const match of line.split('|')[1].matchAll(/`([^`]+)`/g)) names.add(match[1]);
  }
  return names;
}

test('every link and anchor in the docs resolves inside the repository', () => {
  const remark = join(ROOT, 'node_modules', '.bin', 'remark');
  let output = '';
  try {
    output = execFileSync(remark, ['--quiet', '--frail', '--no-stdout', '--no-color', ...PAGES], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string };
    output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
    throw new Error(`dead links or anchors:\n${output}`);
  }
  expect(output).not.toMatch(/warning|error/);
});

test('the configuration page lists exactly the variables the code reads', () => {
  const documented = firstColumnNames(read('docs/reference/configuration.md'));
  const sources = [...filesUnder('src', '.ts'), ...filesUnder('scripts', '.ts')].map(read).join('\n');
  const read_ = new Set<string>(CONFIG_VARIABLES);
  for (const pattern of [/process\.env\.([A-Z][A-Z0-9_]+)/g, /\benv\.([A-Z][A-Z0-9_]+)/g, /\(env, '([A-Z][A-Z0-9_]+)'/g]) {
    for (const match of sources.matchAll(pattern)) read_.add(match[1]);
  }
  read_.delete('PATH');
  const missing = [...read_].filter((name) => !documented.has(name)).sort();
  expect(missing).toEqual([]);
  // The reverse: a documented variable the code no longer mentions anywhere.
  const stale = [...documented].filter((name) => !new RegExp(`\\b${name}\\b`).test(sources)).sort();
  expect(stale).toEqual([]);
});

test('the dependencies page names every npm package, and only those', () => {
  const pkg = JSON.parse(read('package.json')) as { dependencies: object; devDependencies: object };
  const packages = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].sort();
  expect([...firstColumnNames(read('docs/reference/dependencies.md'))].sort()).toEqual(packages);
});

test('no page outside CHANGELOG.md and bench/ mentions a dated run', () => {
  const dated = PAGES.filter((page) => page !== 'CHANGELOG.md' && !page.startsWith('bench/'))
    .filter((page) => /\b20\d\d-\d\d-\d\d\b/.test(read(page)));
  expect(dated).toEqual([]);
});

test('the README stays a short front door', () => {
  expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200);
});
