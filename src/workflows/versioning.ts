/**
 * How each workflow type behaves under Worker Deployment Versioning (docs/guides/deploying.md).
 * Declared only when the worker runs versioned: the server refuses a behaviour from an
 * unversioned worker.
 */
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { VersioningBehavior } from '@temporalio/common';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function declareVersioningBehavior<A extends any[], R>(versioningBehavior: VersioningBehavior, workflow: (...args: A) => Promise<R>): void {
  setWorkflowOptions(() => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {}), workflow);
}

/**
 * The session workflow's replay epoch: a declaration, bumped by hand, that this build's session
 * code is deliberately not replay-compatible with the builds before the bump (a change that
 * cannot be guarded by `patched()`). Safe because sessions are pinned: a run stays on the build
 * it started on and meets new code only through continue-as-new, whose state every build must
 * still accept. The replay gate (test/helpers/replay-gate.ts) then stops requiring the previous
 * build's session histories to replay here; the other workflow types are auto-upgrade and never
 * get this exemption. A restart that hands the sessions of a dead build to the current one
 * (adoptOrphans) refuses sessions of another epoch. docs/guides/deploying.md.
 * Bump it by one, and say why on a line below:
 *   1: the first declaration (every build before it counts as 1).
 *   2: every patched() of the session workflow retired (issue 31: each cost every session a
 *      marker and a TemporalChangeVersion upsert); epoch-1 histories took their old branches.
 */
export const SESSION_REPLAY_EPOCH = 2;
