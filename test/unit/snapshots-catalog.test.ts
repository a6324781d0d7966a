import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowCatalog, FlowLoadError } from '../../src/flows/catalog';
import { snapshotIdOf } from '../../src/flows/snapshots';
import { canonicalJson } from '../../src/util/json';
import type { FlowFile, FlowMachine } from '../../src/flows/core/types';
import { FLOWS_DIR, sampleFlow, sampleFlowText } from './fixtures';

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The snapshot ids recorded in the repository's flow files.
const CONSENT_SNAPSHOT = 'bdf930ae-cc84-0133-49c1-97abbcd6a25c';
const KYC_SNAPSHOT = '46c19f55-d4c6-c704-a265-d4dfad5cf26f';

/** An independent canonical form: rebuild every object with its keys inserted in sorted order. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortedDeep((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function uuidOfHex(hex: string): string {
  const m = /^(.{8})(.{4})(.{4})(.{4})(.{12})/.exec(hex);
  if (!m) throw new Error('short hex');
  return m.slice(1).join('-');
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('is identical for equal objects written in a different key order', () => {
    const one = { id: 'x', states: { s: { meta: { stage: 'input', title: 'T' }, on: { SUBMIT: 'f' } } }, initial: 's' };
    const two = { initial: 's', states: { s: { on: { SUBMIT: 'f' }, meta: { title: 'T', stage: 'input' } } }, id: 'x' };
    expect(JSON.stringify(one)).not.toBe(JSON.stringify(two));
    expect(canonicalJson(one)).toBe(canonicalJson(two));
  });

  it('differs when a value differs, and when array order differs', () => {
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('writes scalars and escaped strings as JSON', () => {
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
    expect(canonicalJson({ 'k"': true, k: false })).toBe('{"k":false,"k\\"":true}');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(1.5)).toBe('1.5');
  });

  it('equals plain JSON of the same data rebuilt with sorted keys (sample drafts)', () => {
    for (const id of ['consent-only', 'kyc-basic'] as const) {
      const draft = sampleFlow(id).draft;
      expect(canonicalJson(draft)).toBe(JSON.stringify(sortedDeep(draft)));
    }
  });
});

describe('snapshotIdOf', () => {
  // Keys deliberately out of order; the canonical text below is written by hand.
  const tiny = { states: { a: { type: 'final', meta: { outcome: 'success' } } }, initial: 'a', id: 't' } as FlowMachine;
  const tinyCanonical = '{"id":"t","initial":"a","states":{"a":{"meta":{"outcome":"success"},"type":"final"}}}';

  it('is the UUID-shaped prefix of the SHA-256 of the canonical JSON', () => {
    const hex = createHash('sha256').update(tinyCanonical, 'utf8').digest('hex');
    const id = snapshotIdOf(tiny);
    expect(id).toMatch(UUID_SHAPE);
    expect(id).toBe(uuidOfHex(hex));
  });

  it('is stable across calls and key orders', () => {
    const reordered = { id: 't', initial: 'a', states: { a: { meta: { outcome: 'success' }, type: 'final' } } } as FlowMachine;
    expect(snapshotIdOf(tiny)).toBe(snapshotIdOf(tiny));
    expect(snapshotIdOf(reordered)).toBe(snapshotIdOf(tiny));
  });

  it('changes when the machine changes', () => {
    const edited = { ...tiny, states: { a: { type: 'final', meta: { outcome: 'error' } } } } as FlowMachine;
    expect(snapshotIdOf(edited)).toMatch(UUID_SHAPE);
    expect(snapshotIdOf(edited)).not.toBe(snapshotIdOf(tiny));
    expect(snapshotIdOf({ ...tiny, id: 'u' })).not.toBe(snapshotIdOf(tiny));
  });

  it('matches the ids recorded in the sample flow files', () => {
    expect(snapshotIdOf(sampleFlow('consent-only').snapshots[CONSENT_SNAPSHOT])).toBe(CONSENT_SNAPSHOT);
    expect(snapshotIdOf(sampleFlow('kyc-basic').snapshots[KYC_SNAPSHOT])).toBe(KYC_SNAPSHOT);
  });
});

/** A sample flow file, changed by `edit`, as fromFiles takes it. */
function flowFile(edit: (flow: FlowFile & Record<string, unknown>) => void, file = 'consent-only.json') {
  const flow = sampleFlow('consent-only') as FlowFile & Record<string, unknown>;
  edit(flow);
  return { file, text: JSON.stringify(flow, null, 2) };
}

function loadError(files: Array<{ file: string; text: string }>): FlowLoadError {
  try {
    FlowCatalog.fromFiles(files);
  } catch (err) {
    expect(err).toBeInstanceOf(FlowLoadError);
    return err as FlowLoadError;
  }
  throw new Error('the catalog loaded files it should have refused');
}

