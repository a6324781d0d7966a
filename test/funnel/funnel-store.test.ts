/**
 * One suite, two funnel stores: the file store and the PostgreSQL store (the real server `make
 * test` starts; TEST_POSTGRES_URL). Each test gets a place of its own (a folder; a database).
 * Records are written by hand here, and every expected funnel is written out by hand.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileFunnelStore } from '../../src/funnel/file-store';
import { PostgresFunnelStore } from '../../src/funnel/pg-store';
import { FunnelReader, FunnelWriter } from '../../src/funnel/open';
import { FunnelQueryInvalid } from '../../src/funnel/query';
import { funnelKey, FunnelRecordInvalid, FunnelUnavailableError, type FunnelRecord } from '../../src/funnel/record';
import type { FunnelStore } from '../../src/funnel/store';
import type { SessionEnd } from '../../src/contract/funnel';
import { postgresUrl, sql } from '../helpers/postgres';

const DAY = 24 * 3600 * 1000;
const T0 = Date.parse('2031-03-10T00:00:00Z');
const STAGES_V1: SessionEnd['stages'] = [
  { id: 'details', kind: 'input' },
  { id: 'bank', kind: 'provider' },
  { id: 'consent', kind: 'input' },
];

let n = 0;
function end(visits: Array<[string, number | null]>, ending: SessionEnd['ending'], endedAt: number, extra: Partial<SessionEnd> = {}): FunnelRecord {
  n += 1;
  return {
    key: funnelKey(`session-${n}-${randomBytes(4).toString('hex')}`),
    clientId: 'tenant-a',
    flowId: 'bench-kyc',
    flowVersion: 'v1',
    stages: STAGES_V1,
    visits: visits.map(([stage, ms]) => ({ stage, ms })),
    journey: 'full',
    ending,
    outcome: ending === 'completed' ? 'success' : ending === 'expired' || ending === 'abandoned' ? null : 'error',
    createdAt: endedAt - 1000,
    endedAt,
    ...extra,
  };
}

const zero = { completed: 0, expired: 0, declined: 0, provider_error: 0, review_rejected: 0, abandoned: 0 };
const query = { clientId: 'tenant-a', flowId: 'bench-kyc', flowVersion: 'v1', from: T0, to: T0 + DAY };

interface StoreKind {
  name: string;
  place(): Promise<string>;
  open(place: string, readOnly?: boolean): FunnelStore;
  /** A place nothing can be written to (a file where the folder should be; a server that is not there). */
  outage(): Promise<string>;
}

const fileKind: StoreKind = {
  name: 'file store',
  place: async () => mkdtempSync(join('.data', 'test-funnel-')),
  open: (dir, readOnly) => new FileFunnelStore(dir, readOnly),
  outage: async () => {
    const dir = mkdtempSync(join('.data', 'test-funnel-'));
    appendFileSync(join(dir, 'funnel'), 'not a folder');
    return dir;
  },
};

const databases: string[] = [];
const postgresKind: StoreKind = {
  name: 'PostgreSQL store',
  place: async () => {
    const name = `test_funnel_${randomBytes(6).toString('hex')}`;
    await sql(postgresUrl(), `CREATE DATABASE ${name}`);
    databases.push(name);
    return postgresUrl().replace(/\/[^/]+$/, `/${name}`);
  },
  open: (url, readOnly) => new PostgresFunnelStore(url, readOnly),
  outage: async () => 'postgres://postgres@127.0.0.1:9/sessionflow',
};

