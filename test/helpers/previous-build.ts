/**
 * Other builds of the workflow code, for the replay gate and the deploy drill. The previous
 * build: the workflow bundle of the last commit whose bundle differs from the current one
 * (compared by build id, src/worker/workflow-bundle.ts), built from that commit's tree (`git archive`)
 * with today's node_modules, cached per commit under .data/, with that commit's flows/. A session-changed build: this
 * checkout's code with a deliberate change that is nondeterministic for the sessions of this one.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sessionReplayEpochOf } from '../../src/worker/deployment';
import { bundleBuildId, bundleWorkflows, SOURCE_ROOT } from '../../src/worker/workflow-bundle';

/** What the workflow bundle is made of; a commit that touches none of these makes the same bundle. */
const BUNDLE_INPUTS = ['src/workflows', 'src/flows/core', 'src/util/json.ts', 'src/keys/failure-converter.ts', 'package-lock.json'];
/** Bundles to try before giving up (each takes a while). */
const MAX_BUNDLES = 4;

export interface Build {
  buildId: string;
  bundlePath: string;
  /** The SESSION_REPLAY_EPOCH its code declares. */
  sessionReplayEpoch: number;
}

export interface CommitBuild extends Build {
  commit: string;
  /**
   * The commit's flows/: the flows its sessions could have started with. The gate feeds its
   * build these, not today's flows/, which may use stage kinds or guards it does not know.
   */
  flowsDir: string;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: SOURCE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

async function buildAt(commit: string): Promise<CommitBuild> {
  const dir = join(SOURCE_ROOT, '.data', 'replay-gate', commit);
  const bundlePath = join(dir, 'workflow-bundle.js');
  if (!existsSync(bundlePath)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tree = execFileSync('git', ['archive', '--format=tar', commit, 'src'], { cwd: SOURCE_ROOT, maxBuffer: 256 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: tree });
    // Resolved under the tree's own name (the bundler keeps links), so module names match.
    symlinkSync(join(SOURCE_ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(bundlePath, await bundleWorkflows({ root: dir }));
  }
  const flowsDir = join(dir, 'flows');
  if (!existsSync(flowsDir)) {
    // Builds cached before the gate took a commit's flows have only its src.
    execFileSync('tar', ['-x', '-C', dir], { input: execFileSync('git', ['archive', '--format=tar', commit, 'flows'], { cwd: SOURCE_ROOT, maxBuffer: 64 * 1024 * 1024 }) });
  }
  // The declaration as the commit's tree has it (a tree from before it has none: the first epoch).
  const versioning = join(dir, 'src', 'workflows', 'versioning.ts');
  const sessionReplayEpoch = sessionReplayEpochOf(existsSync(versioning) ? readFileSync(versioning, 'utf8') : '');
  return { commit, buildId: bundleBuildId(readFileSync(bundlePath, 'utf8')), bundlePath, sessionReplayEpoch, flowsDir };
}

/**
 * The last commit whose bundle is not `currentBuildId`: HEAD when the working tree changed the
 * bundle's inputs, else the parent of each commit that changed them, newest first.
 */
export async function previousBuild(currentBuildId: string): Promise<CommitBuild> {
  const candidates: string[] = [];
  if (git('status', '--porcelain', '--', ...BUNDLE_INPUTS) !== '') candidates.push(git('rev-parse', 'HEAD'));
  for (const commit of git('log', '--format=%H', '-n', String(MAX_BUNDLES), '--', ...BUNDLE_INPUTS).split('\n').filter(Boolean)) {
    try {
      candidates.push(git('rev-parse', `${commit}^`));
    } catch {
      // The first commit: nothing before it.
    }
  }
  for (const commit of candidates.slice(0, MAX_BUNDLES)) {
    const build = await buildAt(commit);
    if (build.buildId !== currentBuildId) return build;
  }
  throw new Error(
    `replay gate: no commit among the last ${MAX_BUNDLES} that changed the workflow code has a different bundle; ` +
      'a shallow clone? fetch more history (git fetch --deepen=50)',
  );
}

/** The line of the session workflow that a session-changed build adds a command after. */
const CHANGED_AFTER = '  runner.start();\n';

/**
 * This checkout's workflow code, bundled in `dir`, with one more command at every session's
 * start (a memo upsert): nondeterministic for every session history of this code. With
 * `bumpEpoch`, it also declares the next SESSION_REPLAY_EPOCH, as such a change has to.
 */
export async function buildWithSessionChange(dir: string, { bumpEpoch }: { bumpEpoch: boolean }): Promise<Build> {
  const root = join(dir, 'tree');
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(SOURCE_ROOT, 'src'), join(root, 'src'), { recursive: true });
  symlinkSync(join(SOURCE_ROOT, 'node_modules'), join(root, 'node_modules'));
  const session = join(root, 'src', 'workflows', 'session.ts');
  const code = readFileSync(session, 'utf8');
  if (!code.includes(CHANGED_AFTER)) throw new Error('the session workflow no longer has the line a session-changed build adds its command after');
  writeFileSync(session, `import { upsertMemo } from '@temporalio/workflow';\n${code.replace(CHANGED_AFTER, `${CHANGED_AFTER}  upsertMemo({ changedBuild: true });\n`)}`);
  if (bumpEpoch) {
    const versioning = join(root, 'src', 'workflows', 'versioning.ts');
    const declared = readFileSync(versioning, 'utf8');
    writeFileSync(versioning, declared.replace(/\bSESSION_REPLAY_EPOCH = (\d+)/, (_, epoch: string) => `SESSION_REPLAY_EPOCH = ${Number(epoch) + 1}`));
  }
  const bundlePath = join(dir, 'workflow-bundle.js');
  const bundle = await bundleWorkflows({ root });
  writeFileSync(bundlePath, bundle);
  rmSync(root, { recursive: true, force: true });
  return { buildId: bundleBuildId(bundle), bundlePath, sessionReplayEpoch: sessionReplayEpochOf(bundle) };
}
