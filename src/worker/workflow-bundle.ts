/**
 * The workflow bundle and the build id derived from it. Bundles are built relative to a source
 * root (`./src/workflows/...`, not a machine path), so the same workflow code gives the same
 * bundle wherever it is checked out, and the build id (a hash of the bundle) changes only with
 * a commit that changes what workers run: workflow code, what it imports, or the Temporal SDK.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_TRACING_MODULE } from './tracing';

/** The repository root of this checkout: the source root of the current code. */
export const SOURCE_ROOT = resolve(__dirname, '../..');

const quiet = { info: () => undefined, warn: () => undefined, error: console.error, debug: () => undefined, trace: () => undefined, log: () => undefined };

export interface BundleSource {
  /** The tree holding `src/workflows` (and `node_modules`, or a link to one). */
  root: string;
  /** The workflows module; `<root>/src/workflows` by default. */
  workflowsPath?: string;
  /**
   * With Temporal's OpenTelemetry workflow interceptors (src/worker/tracing.ts): another bundle,
   * so another build id. Without, the bundle is what it was before tracing existed.
   */
  traced?: boolean;
}

/** Bundles the workflow code of a source tree; the code the worker loads. */
export async function bundleWorkflows({ root, workflowsPath = join(root, 'src', 'workflows'), traced = false }: BundleSource): Promise<string> {
  // Failure messages and stack traces are encoded (and so encrypted) from inside workflows too,
  // and values not decrypted are marked; a tree from before either has no such converter.
  const failureConverter = join(root, 'src', 'keys', 'failure-converter.ts');
  const payloadConverter = join(root, 'src', 'keys', 'payload-converter.ts');
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...(existsSync(failureConverter) ? { failureConverterPath: failureConverter } : {}),
    ...(existsSync(payloadConverter) ? { payloadConverterPath: payloadConverter } : {}),
    ...(traced ? { workflowInterceptorModules: [join(root, WORKFLOW_TRACING_MODULE)] } : {}),
    // Module names relative to the root, and a linked node_modules kept under the root's name:
    // the bundle does not depend on where the tree is.
    webpackConfigHook: (config) => ({ ...config, context: root, resolve: { ...config.resolve, symlinks: false } }),
    logger: quiet,
  });
  return code;
}

// Where webpack starts a module in a bundle (a comment line of three stars, then its name), and
// the line that ends it.
const MODULE_START = /^(?=\/\*\*\*\/ ")/m;
const MODULE_END = /\n\/\*\*\*\/ \},?\n*/;

/**
 * The build id of a bundle: a hash of its modules, each by its name, in name order, and of the
 * code around them, without the inline source map. The map names files by their place on the
 * machine and only serves stack traces; webpack's module order can change with the timing of its
 * file reads.
 */
export function bundleBuildId(code: string): string {
  const withoutSourceMap = code.replace(/\n\/\/# sourceMappingURL=.*$/gm, '');
  const modules: string[] = [];
  const around: string[] = [];
  for (const part of withoutSourceMap.split(MODULE_START)) {
    const end = MODULE_END.exec(part);
    if (!part.startsWith('/***/ "') || !end) {
      around.push(part);
      continue;
    }
    modules.push(part.slice(0, end.index));
    around.push(part.slice(end.index + end[0].length));
  }
  const hash = createHash('sha256');
  for (const text of [...modules.sort(), '', ...around.filter((text) => text !== '')]) hash.update(`${text.length}:${text}`);
  return hash.digest('hex').slice(0, 16);
}