afterAll(async () => {
  for (const name of databases) await sql(postgresUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe.each([fileKind, postgresKind])('$name', (kind) => {
  const opened: FunnelStore[] = [];
  const open = (place: string, readOnly = false) => {
    const store = kind.open(place, readOnly);
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  test('counts each stage: entered, went on, ended here by ending; p50 and p90 of the time in it', async () => {
    const store = open(await kind.place());
    const records = [
      end([['details', 10], ['bank', 100], ['consent', 5]], 'completed', T0 + 1000),
      end([['details', 20], ['bank', 200], ['consent', 7]], 'completed', T0 + 2000),
      end([['details', 30], ['bank', 300]], 'provider_error', T0 + 3000),
      end([['details', 40]], 'abandoned', T0 + 4000),
      end([['details', null]], 'abandoned', T0 + 5000),
      end([['details', 50], ['bank', 400], ['details', 60]], 'expired', T0 + 6000),
    ];
    for (const record of records) expect(await store.write(record)).toBe(true);
    const report = await new FunnelReader(store).funnel(query);
    expect(report).toEqual({
      query,
      sessions: 6,
      stages: [
        // details visits: 10 20 30 40 50 60 (the null one has no time): p50 rank 3 = 30, p90 rank 6 = 60.
        { stage: 'details', entered: 6, wentOn: 4, endedHere: { ...zero, abandoned: 2, expired: 1 }, timeInStage: { p50: 30, p90: 60 } },
        { stage: 'bank', entered: 4, wentOn: 3, endedHere: { ...zero, provider_error: 1 }, timeInStage: { p50: 200, p90: 400 } },
        { stage: 'consent', entered: 2, wentOn: 0, endedHere: { ...zero, completed: 2 }, timeInStage: { p50: 5, p90: 7 } },
      ],
    });
  });

  test('a key is kept once: a second write of it answers false and counts nothing more', async () => {
    const place = await kind.place();
    const store = open(place);
    const record = end([['details', 10]], 'declined', T0 + 1000);
    expect(await store.write(record)).toBe(true);
    expect(await store.write({ ...record })).toBe(false);
    // Another process's store on the same place finds it too.
    expect(await open(place).write({ ...record })).toBe(false);
    expect((await new FunnelReader(store).funnel(query)).sessions).toBe(1);
  });

  test('the window is [from, to); other tenants, flows and versions are kept apart', async () => {
    const store = open(await kind.place());
    await store.write(end([['details', 1]], 'declined', T0 - 1));
    await store.write(end([['details', 1]], 'declined', T0));
    await store.write(end([['details', 1]], 'declined', T0 + DAY - 1));
    await store.write(end([['details', 1]], 'declined', T0 + DAY));
    await store.write(end([['details', 1]], 'declined', T0 + 10, { clientId: 'tenant-b' }));
    await store.write(end([['details', 1]], 'declined', T0 + 10, { flowId: 'other-flow' }));
    await store.write(end([['details', 1]], 'declined', T0 + 10, { flowVersion: 'v2' }));
    expect((await new FunnelReader(store).funnel(query)).sessions).toBe(2);
    expect((await new FunnelReader(store).funnel({ ...query, flowVersion: 'v2' })).sessions).toBe(1);
  });

  test("a version's own stage order first; stages an older record of it had, after", async () => {
    const store = open(await kind.place());
    // A draft whose bank stage was removed: older sessions passed through it.
    await store.write(end([['details', 1], ['bank', 2]], 'provider_error', T0 + 1000, { flowVersion: 'draft' }));
    await store.write(end([['details', 1], ['consent', 2]], 'completed', T0 + 2000, { flowVersion: 'draft', stages: [STAGES_V1[0], STAGES_V1[2]] }));
    const report = await new FunnelReader(store).funnel({ ...query, flowVersion: 'draft' });
    expect(report.stages.map((s) => [s.stage, s.entered])).toEqual([
      ['details', 2],
      ['consent', 1],
      ['bank', 1],
    ]);
  });

  test('concurrent writers on one place (several stores, as several processes) keep every record once', async () => {
    const place = await kind.place();
    const writers = [open(place), open(place), open(place)];
    const records = Array.from({ length: 12 }, (_, i) => end([['details', i]], 'declined', T0 + i));
    // Each record written by every writer at once: one of them wins.
    const answers = await Promise.all(records.flatMap((record) => writers.map((store) => store.write(record))));
    expect(answers.filter(Boolean)).toHaveLength(12);
    expect((await new FunnelReader(writers[1]).funnel(query)).sessions).toBe(12);
  });

  test('prune drops what ended before the cutoff, whole days; a reader answers without writing', async () => {
    const place = await kind.place();
    const store = open(place);
    await store.write(end([['details', 1]], 'declined', T0 - 2 * DAY + 5));
    await store.write(end([['details', 1]], 'declined', T0 - DAY + 5));
    await store.write(end([['details', 1]], 'declined', T0 + 5));
    expect(await store.prune(T0 - DAY)).toBe(1);
    const reader = open(place, true);
    const all = { ...query, from: T0 - 3 * DAY };
    expect((await new FunnelReader(reader).funnel(all)).sessions).toBe(2);
    await expect(reader.write(end([['details', 1]], 'declined', T0 + 6))).rejects.toThrow(FunnelUnavailableError);
    await expect(reader.prune(T0)).rejects.toThrow(FunnelUnavailableError);
    expect((await new FunnelReader(store).funnel(all)).sessions).toBe(2);
  });

  test('a reader of a place nothing was written to answers an empty funnel, and creates nothing', async () => {
    const place = await kind.place();
    const report = await new FunnelReader(open(place, true)).funnel(query);
    expect(report).toEqual({ query, sessions: 0, stages: [] });
    if (kind === fileKind) expect(readdirSync(place)).toEqual([]);
    else expect(await sql(place, "SELECT to_regclass('sessionflow_funnel') IS NULL AS absent")).toEqual([{ absent: true }]);
  });

  test('an invalid record or query is refused with its error and writes nothing', async () => {
    const store = open(await kind.place());
    await expect(store.write({ ...end([['details', 1]], 'declined', T0 + 1), ending: 'lost' as never })).rejects.toThrow(FunnelRecordInvalid);
    await expect(store.write({ ...end([['details', 1]], 'declined', T0 + 1), visits: [] })).rejects.toThrow(FunnelRecordInvalid);
    await expect(store.write({ ...end([['details', 1]], 'declined', T0 + 1), key: 'session-1' })).rejects.toThrow(FunnelRecordInvalid);
    const reader = new FunnelReader(store);
    await expect(reader.funnel({ ...query, from: T0 + DAY, to: T0 })).rejects.toThrow(FunnelQueryInvalid);
    await expect(reader.funnel({ ...query, clientId: '' })).rejects.toThrow(FunnelQueryInvalid);
    expect((await reader.funnel(query)).sessions).toBe(0);
  });

  test('a store that cannot be reached answers FunnelUnavailableError, naming no host or path', async () => {
    const store = open(await kind.outage());
    const failure = store.write(end([['details', 1]], 'declined', T0 + 1));
    await expect(failure).rejects.toThrow(FunnelUnavailableError);
    await expect(failure).rejects.toThrow(/^(?!.*(127\.0\.0\.1|\.data)).*$/);
  });

  test('the writer keys records by workflow id and drops what is past its retention, at most once an hour', async () => {
    const store = open(await kind.place());
    let now = T0 + 100 * DAY;
    const writer = new FunnelWriter(store, 90, () => now);
    const old = end([['details', 1]], 'declined', T0);
    await store.write(old);
    const session: SessionEnd = { ...end([['details', 1]], 'declined', T0 + 100 * DAY) };
    delete (session as Partial<FunnelRecord>).key;
    const first = await writer.write('session-abc', session);
    expect(first).toMatchObject({ fresh: true, record: { key: funnelKey('session-abc') } });
    expect((await writer.write('session-abc', session)).fresh).toBe(false);
    // The old record ended 100 days before: past 90 days, gone.
    expect((await new FunnelReader(store).funnel({ ...query, from: T0 - DAY, to: T0 + 101 * DAY })).sessions).toBe(1);
    now += 60_000;
    await store.write(end([['details', 1]], 'declined', T0 + 1));
    await writer.write('session-def', session);
    expect((await new FunnelReader(store).funnel({ ...query, from: T0 - DAY, to: T0 + 101 * DAY })).sessions).toBe(3);
  });
});
