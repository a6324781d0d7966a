/**
 * Publishes a flow's draft as an immutable snapshot: `npm run flow:publish -- <flowId>`.
 * The snapshot id is derived from the draft's content; publishing an unchanged draft again
 * names the existing snapshot and writes nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowCatalog } from '../src/flows/catalog';
import { snapshotIdOf } from '../src/flows/snapshots';
import type { FlowFile } from '../src/flows/core/types';

const flowId = process.argv[2];
const dir = process.env.FLOWS_DIR || 'flows';
if (!flowId) {
  process.stderr.write('usage: npm run flow:publish -- <flowId>\n');
  process.exit(2);
}
FlowCatalog.load(dir); // refuses to publish from a catalog that does not load
const file = join(dir, `${flowId}.json`);
const flow = JSON.parse(readFileSync(file, 'utf8')) as FlowFile;
const id = snapshotIdOf(flow.draft);
if (flow.snapshots[id]) {
  process.stdout.write(`${flowId}: the draft is already published as snapshot ${id}\n`);
} else {
  flow.snapshots[id] = flow.draft;
  writeFileSync(file, `${JSON.stringify(flow, null, 2)}\n`);
  process.stdout.write(`${flowId}: published snapshot ${id}\n`);
}
