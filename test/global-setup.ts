/**
 * Runs once before all test files: bundles the workflow code a single time and hands its
 * path to every test worker (and every worker process they spawn) through the environment.
 */
import { join } from 'node:path';
import { writeWorkflowBundle } from '../scripts/bundle-workflows';

export default async function globalSetup(): Promise<void> {
  if (!process.env.TEMPORAL_ADDRESS) {
    throw new Error('TEMPORAL_ADDRESS is not set: run the tests with `make test`, which starts a Temporal dev server');
  }
  const bundlePath = join(__dirname, '..', '.data', 'test-workflow-bundle.js');
  await writeWorkflowBundle(bundlePath);
  process.env.WORKFLOW_BUNDLE_PATH = bundlePath;
}
