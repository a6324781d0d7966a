/**
 * Bundles the workflow code once, ahead of time: `tsx scripts/bundle-workflows.ts <out.js>`.
 * A worker started with WORKFLOW_BUNDLE_PATH=<out.js> skips bundling at start; the tests use
 * this so every worker they start runs the same, already-built code. Prints the bundle's build
 * id (src/worker/workflow-bundle.ts), the worker's default Worker Deployment build id.
 * `--traced` bundles Temporal's OpenTelemetry workflow interceptors in, for workers with
 * SESSIONFLOW_OTLP_ENDPOINT set: another bundle, so another build id (docs/guides/tracing.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bundleBuildId, bundleWorkflows, SOURCE_ROOT, type BundleSource } from '../src/worker/workflow-bundle';

/** Writes the bundle of `source` (this checkout by default) to `outFile`; answers its build id. */
export async function writeWorkflowBundle(outFile: string, workflowsPath?: string, source: BundleSource = { root: SOURCE_ROOT }): Promise<string> {
  const code = await bundleWorkflows({ ...source, ...(workflowsPath ? { workflowsPath } : {}) });
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  return bundleBuildId(code);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const traced = args.includes('--traced');
  const outFile = args.find((arg) => arg !== '--traced') ?? 'dist/workflow-bundle.js';
  writeWorkflowBundle(outFile, undefined, { root: SOURCE_ROOT, traced }).then(
    (buildId) => process.stdout.write(`workflow bundle written to ${outFile} (build id ${buildId})\n`),
    (err: unknown) => {
      process.stderr.write(`bundling failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
