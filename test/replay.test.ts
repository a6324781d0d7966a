/**
 * Determinism guard: histories of completed sample-flow sessions, recorded from real runs
 * (RECORD_HISTORIES=1 make test), are replayed against today's workflow code. A change that
 * would break sessions already running fails here instead of in production. They were recorded
 * before payload encryption: replaying them through the encrypting data converter shows that
 * plain payloads still decode.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { openEncryption } from '../src/keys/encryption';

const HISTORIES = join(__dirname, 'histories');

test('every recorded history (both sample flows, a device client and a webhook outbox among them) replays without nondeterminism', async () => {
  const files = readdirSync(HISTORIES).filter((name) => name.endsWith('.json')).sort();
  expect(files).toEqual(expect.arrayContaining(['consent-only.json', 'kyc-basic.json', 'device-client.json', 'webhook-outbox.json']));
  const histories = files.map((file) => ({
    workflowId: file.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'))),
  }));
  const replayed: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! }, dataConverter: openEncryption(loadConfig()).dataConverter }, histories)) {
    expect(result.error).toBeUndefined();
    replayed.push(result.workflowId);
  }
  expect(replayed.sort()).toEqual(histories.map((h) => h.workflowId).sort());
});

test('the recorded histories cover a whole session: launched, consumed and archived', () => {
  for (const flow of ['consent-only', 'kyc-basic']) {
    const json = JSON.parse(readFileSync(join(HISTORIES, `${flow}.json`), 'utf8')) as { events: Array<Record<string, unknown>> };
    const updates = json.events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
    expect(updates).toBeGreaterThanOrEqual(3); // launch, at least one step, archive
    expect(json.events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeDefined();
  }
});
