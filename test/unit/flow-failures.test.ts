/**
 * A flow whose file failed to load: the catalog tells it apart from an unknown flow (so a tenant
 * hears more than "does not exist", and nothing of the problems), and lists the failed files
 * with the loader's problems for operators. Driven by the api's own FlowWatcher on a directory.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowCatalog } from '../../src/flows/catalog';
import { FlowWatcher } from '../../src/flows/watch';
import { FLOW_FAILED_TO_LOAD, resolveFlow } from '../../src/api/flow-resolution';
import { BackendError } from '../../src/api/errors';

const consent = JSON.parse(readFileSync(join(__dirname, '..', '..', 'flows', 'consent-only.json'), 'utf8')) as Record<string, unknown>;
const quiet = { info: () => {}, error: () => {} };
let dir: string;

beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sessionflow-failures-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let writes = 0;
function write(name: string, content: unknown): void {
  // A distinct size each time, so the watcher's mtime-and-size stamp sees every change.
  writeFileSync(join(dir, name), `${JSON.stringify(content)}${' '.repeat((writes += 1))}`);
}

function backendError(run: () => unknown): BackendError {
  try {
    run();
  } catch (err) {
    if (err instanceof BackendError) return err;
  }
  throw new Error('expected a BackendError');
}

test('a file that failed to load: unavailable_flow, listed with its problems; fixed, it serves and is no longer listed', () => {
  const watcher = new FlowWatcher(dir, FlowCatalog.empty(), quiet);
  write('broken.json', { ...consent, id: 'broken', active: 'yes' });
  write('consent-only.json', consent);
  watcher.scan();
  const { catalog } = watcher;
  expect(catalog.resolve('broken', null)).toEqual({ ok: false, reason: 'unavailable_flow' });
  expect(catalog.resolve('no-such-flow', null)).toEqual({ ok: false, reason: 'unknown_flow' });
  expect(catalog.resolve('consent-only', null).ok).toBe(true);
  expect(catalog.failedFiles()).toEqual([{ file: 'broken.json', problems: ['active must be true or false'], servesEarlierVersion: false }]);

  // The tenant's answer: 4002 with a clearer details, and none of the operator's problems.
  expect(backendError(() => resolveFlow(catalog, 'broken', null)).body()).toEqual({ code: 4002, message: 'Flow ID does not exist', details: FLOW_FAILED_TO_LOAD });
  expect(FLOW_FAILED_TO_LOAD).not.toMatch(/active|broken\.json/);
  expect(backendError(() => resolveFlow(catalog, 'no-such-flow', null)).body()).toEqual({ code: 4002, message: 'Flow ID does not exist' });

  write('broken.json', { ...consent, id: 'broken' });
  watcher.scan();
  expect(catalog.resolve('broken', null).ok).toBe(true);
  expect(catalog.failedFiles()).toEqual([]);
});

test('an invalid edit of a serving flow is listed as serving its earlier version; a removed file is listed no more', () => {
  const watcher = new FlowWatcher(dir, FlowCatalog.empty(), quiet);
  write('consent-only.json', consent);
  watcher.scan();
  write('consent-only.json', { ...consent, name: '' });
  watcher.scan();
  expect(watcher.catalog.resolve('consent-only', null).ok).toBe(true);
  expect(watcher.catalog.failedToLoad('consent-only')).toBe(false);
  expect(watcher.catalog.failedFiles()).toEqual([{ file: 'consent-only.json', problems: ['name must be a non-empty string'], servesEarlierVersion: true }]);
  unlinkSync(join(dir, 'consent-only.json'));
  watcher.scan();
  expect(watcher.catalog.failedFiles()).toEqual([]);
  expect(watcher.catalog.resolve('consent-only', null)).toEqual({ ok: false, reason: 'unknown_flow' });
});
