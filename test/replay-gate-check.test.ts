/**
 * The replay gate's check (test/helpers/replay-gate.ts) on a change it must catch: the deploy
 * drill's build B, this code plus one more command at every session's start
 * (buildWithSessionChange). Histories recorded on this code must fail to replay on it with the
 * advice of what to do, unless B declares a SESSION_REPLAY_EPOCH bump: then the session
 * histories are excused, and the device client's and webhook outbox's must still replay.
 */
import { join } from 'node:path';
import { SOURCE_ROOT } from '../src/worker/workflow-bundle';
import { SESSION_REPLAY_EPOCH } from '../src/workflows/versioning';
import { buildWithSessionChange, type Build } from './helpers/previous-build';
import { checkReplay, isSessionHistory, recordFreshHistories, type NamedHistory } from './helpers/replay-gate';
import { startStack, type Stack } from './helpers/stack';

jest.setTimeout(600_000);

const DIR = join(SOURCE_ROOT, '.data', 'replay-gate-check');
let stack: Stack;
let histories: NamedHistory[];
let unbumped: Build;
let bumped: Build;

beforeAll(async () => {
  stack = await startStack('replay-gate-check');
  histories = await recordFreshHistories(stack, process.env.WORKFLOW_BUNDLE_PATH!, 'gate-check');
  unbumped = await buildWithSessionChange(join(DIR, 'unbumped'), { bumpEpoch: false });
  bumped = await buildWithSessionChange(join(DIR, 'bumped'), { bumpEpoch: true });
});

afterAll(async () => {
  await stack.stop();
});

const onThisCode = () => ({ label: 'this checkout', sessionReplayEpoch: SESSION_REPLAY_EPOCH });

test('a nondeterministic session change without a declared bump fails the gate, saying what to do', async () => {
  expect(unbumped.sessionReplayEpoch).toBe(SESSION_REPLAY_EPOCH);
  const check = checkReplay({ histories, recordedOn: onThisCode(), bundlePath: unbumped.bundlePath, sessionReplayEpoch: unbumped.sessionReplayEpoch, dataConverter: stack.encryption.dataConverter });
  const failure = await check.then(
    () => null,
    (err: unknown) => err as Error,
  );
  expect(failure?.message).toMatch(/^replay gate: histories recorded on this checkout do not replay on this code:\n/);
  expect(failure?.message).toMatch(/\n {2}consent-only: .*[Nn]ondetermin/);
  for (const name of ['kyc-basic', 'consent-only-webhooks']) expect(failure?.message).toContain(`\n  ${name}: `);
  // Only the sessions: B changed nothing else.
  for (const name of ['device-client', 'webhook-outbox']) expect(failure?.message).not.toContain(`\n  ${name}: `);
  expect(failure?.message).toContain("patched('<a name for it>')");
  expect(failure?.message).toContain('bump SESSION_REPLAY_EPOCH in src/workflows/versioning.ts');
  expect(failure?.message).toContain('RECORD_HISTORIES=1 make test');
});

test('with the bump declared, the session histories are excused and the device client and webhook outbox still replay', async () => {
  expect(bumped.sessionReplayEpoch).toBe(SESSION_REPLAY_EPOCH + 1);
  const { replayed, excusedByBump } = await checkReplay({
    histories,
    recordedOn: onThisCode(),
    bundlePath: bumped.bundlePath,
    sessionReplayEpoch: bumped.sessionReplayEpoch,
    dataConverter: stack.encryption.dataConverter,
  });
  const sessions = histories.filter((h) => isSessionHistory(h.history)).map((h) => h.name);
  expect(sessions).toEqual(expect.arrayContaining(['consent-only', 'kyc-basic', 'consent-only-webhooks']));
  // Excused, not replayed: B really is nondeterministic for them.
  expect(excusedByBump.sort()).toEqual(sessions.sort());
  expect(replayed.sort()).toEqual(['device-client', 'webhook-outbox']);
});

test('an epoch that goes down fails the gate', async () => {
  await expect(
    checkReplay({ histories, recordedOn: { label: 'build B', sessionReplayEpoch: bumped.sessionReplayEpoch }, bundlePath: unbumped.bundlePath, sessionReplayEpoch: SESSION_REPLAY_EPOCH }),
  ).rejects.toThrow(/SESSION_REPLAY_EPOCH went down from \d+ \(build B\) to \d+: it only ever goes up/);
});
