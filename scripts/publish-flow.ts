/**
 * Publishes a flow's draft as an immutable snapshot: `npm run flow:publish -- <flowId>`.
 * The snapshot id is derived from the draft's content; publishing an unchanged draft again
 * names the existing snapshot and writes nothing. A running api serves the new snapshot within
 * a second or two (src/flows/watch.ts). A flow file that is not valid is refused: its problems
 * are printed one a line and the exit code is 1, with nothing written.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlowFile } from '../src/flows/catalog';
import { snapshotIdOf } from '../src/flows/snapshots';

function refuse(lines: string[]): never {
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}

const flowId = process.argv[2];
const dir = process.env.FLOWS_DIR || 'flows';
if (!flowId) {
  process.stderr.write('usage: npm run flow:publish -- <flowId>\n');
  process.exit(2);
}
const name = `${flowId}.json`;
const file = join(dir, name);
let text: string;
try {
  text = readFileSync(file, 'utf8');
} catch {
  refuse([`${flowId}: there is no flow file ${name} in the flows directory (FLOWS_DIR, default flows/)`]);
}
const parsed = parseFlowFile(name, text);
if (!parsed.ok) refuse([`${flowId}: ${name} is not a valid flow, nothing published:`, ...parsed.problems.map((problem) => `  - ${problem}`)]);
const flow = parsed.flow;
const id = snapshotIdOf(flow.draft);
if (Object.hasOwn(flow.snapshots, id)) {
  process.stdout.write(`${flowId}: the draft is already published as snapshot ${id}\n`);
} else {
  flow.snapshots[id] = flow.draft;
  // Written beside it and renamed over it, so a running api never reads half a file.
  const partial = join(dir, `.${name}.partial`);
  writeFileSync(partial, `${JSON.stringify(flow, null, 2)}\n`);
  renameSync(partial, file);
  process.stdout.write(`${flowId}: published snapshot ${id}\n`);
}
