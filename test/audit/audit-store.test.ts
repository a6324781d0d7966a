/**
 * One suite, two audit stores: the file store and the PostgreSQL store (the real server `make
 * test` starts; TEST_POSTGRES_URL). Each test gets a place of its own (a folder; a database).
 * What an attacker with write access to the store can do (edit a record, drop one, recompute a
 * plain chain without the key) is done to the bytes where they sit, and verify must name the record.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileAuditStore } from '../../src/audit/file-store';
import { PostgresAuditStore } from '../../src/audit/pg-store';
import { chainRecord, recordMac, type AuditRecord } from '../../src/audit/record';
import type { AuditStore } from '../../src/audit/store';
import { AuditEntryError, AuditTrail, AuditUnavailableError } from '../../src/audit/trail';
import { postgresUrl, sql } from '../helpers/postgres';

const key = randomBytes(32);
const ref = () => randomBytes(16).toString('hex');
const DAY = 24 * 3600 * 1000;

interface StoreKind {
  name: string;
  place(): Promise<string>;
  open(place: string): AuditStore;
  /** Rewrites the stored record `seq` with `change` applied, bypassing the store (as a database owner or a shell user could). */
  tamper(place: string, seq: number, change: (record: AuditRecord) => AuditRecord | null): Promise<void>;
  /** A place the store cannot write (a read-only folder; a server that is not there). */
  outage(place: string): Promise<string>;
}

const fileKind: StoreKind = {
  name: 'file store',
  place: async () => mkdtempSync(join('.data', 'test-audit-')),
  open: (dir) => new FileAuditStore(dir),
  tamper: async (dir, seq, change) => {
    const file = join(dir, 'audit', 'audit.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const changed = lines.flatMap((line) => {
      const record = JSON.parse(line) as AuditRecord;
      if (record.seq !== seq) return [line];
      const next = change(record);
      return next ? [JSON.stringify(next)] : [];
    });
    writeFileSync(file, `${changed.join('\n')}\n`);
  },
  outage: async (dir) => {
    // The folder exists but cannot be written (root ignores modes, so a file stands where the folder should be).
    writeFileSync(join(dir, 'audit'), 'not a folder');
    chmodSync(join(dir, 'audit'), 0o400);
    return dir;
  },
};

const databases: string[] = [];
const postgresKind: StoreKind = {
  name: 'PostgreSQL store',
  place: async () => {
    const name = `test_audit_${randomBytes(6).toString('hex')}`;
    await sql(postgresUrl(), `CREATE DATABASE ${name}`);
    databases.push(name);
    return postgresUrl().replace(/\/[^/]+$/, `/${name}`);
  },
  open: (url) => new PostgresAuditStore(url),
  tamper: async (url, seq, change) => {
    const [row] = await sql<{ record: AuditRecord }>(url, 'SELECT record FROM sessionflow_audit WHERE seq = $1', [seq]);
    const next = change(row.record);
    // A database owner switches the append-only trigger off first.
    await sql(url, 'ALTER TABLE sessionflow_audit DISABLE TRIGGER USER');
    if (next) await sql(url, 'UPDATE sessionflow_audit SET record = $2, actor = $3 WHERE seq = $1', [seq, JSON.stringify(next), next.actor]);
    else await sql(url, 'DELETE FROM sessionflow_audit WHERE seq = $1', [seq]);
    await sql(url, 'ALTER TABLE sessionflow_audit ENABLE TRIGGER USER');
  },
  // Nothing listens there: a stopped server.
  outage: async () => 'postgres://postgres@127.0.0.1:9/sessionflow',
};

