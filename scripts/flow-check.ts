/**
 * Checks flow files with the api's own loader (parseFlowFile), before they are dropped into the
 * flows directory or after: `npm run flow:check -- <file or directory>...`, and with no argument
 * (`npm run flows:status`) the flows directory (FLOWS_DIR, default flows/). A directory is
 * checked as the api reads it: its `.json` files. Each file is `ok`, or `failed` with the exact
 * problems the api logs for it, one a line. Exit 0 when every file is ok, 1 otherwise, 2 on a
 * wrong call.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseFlowFile } from '../src/flows/catalog';

export interface FileCheck {
  /** As given, or `<directory>/<name>`. */
  path: string;
  problems: string[];
}

function checkFile(path: string): FileCheck {
  if (!path.endsWith('.json')) return { path, problems: ['the api loads only <flow id>.json files'] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { path, problems: [`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`] };
  }
  const parsed = parseFlowFile(basename(path), text);
  return { path, problems: parsed.ok ? [] : parsed.problems };
}

/** Every file a path names: the file itself, or a directory's `.json` files as the api lists them. */
export function checkPath(path: string): FileCheck[] {
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    // checkFile says it cannot be read
  }
  if (!directory) return [checkFile(path)];
  let names: string[];
  try {
    names = readdirSync(path).filter((name) => name.endsWith('.json')).sort();
  } catch (err) {
    return [{ path, problems: [`the directory cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`] }];
  }
  return names.map((name) => checkFile(join(path, name)));
}

export function report(checks: FileCheck[]): string {
  return checks.map(({ path, problems }) => (problems.length === 0 ? `${path}: ok\n` : `${path}: failed\n${problems.map((p) => `  - ${p}\n`).join('')}`)).join('');
}

function main(): void {
  const args = process.argv.slice(2);
  if (args.some((arg) => arg.startsWith('-'))) {
    process.stderr.write('usage: npm run flow:check -- <flow file or directory>...   (none: the flows directory, FLOWS_DIR)\n');
    process.exit(2);
  }
  const paths = args.length > 0 ? args : [process.env.FLOWS_DIR || 'flows'];
  const checks = paths.flatMap(checkPath);
  const failed = checks.filter((check) => check.problems.length > 0).length;
  process.stdout.write(report(checks));
  if (checks.length === 0) process.stdout.write(`${paths.join(', ')}: no flow files\n`);
  else if (args.length === 0 || checks.length > 1) process.stdout.write(`${checks.length - failed} ok, ${failed} failed\n`);
  process.exit(failed > 0 ? 1 : 0);
}

if (require.main === module) main();
