/**
 * The console's visibility queries, built in one place from the contract's search attribute
 * names, every value quoted by the api's own `quote`. Filters come from query strings: each is
 * checked here first, and a bad one is a problem to show, never part of a query.
 */
import { quote } from '../api/session-visibility';
import { SESSION_STATUSES } from '../contract/session';
import {
  ClientIdKey,
  FlowIdKey,
  FlowVersionKey,
  SessionNumberKey,
  SessionOutcomeKey,
  SessionReviewKey,
  SessionStageKey,
  SessionStageSinceKey,
  SessionStatusKey,
  SessionTagKey,
} from '../contract/session-search';
import { OUTCOMES } from '../flows/core/types';

const SESSIONS = `WorkflowType = 'sessionWorkflow'`;
/** A continued-as-new run counts as its successor; a terminated run is no session any more. */
const CURRENT = `ExecutionStatus IN ('Running', 'Completed')`;
const IDENTIFIER = /^[A-Za-z0-9_.:@-]{1,100}$/;

export const AGES: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
/** "Stuck": in one stage longer than this many minutes, unless the page asks for another threshold. */
export const DEFAULT_STUCK_MINUTES = 60;
const MAX_STUCK_MINUTES = 525_600;

export interface SessionFilters {
  tenant?: string;
  flow?: string;
  version?: string;
  stage?: string;
  status?: string;
  outcome?: string;
  age?: string;
  stuck?: boolean;
  thresholdMinutes: number;
}

/** The filters a query string names, and the names of those that are not valid. */
export function readFilters(query: Record<string, string | undefined>): { filters: SessionFilters; problems: Array<keyof SessionFilters> } {
  const problems: Array<keyof SessionFilters> = [];
  const filters: SessionFilters = { thresholdMinutes: DEFAULT_STUCK_MINUTES };
  for (const name of ['tenant', 'flow', 'version', 'stage'] as const) {
    const value = query[name]?.trim();
    if (!value) continue;
    if (IDENTIFIER.test(value)) filters[name] = value;
    else problems.push(name);
  }
  const pick = (name: 'status' | 'outcome' | 'age', allowed: readonly string[]) => {
    const value = query[name];
    if (!value) return;
    if (allowed.includes(value)) filters[name] = value;
    else problems.push(name);
  };
  pick('status', SESSION_STATUSES);
  pick('outcome', OUTCOMES);
  pick('age', Object.keys(AGES));
  filters.stuck = query.stuck === 'on';
  if (query.threshold) {
    const minutes = Number(query.threshold);
    if (Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_STUCK_MINUTES) filters.thresholdMinutes = minutes;
    else problems.push('thresholdMinutes');
  }
  return { filters, problems };
}

const equals = (name: string, value: string) => `${name} = ${quote(value)}`;

export function sessionsQuery(filters: SessionFilters, now: number): string {
  const parts = [SESSIONS, filters.stuck ? `ExecutionStatus = 'Running'` : CURRENT];
  if (filters.tenant) parts.push(equals(ClientIdKey.name, filters.tenant));
  if (filters.flow) parts.push(equals(FlowIdKey.name, filters.flow));
  if (filters.version) parts.push(equals(FlowVersionKey.name, filters.version));
  if (filters.stage) parts.push(equals(SessionStageKey.name, filters.stage));
  if (filters.status) parts.push(equals(SessionStatusKey.name, filters.status));
  if (filters.outcome) parts.push(equals(SessionOutcomeKey.name, filters.outcome));
  if (filters.age) parts.push(`StartTime > ${quote(new Date(now - AGES[filters.age]).toISOString())}`);
  if (filters.stuck) parts.push(`${SessionStageSinceKey.name} < ${quote(new Date(now - filters.thresholdMinutes * 60_000).toISOString())}`);
  return parts.join(' AND ');
}

export const byNumberQuery = (number: string): string => `${SESSIONS} AND ${CURRENT} AND ${equals(SessionNumberKey.name, number)}`;
export const byTagQuery = (tag: string): string => `${SESSIONS} AND ${CURRENT} AND ${equals(SessionTagKey.name, tag)}`;

/** Sessions waiting in review (SessionReview is set only while one waits). */
export const reviewQueueQuery = (): string => `${SESSIONS} AND ExecutionStatus = 'Running' AND ${SessionReviewKey.name} IN ('pending', 'overdue')`;

/** The running sessions of one tenant's flow version, for the funnel's live counts. */
export function liveStagesQuery(tenant: string, flow: string, version: string): string {
  return `${SESSIONS} AND ExecutionStatus = 'Running' AND ${equals(ClientIdKey.name, tenant)} AND ${equals(FlowIdKey.name, flow)} AND ${equals(FlowVersionKey.name, version)}`;
}

export const isIdentifier = (value: string): boolean => IDENTIFIER.test(value);
