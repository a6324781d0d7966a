/**
 * Audit records and their keyed chain (docs/security/operators-and-audit.md). Each record holds
 * who, what, when, from which address, the request id and the keyed session references it
 * concerns, never a session id or personal data; its `mac` is an HMAC-SHA256, under the audit
 * key (kept outside the store), of the record and so of `prev`, the MAC of the record before it.
 * Whoever can write the store but lacks the key cannot change, drop or recompute a record
 * without verifyChain naming the first one that no longer follows.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { canonicalJson, isObject } from '../util/json';

/** Every action recorded; item 1 (sign-in) and item 3 (reviews) append theirs with one call. */
export const AUDIT_ACTIONS = [
  'audit.genesis',
  'audit.prune',
  'audit.read',
  'codec.decode',
  'codec.encode',
  'operator.auth_failed',
  'operator.sign_in',
  'operator.sign_in_failed',
  'operator.config_change',
  'result.read',
  'review.view',
  'review.decision',
  'session.archive',
  'session.reissue',
  'key.shred',
  'keys.rewrap',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** `intent` before an action, `outcome` after it (naming its intent), `event` for what is one moment (a refused credential). */
export type AuditPhase = 'intent' | 'outcome' | 'event';
export type AuditOutcome = 'ok' | 'refused' | 'failed';

/** What a caller says; the trail adds seq, at, prev and mac. */
export interface AuditEntry {
  /** `operator:<name>`, `tenant:<client id>`, `system:<part>`, `cli:<user>` or `anonymous:`. */
  actor: string;
  action: AuditAction;
  /** Session references (`sessionRef`: 32 hex, keyed, not reversible) the action concerns. */
  refs?: string[];
  /** The client address, as the server saw it (proxies only when trusted). */
  address?: string;
  requestId?: string;
  /** Short non-personal facts (a reason code, a count, a KEK id). */
  detail?: Record<string, string | number | boolean>;
}

export interface AuditRecord extends Required<Pick<AuditEntry, 'actor' | 'action' | 'refs'>> {
  seq: number;
  /** ISO 8601, UTC, set under the writers' lock. */
  at: string;
  phase: AuditPhase;
  outcome?: AuditOutcome;
  /** An outcome's intent. */
  intent?: number;
  address?: string;
  requestId?: string;
  detail?: Record<string, string | number | boolean>;
  prev: string;
  mac: string;
}

export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
}

/** Bad input from a caller: nothing was written. */
export class AuditEntryError extends Error {
  override readonly name = 'AuditEntryError';
}

export const ACTOR_PATTERN = /^(operator|tenant|system|cli|anonymous):[A-Za-z0-9_.@-]{0,64}$/;
export const REF_PATTERN = /^[0-9a-f]{32}$/;
const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
// A detail never carries free text: only what fits a code, a name or a number.
const DETAIL_VALUE = /^[A-Za-z0-9_.:@/+=-]{0,100}$/;

/** Throws AuditEntryError for anything that could carry personal data or break a query. */
export function checkEntry(entry: AuditEntry): void {
  const fail = (problem: string): never => {
    throw new AuditEntryError(`audit entry refused: ${problem}`);
  };
  if (!ACTOR_PATTERN.test(entry.actor)) fail('actor must be operator:, tenant:, system:, cli: or anonymous: and a name');
  if (!(AUDIT_ACTIONS as readonly string[]).includes(entry.action)) fail('unknown action');
  if (entry.refs && (entry.refs.length > 10_000 || !entry.refs.every((ref) => REF_PATTERN.test(ref)))) fail('refs must be session references (32 lowercase hex)');
  if (entry.address !== undefined && isIP(entry.address) === 0) fail('address must be an IP address');
  if (entry.requestId !== undefined && !REQUEST_ID.test(entry.requestId)) fail('requestId must be 1 to 100 letters, digits, "_", ".", ":" or "-"');
  for (const [key, value] of Object.entries(entry.detail ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(key)) fail('detail keys must be short identifiers');
    if (typeof value === 'string' && !DETAIL_VALUE.test(value)) fail(`detail ${key} must be a code, not free text`);
    if (typeof value === 'number' && !Number.isFinite(value)) fail(`detail ${key} must be a finite number`);
  }
}

const MAC_CONTEXT = 'sessionflow-audit-v1\u0000';

export function recordMac(key: Buffer, record: Omit<AuditRecord, 'mac'>): string {
  return createHmac('sha256', key).update(MAC_CONTEXT).update(canonicalJson(record)).digest('hex');
}

/** The record that follows `head` (null: the store is empty and this is its genesis). */
export function chainRecord(key: Buffer, head: { seq: number; mac: string } | null, fields: Omit<AuditRecord, 'seq' | 'at' | 'prev' | 'mac'>, now: Date): AuditRecord {
  const unsigned: Omit<AuditRecord, 'mac'> = { ...fields, seq: head ? head.seq + 1 : 0, at: now.toISOString(), prev: head ? head.mac : '' };
  // Leave absent fields out, so the MAC covers exactly what is stored.
  for (const name of Object.keys(unsigned) as Array<keyof typeof unsigned>) if (unsigned[name] === undefined) delete unsigned[name];
  return { ...unsigned, mac: recordMac(key, unsigned) };
}

