/**
 * Determinism guard: histories of completed sample-flow sessions, recorded from real runs
 * (RECORD_HISTORIES=1 make test), are replayed against today's workflow code. A change that
 * would break sessions already running fails here instead of in production, with the replay
 * gate's advice (test/helpers/replay-gate.ts). Their payloads are recorded decrypted
 * (test/helpers/record-history.ts): replaying them through the encrypting data converter shows
 * that plain payloads still decode.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { openEncryption } from '../src/keys/encryption';
import { SESSION_REPLAY_EPOCH } from '../src/workflows/versioning';
import { checkReplay, HISTORIES, isSessionHistory, RECORD_HISTORIES_COMMAND, RECORDED_EPOCH, recordedHistories } from './helpers/replay-gate';

test('the session histories were recorded at the SESSION_REPLAY_EPOCH this code declares', () => {
  if (RECORDED_EPOCH !== SESSION_REPLAY_EPOCH) {
    throw new Error(
      `SESSION_REPLAY_EPOCH is ${SESSION_REPLAY_EPOCH} (src/workflows/versioning.ts), but the session histories in test/histories ` +
        `were recorded at ${RECORDED_EPOCH} (session-replay-epoch.txt there). Sessions of the old epoch stay on their build and ` +
        `never replay on this code: delete their histories and record new ones with ${RECORD_HISTORIES_COMMAND}. ` +
        'The device-client and webhook-outbox histories stay: they must keep replaying.',
    );
  }
});

test('every recorded history (both sample flows, a device client and a webhook outbox among them) replays without nondeterminism', async () => {
  const histories = recordedHistories();
  expect(histories.map((h) => h.name)).toEqual(expect.arrayContaining(['consent-only', 'kyc-basic', 'device-client', 'webhook-outbox']));
  expect(histories.filter((h) => isSessionHistory(h.history)).map((h) => h.name)).toEqual(expect.arrayContaining(['consent-only', 'kyc-basic']));
  const { replayed } = await checkReplay({
    histories,
    recordedOn: { label: 'the builds that recorded test/histories', sessionReplayEpoch: RECORDED_EPOCH },
    bundlePath: process.env.WORKFLOW_BUNDLE_PATH!,
    // Epochs are compared by the test above; every history here has to replay.
    sessionReplayEpoch: RECORDED_EPOCH,
    dataConverter: openEncryption(loadConfig()).dataConverter,
  });
  expect(replayed.sort()).toEqual(histories.map((h) => h.name).sort());
});

test('the recorded histories cover a whole session: launched, consumed and archived', () => {
  for (const flow of ['consent-only', 'kyc-basic']) {
    const json = JSON.parse(readFileSync(join(HISTORIES, `${flow}.json`), 'utf8')) as { events: Array<Record<string, unknown>> };
    const updates = json.events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
    expect(updates).toBeGreaterThanOrEqual(3); // launch, at least one step, archive
    expect(json.events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeDefined();
  }
});