describe('FlowCatalog on the repository\'s flows directory', () => {
  let catalog: FlowCatalog;
  beforeAll(() => {
    catalog = FlowCatalog.load(FLOWS_DIR);
  });

  it('loads both sample flows', () => {
    expect(
      catalog
        .list()
        .map((f) => f.id)
        .sort(),
    ).toEqual(['consent-only', 'kyc-basic']);
    expect(catalog.get('kyc-basic')?.name).toBe('Basic KYC');
    expect(catalog.get('consent-only')?.active).toBe(true);
    expect(catalog.get('nope')).toBeUndefined();
  });

  it('has exactly one snapshot per flow, whose id is derived from its content', () => {
    for (const flow of catalog.list()) {
      const ids = Object.keys(flow.snapshots);
      expect(ids).toHaveLength(1);
      const hex = createHash('sha256').update(JSON.stringify(sortedDeep(flow.snapshots[ids[0]]))).digest('hex');
      expect(ids[0]).toBe(uuidOfHex(hex));
    }
    expect(Object.keys(catalog.get('consent-only')!.snapshots)).toEqual([CONSENT_SNAPSHOT]);
    expect(Object.keys(catalog.get('kyc-basic')!.snapshots)).toEqual([KYC_SNAPSHOT]);
  });

  it('resolves null to the draft with the default step budget', () => {
    const resolved = catalog.resolve('kyc-basic', null);
    expect(resolved).toEqual({
      ok: true,
      definition: { flowId: 'kyc-basic', snapshotId: null, maxSteps: 50, machine: sampleFlow('kyc-basic').draft },
    });
  });

  it('resolves a snapshot id to that snapshot', () => {
    expect(catalog.resolve('consent-only', CONSENT_SNAPSHOT)).toEqual({
      ok: true,
      definition: {
        flowId: 'consent-only',
        snapshotId: CONSENT_SNAPSHOT,
        maxSteps: 50,
        machine: sampleFlow('consent-only').snapshots[CONSENT_SNAPSHOT],
      },
    });
  });

  it('refuses an unknown flow and an unknown snapshot', () => {
    expect(catalog.resolve('no-such-flow', null)).toEqual({ ok: false, reason: 'unknown_flow' });
    expect(catalog.resolve('consent-only', KYC_SNAPSHOT)).toEqual({ ok: false, reason: 'unknown_snapshot' });
    expect(catalog.resolve('consent-only', '00000000-0000-0000-0000-000000000000')).toEqual({ ok: false, reason: 'unknown_snapshot' });
  });
});

