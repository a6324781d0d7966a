/**
 * The services compiled the way the image builds them (Dockerfile: `npm run build`, then the
 * hosted page's bundle), for the stacks that stand in for production: `make bench` and
 * `make cluster`. Under tsx, source maps are on, and every stack trace the SDK takes in
 * workflow code costs more; a killed worker also starts again faster from JavaScript.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleBrowser } from '../src/api/hosted/assets';

const ROOT = resolve(__dirname, '..');
/** What a build depends on besides src/. */
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** A hash of everything the build reads, so an unchanged tree is not compiled twice. */
function sourcesHash(): string {
  const hash = createHash('sha256');
  for (const file of [...filesUnder(join(ROOT, 'src')).sort(), ...BUILD_INPUTS.map((f) => join(ROOT, f))]) {
    hash.update(file.slice(ROOT.length)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/**
 * Compiles src/ into `outDir` (`outDir`/worker.js, api/main.js, ...) with the hosted page's
 * bundle in `outDir`/browser-bundle, where the compiled api looks for it. Reuses a build of the
 * same sources. Answers `outDir`.
 */
export async function compileServices(outDir: string, say: (line: string) => void = () => undefined): Promise<string> {
  const stamp = join(outDir, '.sources-sha256');
  const hash = sourcesHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return outDir;
  say(`compiling the services into ${outDir} (tsc, as the image does)...`);
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { cwd: ROOT, stdio: 'inherit' });
  const browserDir = join(outDir, 'browser-bundle');
  mkdirSync(browserDir, { recursive: true });
  for (const [name, asset] of await bundleBrowser()) writeFileSync(join(browserDir, name), asset.body);
  writeFileSync(stamp, hash);
  return outDir;
}