afterAll(async () => {
  for (const name of databases) await sql(postgresUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe.each([fileKind, postgresKind])('$name', (kind) => {
  const opened: AuditStore[] = [];
  const trailAt = (place: string, now?: () => Date, trailKey = key) => {
    const store = kind.open(place);
    opened.push(store);
    return new AuditTrail(store, trailKey, 400, now);
  };
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
  });

  test('records chain from a genesis; intent and outcome pair up; verify finds them intact', async () => {
    const trail = trailAt(await kind.place());
    const sessions = [ref(), ref()];
    const answer = await trail.audited({ actor: 'operator:ada', action: 'codec.decode', refs: sessions, address: '127.0.0.1', requestId: 'r-1' }, async () => 'decoded');
    expect(answer).toBe('decoded');
    await trail.record({ actor: 'anonymous:', action: 'operator.auth_failed', outcome: 'refused', address: '::1' });
    const all = await trail.query({});
    expect(all.map((r) => [r.seq, r.action, r.phase, r.outcome ?? null])).toEqual([
      [0, 'audit.genesis', 'event', 'ok'],
      [1, 'codec.decode', 'intent', null],
      [2, 'codec.decode', 'outcome', 'ok'],
      [3, 'operator.auth_failed', 'event', 'refused'],
    ]);
    expect(all[1]).toMatchObject({ actor: 'operator:ada', refs: [...sessions].sort(), address: '127.0.0.1', requestId: 'r-1' });
    expect(all[2].intent).toBe(1);
    expect(all[2].prev).toBe(all[1].mac);
    expect(await trail.verify()).toMatchObject({ intact: true, checked: 4, startsAt: 0, head: { seq: 3 }, incomplete: [] });
  });

  test('an action that fails is recorded as failed and its error passes through; a refusal as refused', async () => {
    const trail = trailAt(await kind.place());
    await expect(trail.audited({ actor: 'tenant:acme', action: 'result.read', refs: [ref()] }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      trail.audited({ actor: 'tenant:acme', action: 'result.read', refs: [ref()] }, async () => Promise.reject(new RangeError('not yours')), { refused: (err) => err instanceof RangeError }),
    ).rejects.toThrow('not yours');
    expect((await trail.query({ action: 'result.read' })).map((r) => r.outcome ?? r.phase)).toEqual(['intent', 'failed', 'intent', 'refused']);
  });

  test('concurrent writers on one place (several stores, as several processes) keep one unbroken chain', async () => {
    const place = await kind.place();
    const writers = [trailAt(place), trailAt(place), trailAt(place)];
    await Promise.all(writers.flatMap((trail, w) => Array.from({ length: 8 }, (_, i) => trail.record({ actor: `system:w${w}`, action: 'codec.encode', detail: { i } }))));
    const report = await writers[0].verify();
    expect(report).toMatchObject({ intact: true, checked: 25, head: { seq: 24 } });
    expect((await writers[1].query({})).map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  test('queries by session reference, actor, action and time range', async () => {
    let clock = Date.parse('2031-01-01T00:00:00Z');
    const trail = trailAt(await kind.place(), () => new Date((clock += 60_000)));
    const [mine, other] = [ref(), ref()];
    await trail.record({ actor: 'operator:ada', action: 'codec.decode', refs: [mine, other] });
    await trail.record({ actor: 'tenant:acme', action: 'result.read', refs: [mine] });
    await trail.record({ actor: 'operator:bob', action: 'codec.decode', refs: [other] });
    expect((await trail.query({ ref: mine })).map((r) => r.actor)).toEqual(['operator:ada', 'tenant:acme']);
    expect((await trail.query({ actor: 'operator:bob' })).map((r) => r.refs)).toEqual([[other]]);
    expect((await trail.query({ action: 'codec.decode', ref: other })).map((r) => r.actor)).toEqual(['operator:ada', 'operator:bob']);
    expect((await trail.query({ since: '2031-01-01T00:02:00Z', until: '2031-01-01T00:03:00Z' })).map((r) => r.actor)).toEqual(['tenant:acme']);
    expect(await trail.query({ limit: 2 })).toHaveLength(2);
  });

  test('bad input is refused with a clear error and writes nothing', async () => {
    const trail = trailAt(await kind.place());
    await trail.record({ actor: 'system:test', action: 'codec.encode' });
    const bad = [
      { actor: 'alice', action: 'codec.decode' },
      { actor: 'operator:ada', action: 'coffee' },
      { actor: 'operator:ada', action: 'codec.decode', refs: ['DS1234567890ab'] },
      { actor: 'operator:ada', action: 'codec.decode', address: 'not an address' },
      { actor: 'operator:ada', action: 'codec.decode', detail: { name: 'Asha Rao' } },
    ];
    for (const entry of bad) await expect(trail.record(entry as never)).rejects.toBeInstanceOf(AuditEntryError);
    await expect(trail.query({ ref: 'DS1234567890ab' })).rejects.toThrow(/ref must be a session reference/);
    await expect(trail.query({ since: 'yesterday' })).rejects.toThrow(/since must be an ISO 8601/);
    expect(await trail.query({})).toHaveLength(2);
  });

  test('a changed record is named by verify, and so is a dropped one', async () => {
    const place = await kind.place();
    const trail = trailAt(place);
    for (let i = 0; i < 5; i += 1) await trail.record({ actor: 'operator:ada', action: 'codec.decode', refs: [ref()] });
    await kind.tamper(place, 3, (record) => ({ ...record, actor: 'operator:nobody' }));
    expect(await trail.verify()).toMatchObject({ intact: false, checked: 3, broken: { seq: 3, reason: expect.stringMatching(/MAC does not match/) } });
    const other = await kind.place();
    const second = trailAt(other);
    for (let i = 0; i < 5; i += 1) await second.record({ actor: 'operator:ada', action: 'codec.decode', refs: [ref()] });
    await kind.tamper(other, 2, () => null);
    expect(await second.verify()).toMatchObject({ intact: false, broken: { seq: 3, reason: 'records #2 to #2 are missing' } });
  });

  test('a chain recomputed without the key (a plain hash, or another key) is found at its first record', async () => {
    const place = await kind.place();
    const trail = trailAt(place);
    for (let i = 0; i < 3; i += 1) await trail.record({ actor: 'operator:ada', action: 'codec.decode', refs: [ref()] });
    // The forger edits record 1 and recomputes every MAC after it as a plain SHA-256 chain.
    const records = await trail.query({});
    let prev = records[0].mac;
    for (const record of records.slice(1)) {
      const unsigned: Omit<AuditRecord, 'mac'> & { mac?: string } = { ...record, actor: record.seq === 1 ? 'operator:mallory' : record.actor, prev };
      delete unsigned.mac;
      const mac = createHash('sha256').update(JSON.stringify(unsigned)).digest('hex');
      await kind.tamper(place, record.seq, () => ({ ...unsigned, mac }));
      prev = mac;
    }
    expect(await trail.verify()).toMatchObject({ intact: false, broken: { seq: 1 } });
    // And with an HMAC under a key of the forger's own: still the first record.
    const forgedKey = randomBytes(32);
    prev = records[0].mac;
    for (const record of records.slice(1)) {
      const unsigned: Omit<AuditRecord, 'mac'> & { mac?: string } = { ...record, prev };
      delete unsigned.mac;
      const mac = recordMac(forgedKey, unsigned);
      await kind.tamper(place, record.seq, () => ({ ...unsigned, mac }));
      prev = mac;
    }
    expect(await trail.verify()).toMatchObject({ intact: false, broken: { seq: 1 } });
    expect(await trailAt(place, undefined, randomBytes(32)).verify()).toMatchObject({ intact: false, broken: { seq: 0 } });
  });

  test('an intent with no outcome is incomplete, not broken', async () => {
    const place = await kind.place();
    const trail = trailAt(place);
    await trail.record({ actor: 'system:test', action: 'codec.encode' });
    // What a crash between intent and outcome leaves: an intent written by a process that then went away.
    const store = kind.open(place);
    opened.push(store);
    const [intent] = await store.append((head) => [chainRecord(key, head, { actor: 'operator:ada', action: 'key.shred', refs: [ref()], phase: 'intent' }, new Date())]);
    const intentSeq = intent.seq;
    await trail.audited({ actor: 'operator:ada', action: 'codec.decode', refs: [ref()] }, async () => undefined);
    expect(await trail.verify()).toMatchObject({ intact: true, incomplete: [intentSeq] });
  });

  test('pruning past the retention leaves a checkpoint that verify starts from; tampering before it is still found', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const place = await kind.place();
    const trail = trailAt(place, () => new Date(clock));
    for (let i = 0; i < 4; i += 1) {
      await trail.record({ actor: 'operator:ada', action: 'codec.decode', refs: [ref()] });
      clock += 200 * DAY;
    }
    const report = await trail.prune('cli:auditor');
    // Now is 800 days on; kept are the records of the last 400 days: #3 (day 400) and #4 (day 600).
    expect(report).toMatchObject({ firstKept: 3, checkpoint: 5, removed: 3 });
    expect((await trail.query({})).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(await trail.verify()).toMatchObject({ intact: true, startsAt: 3, checked: 3 });
    // A run with nothing to remove is still recorded, and is no checkpoint: verify still starts at #3.
    expect(await trail.prune('cli:auditor')).toMatchObject({ removed: 0, checkpoint: null, record: 6 });
    expect((await trail.query({ action: 'audit.prune' })).map((r) => [r.seq, r.actor, r.detail?.removed ?? null])).toEqual([
      [5, 'cli:auditor', null],
      [6, 'cli:auditor', 0],
    ]);
    expect(await trail.verify()).toMatchObject({ intact: true, startsAt: 3, checked: 4 });
    // Removing a kept record beyond the checkpoint's word is found.
    await kind.tamper(place, 3, () => null);
    expect(await trail.verify()).toMatchObject({ intact: false, broken: { seq: 4 } });
  });

  test('an audit outage refuses: the intent is not written and the action never runs', async () => {
    const trail = trailAt(await kind.outage(await kind.place()));
    let ran = false;
    await expect(
      trail.audited({ actor: 'operator:ada', action: 'codec.decode', refs: [ref()] }, async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(ran).toBe(false);
  });
});

test('the PostgreSQL store refuses UPDATE and DELETE of records from the application', async () => {
  const url = await postgresKind.place();
  const trail = new AuditTrail(new PostgresAuditStore(url), key, 400);
  try {
    await trail.record({ actor: 'system:test', action: 'codec.encode' });
    await expect(sql(url, "UPDATE sessionflow_audit SET actor = 'operator:x'")).rejects.toThrow(/append-only/);
    await expect(sql(url, 'DELETE FROM sessionflow_audit')).rejects.toThrow(/append-only/);
    expect(await trail.verify()).toMatchObject({ intact: true, checked: 2 });
  } finally {
    await trail.close();
  }
});
