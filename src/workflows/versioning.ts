/**
 * How each workflow type behaves under Worker Deployment Versioning (README "Deploying a new
 * version"). Declared only when the worker runs versioned: the server refuses a behaviour from
 * an unversioned worker.
 */
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { VersioningBehavior } from '@temporalio/common';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function declareVersioningBehavior<A extends any[], R>(versioningBehavior: VersioningBehavior, workflow: (...args: A) => Promise<R>): void {
  setWorkflowOptions(() => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {}), workflow);
}