export const genesisFields = (): Omit<AuditRecord, 'seq' | 'at' | 'prev' | 'mac'> => ({ actor: 'system:audit', action: 'audit.genesis', refs: [], phase: 'event', outcome: 'ok' });

export interface VerifyReport {
  /** No record was changed, dropped or forged. */
  intact: boolean;
  checked: number;
  /** The seq verification started from: 0 (genesis) or the first kept after a prune's checkpoint. */
  startsAt: number | null;
  head: { seq: number; at: string } | null;
  /** The first record that does not verify, and why. */
  broken?: { seq: number | null; after: number | null; reason: string };
  /** Intents with no outcome: the action may or may not have happened (not a break). */
  incomplete: number[];
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function wellFormed(raw: unknown): raw is AuditRecord {
  return isObject(raw) && Number.isSafeInteger(raw.seq) && typeof raw.mac === 'string' && typeof raw.prev === 'string' && typeof raw.at === 'string' && Array.isArray(raw.refs);
}

/** Checks `records` (in store order) against `key`: the first record that breaks the chain, and incomplete intents. */
export function verifyChain(key: Buffer, records: readonly unknown[]): VerifyReport {
  const report: VerifyReport = { intact: true, checked: 0, startsAt: null, head: null, incomplete: [] };
  const open = new Set<number>();
  let previous: AuditRecord | null = null;
  let vouched = false;
  const breakAt = (seq: number | null, reason: string): VerifyReport => ({ ...report, intact: false, broken: { seq, after: previous?.seq ?? null, reason }, incomplete: [...open] });
  for (const raw of records) {
    if (!wellFormed(raw)) return breakAt(null, 'a record that cannot be read follows');
    const { mac, ...unsigned } = raw;
    if (!sameHex(recordMac(key, unsigned), mac)) return breakAt(raw.seq, 'its MAC does not match: changed, or written without the audit key');
    if (previous === null) {
      report.startsAt = raw.seq;
      if (raw.seq === 0 && (raw.action !== 'audit.genesis' || raw.prev !== '')) return breakAt(raw.seq, 'the first record is not the genesis');
    } else if (raw.seq !== previous.seq + 1) {
      return breakAt(raw.seq, `records #${previous.seq + 1} to #${raw.seq - 1} are missing`);
    } else if (!sameHex(raw.prev, previous.mac)) {
      return breakAt(raw.seq, `it does not follow #${previous.seq}`);
    }
    if (raw.phase === 'intent') open.add(raw.seq);
    if (raw.phase === 'outcome' && raw.intent !== undefined) open.delete(raw.intent);
    // A prune's checkpoint vouches for where the kept records start.
    if (raw.action === 'audit.prune' && raw.detail?.firstKept === report.startsAt && raw.detail?.prevMac === (records[0] as AuditRecord).prev) vouched = true;
    previous = raw;
    report.checked += 1;
  }
  if (report.startsAt !== null && report.startsAt > 0 && !vouched) {
    previous = null;
    return breakAt(report.startsAt, `the trail starts at #${report.startsAt} and no prune checkpoint names it: earlier records were removed`);
  }
  report.head = previous ? { seq: previous.seq, at: previous.at } : null;
  report.incomplete = [...open];
  return report;
}

export interface AuditQuery {
  ref?: string;
  actor?: string;
  action?: AuditAction;
  /** ISO instants, inclusive since, exclusive until. */
  since?: string;
  until?: string;
  limit?: number;
}

export const MAX_QUERY_LIMIT = 10_000;

export function checkQuery(query: AuditQuery): Required<Pick<AuditQuery, 'limit'>> & AuditQuery {
  const fail = (problem: string): never => {
    throw new AuditEntryError(`audit query refused: ${problem}`);
  };
  if (query.ref !== undefined && !REF_PATTERN.test(query.ref)) fail('ref must be a session reference (32 lowercase hex)');
  if (query.actor !== undefined && !ACTOR_PATTERN.test(query.actor)) fail('actor must look like operator:<name> or tenant:<client id>');
  if (query.action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(query.action)) fail(`action must be one of ${AUDIT_ACTIONS.join(', ')}`);
  for (const name of ['since', 'until'] as const) {
    const value = query[name];
    if (value !== undefined && (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value) || Number.isNaN(Date.parse(value)))) fail(`${name} must be an ISO 8601 date or date and time`);
  }
  const limit = query.limit ?? 1000;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) fail(`limit must be a whole number from 1 to ${MAX_QUERY_LIMIT}`);
  return { ...query, ...(query.since ? { since: new Date(query.since).toISOString() } : {}), ...(query.until ? { until: new Date(query.until).toISOString() } : {}), limit };
}

/** Whether `record` matches `query` (the file store filters with it; PostgreSQL in SQL). */
export function matches(record: AuditRecord, query: AuditQuery): boolean {
  return (
    (query.ref === undefined || record.refs.includes(query.ref)) &&
    (query.actor === undefined || record.actor === query.actor) &&
    (query.action === undefined || record.action === query.action) &&
    (query.since === undefined || record.at >= query.since) &&
    (query.until === undefined || record.at < query.until)
  );
}