describe('FlowCatalog.fromFiles', () => {
  it('refuses new sessions of an inactive flow, for the draft and for a snapshot', () => {
    const catalog = FlowCatalog.fromFiles([flowFile((f) => (f.active = false))]);
    expect(catalog.get('consent-only')?.active).toBe(false);
    expect(catalog.resolve('consent-only', null)).toEqual({ ok: false, reason: 'inactive_flow' });
    expect(catalog.resolve('consent-only', CONSENT_SNAPSHOT)).toEqual({ ok: false, reason: 'inactive_flow' });
  });

  it('uses a flow\'s own maxSteps', () => {
    const catalog = FlowCatalog.fromFiles([flowFile((f) => (f.maxSteps = 7))]);
    const resolved = catalog.resolve('consent-only', null);
    expect(resolved.ok && resolved.definition.maxSteps).toBe(7);
  });

  it('accepts the maxSteps bounds 1 and 500', () => {
    for (const maxSteps of [1, 500]) {
      const resolved = FlowCatalog.fromFiles([flowFile((f) => (f.maxSteps = maxSteps))]).resolve('consent-only', null);
      expect(resolved.ok && resolved.definition.maxSteps).toBe(maxSteps);
    }
  });

  it('loads the unchanged sample text', () => {
    expect(FlowCatalog.fromFiles([{ file: 'kyc-basic.json', text: sampleFlowText('kyc-basic') }]).list()).toHaveLength(1);
  });

  it('refuses invalid JSON, naming the file', () => {
    const err = loadError([{ file: 'consent-only.json', text: '{ "id": "consent-only", ' }]);
    expect(err.file).toBe('consent-only.json');
    expect(err.message).toContain('consent-only.json');
    expect(err.message).toContain('is not valid JSON');
  });

  it('refuses JSON that is not an object', () => {
    expect(loadError([{ file: 'a.json', text: '[1]' }]).message).toContain('must hold a JSON object');
  });

  it('refuses an id that does not match the file name', () => {
    const err = loadError([flowFile(() => undefined, 'other-flow.json')]);
    expect(err.file).toBe('other-flow.json');
    expect(err.message).toContain('other-flow.json');
    expect(err.problems).toEqual(['id must be "other-flow", the file\'s name']);
  });

  it('refuses a missing or empty name', () => {
    expect(loadError([flowFile((f) => delete (f as Record<string, unknown>).name)]).problems).toEqual(['name must be a non-empty string']);
    expect(loadError([flowFile((f) => (f.name = ''))]).message).toContain('name must be a non-empty string');
  });

  it('refuses a non-boolean active', () => {
    const err = loadError([flowFile((f) => ((f as Record<string, unknown>).active = 'yes'))]);
    expect(err.message).toContain('consent-only.json');
    expect(err.problems).toEqual(['active must be true or false']);
  });

  it.each([0, 501, 1.5, '10', -3])('refuses maxSteps %p', (maxSteps) => {
    const err = loadError([flowFile((f) => ((f as Record<string, unknown>).maxSteps = maxSteps))]);
    expect(err.message).toContain('consent-only.json');
    expect(err.problems).toEqual(['maxSteps must be a whole number from 1 to 500']);
  });

  it('refuses an unsupported key and a bad description', () => {
    expect(loadError([flowFile((f) => (f.owner = 'me'))]).problems).toEqual(['unsupported key "owner"']);
    expect(loadError([flowFile((f) => ((f as Record<string, unknown>).description = 3))]).problems).toEqual([
      'description must be a string',
    ]);
  });

  it('refuses an edited snapshot whose id no longer matches its content', () => {
    const err = loadError([
      flowFile((f) => {
        (f.snapshots[CONSENT_SNAPSHOT].states.consent.meta as { title: string }).title = 'Accept the new terms';
      }),
    ]);
    expect(err.message).toContain('consent-only.json');
    expect(err.message).toContain(CONSENT_SNAPSHOT);
    expect(err.message).toContain('immutable');
  });

  it('refuses a snapshot stored under a made-up id', () => {
    const err = loadError([
      flowFile((f) => {
        f.snapshots = { '11111111-2222-3333-4444-555555555555': f.snapshots[CONSENT_SNAPSHOT] };
      }),
    ]);
    expect(err.message).toContain('11111111-2222-3333-4444-555555555555 does not match its content');
  });

  it('refuses an invalid snapshot machine, naming the snapshot', () => {
    const err = loadError([
      flowFile((f) => {
        f.snapshots[CONSENT_SNAPSHOT].initial = 'nowhere';
      }),
    ]);
    expect(err.message).toContain(`snapshot ${CONSENT_SNAPSHOT}: the machine needs an initial state that exists`);
  });

  it('refuses a draft with an unknown target', () => {
    const err = loadError([
      flowFile((f) => {
        f.draft.states.consent.on!.SUBMIT = 'nowhere';
      }),
    ]);
    expect(err.message).toContain('consent-only.json');
    expect(err.problems).toEqual(['draft: state "consent" on SUBMIT targets unknown state "nowhere"']);
  });

  it('refuses snapshots that are not an object', () => {
    expect(loadError([flowFile((f) => ((f as Record<string, unknown>).snapshots = []))]).message).toContain('snapshots must be an object');
  });

  it('refuses the whole catalog when one of several files is bad, naming that file', () => {
    const err = loadError([
      { file: 'kyc-basic.json', text: sampleFlowText('kyc-basic') },
      flowFile((f) => (f.active = 'no' as unknown as boolean)),
    ]);
    expect(err.file).toBe('consent-only.json');
  });
});

describe('FlowCatalog.load', () => {
  it('loads the .json files of a directory and ignores other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionflow-flows-'));
    try {
      writeFileSync(join(dir, 'consent-only.json'), sampleFlowText('consent-only'));
      writeFileSync(join(dir, 'README.md'), 'not a flow');
      const catalog = FlowCatalog.load(dir);
      expect(catalog.list().map((f) => f.id)).toEqual(['consent-only']);
      expect(catalog.resolve('consent-only', CONSENT_SNAPSHOT).ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the bad file in a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionflow-flows-'));
    try {
      writeFileSync(join(dir, 'consent-only.json'), sampleFlowText('consent-only'));
      writeFileSync(join(dir, 'broken.json'), '{');
      expect(() => FlowCatalog.load(dir)).toThrow(/flow file broken\.json: is not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a directory that does not exist', () => {
    const missing = join(tmpdir(), `sessionflow-no-such-dir-${process.pid}-${Date.now()}`);
    let error: unknown;
    try {
      FlowCatalog.load(missing);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FlowLoadError);
    expect((error as FlowLoadError).file).toBe(missing);
    expect((error as FlowLoadError).problems).toEqual(['the flows directory cannot be read']);
  });
});

test.each(['constructor', '__proto__', 'toString'])('resolve(%s) as a snapshot id is an unknown snapshot', (snapshotId) => {
  const catalog = FlowCatalog.load(FLOWS_DIR);
  expect(catalog.resolve('consent-only', snapshotId)).toEqual({ ok: false, reason: 'unknown_snapshot' });
});
