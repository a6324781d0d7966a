/**
 * Bundles the workflow code once, ahead of time: `tsx scripts/bundle-workflows.ts <out.js>`.
 * A worker started with WORKFLOW_BUNDLE_PATH=<out.js> skips bundling at start; the tests use
 * this so every worker they start runs the same, already-built code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../src/keys/codec';

export async function writeWorkflowBundle(outFile: string, workflowsPath = require.resolve('../src/workflows')): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    // Failure messages and stack traces are encoded (and so encrypted) from inside workflows too.
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: { info: () => undefined, warn: () => undefined, error: console.error, debug: () => undefined, trace: () => undefined, log: () => undefined },
  });
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
}

if (require.main === module) {
  const outFile = process.argv[2] ?? 'dist/workflow-bundle.js';
  writeWorkflowBundle(outFile).then(
    () => process.stdout.write(`workflow bundle written to ${outFile}\n`),
    (err: unknown) => {
      process.stderr.write(`bundling failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
