/**
 * The previous build, for the replay gate: the workflow bundle of the last commit whose bundle
 * differs from the current one (compared by build id, src/workflow-bundle.ts), built from that
 * commit's tree (`git archive`) with today's node_modules. Cached per commit under .data/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleBuildId, bundleWorkflows, SOURCE_ROOT } from '../../src/workflow-bundle';

/** What the workflow bundle is made of; a commit that touches none of these makes the same bundle. */
const BUNDLE_INPUTS = ['src/workflows', 'src/flows/core', 'src/util/json.ts', 'src/keys/failure-converter.ts', 'package-lock.json'];
/** Bundles to try before giving up (each takes a while). */
const MAX_BUNDLES = 4;

export interface Build {
  commit: string;
  buildId: string;
  bundlePath: string;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: SOURCE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

async function buildAt(commit: string): Promise<Build> {
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
  return { commit, buildId: bundleBuildId(readFileSync(bundlePath, 'utf8')), bundlePath };
}

/**
 * The last commit whose bundle is not `currentBuildId`: HEAD when the working tree changed the
 * bundle's inputs, else the parent of each commit that changed them, newest first.
 */
export async function previousBuild(currentBuildId: string): Promise<Build> {
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
