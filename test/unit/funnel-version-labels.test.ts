/** The `version` label of the stage metrics stays bounded: draft, the active snapshots, else `other`. */
import { LABELLED_VERSIONS, VersionLabels } from '../../src/activities/funnel';

const end = (flowVersion: string, createdAt: number, flowId = 'kyc-basic') => ({ clientId: 'tenant-a', flowId, flowVersion, createdAt });

test('the draft is always `draft`; the three snapshots whose sessions started last keep their id; an older one is `other`', () => {
  expect(LABELLED_VERSIONS).toBe(3);
  const labels = new VersionLabels();
  expect(labels.label(end('draft', 1))).toBe('draft');
  expect(labels.label(end('s1', 10))).toBe('s1');
  expect(labels.label(end('s2', 20))).toBe('s2');
  expect(labels.label(end('s3', 30))).toBe('s3');
  // s4 starts sessions later than s1's newest: s1 is no longer active.
  expect(labels.label(end('s4', 40))).toBe('s4');
  expect(labels.label(end('s1', 11))).toBe('other');
  // A session of s2 that started before s2's newest keeps s2's label.
  expect(labels.label(end('s2', 5))).toBe('s2');
  // Each flow has its own.
  expect(labels.label(end('s1', 11, 'consent-only'))).toBe('s1');
});

test('a snapshot pushed out never gets its label back; at most LABELLED_VERSIONS labelled at a time', () => {
  const labels = new VersionLabels();
  for (const [i, version] of ['s1', 's2', 's3', 's4'].entries()) labels.label(end(version, 10 * (i + 1)));
  // s1 was pushed out by s4: even a session of it that started after all the others is `other`.
  expect(labels.label(end('s1', 1000))).toBe('other');
  // Many snapshots taking turns: each label handed out is one of the last LABELLED_VERSIONS new ones.
  const handedOut: string[] = [];
  for (let i = 0; i < 200; i += 1) handedOut.push(labels.label(end(`t${i % 50}`, 2000 + i)));
  // After the first round only the last three new ones are still active; every other is `other`.
  expect(new Set(handedOut.slice(100))).toEqual(new Set(['other', 't47', 't48', 't49']));
  expect(new Set(handedOut.filter((l) => l !== 'other')).size).toBe(50);
});
