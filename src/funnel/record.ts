/**
 * What the funnel store keeps of a session: its end (src/contract/funnel.ts) and a key, the
 * SHA-256 of its workflow id, so each session is kept once (a retried write finds its key) and
 * the store holds no id that finds the session anywhere else.
 */
import { STAGE_KINDS, OUTCOMES } from '../flows/core/types';
import { sha256Hex } from '../util/hash';
import { isObject } from '../util/json';
import type { SessionEnd } from '../contract/funnel';
import { STAGE_ENDINGS } from './report';

export interface FunnelRecord extends SessionEnd {
  /** SHA-256 (hex) of the session's workflow id. */
  key: string;
}

/** A record the store refuses: never written. Its message names the field, never a value. */
export class FunnelRecordInvalid extends Error {
  override readonly name = 'FunnelRecordInvalid';
}

/** The store's answer when it cannot be read or written; pg's and fs's messages stay inside. */
export class FunnelUnavailableError extends Error {
  override readonly name = 'FunnelUnavailableError';
}

export function funnelKey(workflowId: string): string {
  return sha256Hex(workflowId);
}

/** An id as flows and clients are named: any text of 1 to 200 characters without control characters. */
const isId = (value: unknown) => typeof value === 'string' && value.length >= 1 && value.length <= 200 && !/\p{Cc}/u.test(value);

function check(ok: boolean, field: string): void {
  if (!ok) throw new FunnelRecordInvalid(`the session end's ${field} is not valid`);
}

const isTime = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

/** The record, checked field by field (ids as text without control characters, times as Unix ms); throws FunnelRecordInvalid. */
export function checkRecord(raw: unknown): FunnelRecord {
  check(isObject(raw), 'shape');
  const r = raw as Record<string, unknown>;
  check(typeof r.key === 'string' && /^[0-9a-f]{64}$/.test(r.key), 'key');
  for (const field of ['clientId', 'flowId', 'flowVersion'] as const) check(isId(r[field]), field);
  check(Array.isArray(r.stages) && r.stages.every((s) => isObject(s) && isId(s.id) && (STAGE_KINDS as readonly unknown[]).includes(s.kind)), 'stages');
  const visits = r.visits;
  check(Array.isArray(visits) && visits.length > 0, 'visits');
  check((visits as unknown[]).every((v) => isObject(v) && isId(v.stage) && (v.ms === null || isTime(v.ms))), 'visits');
  check(r.journey === 'full' || r.journey === 'last', 'journey');
  check((STAGE_ENDINGS as readonly unknown[]).includes(r.ending), 'ending');
  check(r.outcome === null || (OUTCOMES as readonly unknown[]).includes(r.outcome), 'outcome');
  check(isTime(r.createdAt) && isTime(r.endedAt), 'times');
  return raw as FunnelRecord;
}

/** The last stage: where the session ended. */
export function lastStage(record: SessionEnd): string {
  return record.visits[record.visits.length - 1].stage;
}
