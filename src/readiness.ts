/**
 * Readiness: would a session create succeed now? Temporal must answer, and the namespace must
 * know every search attribute a session sets, with its type. Without them Temporal refuses the
 * start ("Namespace default has no mapping defined for search attribute ..."): a dev server
 * started on a `.data/` from before an attribute was added, or a cluster whose setup job has not
 * run yet, answers everything else and still fails every create.
 */
import type { ConnectionLike } from '@temporalio/client';
import { KeyStoreUnavailableError } from './keys/errors';
import type { KeyStore } from './keys/key-store';
import type { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { GRPC_STATUS } from './temporal';
import {
  ClientIdKey,
  FlowIdKey,
  SessionArchivedAtKey,
  SessionNumberKey,
  SessionOutcomeKey,
  SessionReviewKey,
  SessionStageKey,
  SessionStageSinceKey,
  SessionStatusKey,
  SessionTagKey,
  FlowVersionKey,
} from './contract/session-search';

/** Every search attribute a session sets: the dev server, docker-compose and the tests register these. */
export const SESSION_SEARCH_ATTRIBUTES: readonly ReturnType<typeof defineSearchAttributeKey<SearchAttributeType>>[] = [
  SessionStatusKey,
  SessionTagKey,
  FlowIdKey,
  ClientIdKey,
  SessionOutcomeKey,
  SessionStageKey,
  SessionStageSinceKey,
  SessionNumberKey,
  SessionArchivedAtKey,
  SessionReviewKey,
  FlowVersionKey,
];

/** Temporal's IndexedValueType numbers (temporal.api.enums.v1), as list and add search attributes use them. */
export const INDEXED_VALUE_TYPE: Record<SearchAttributeType, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

export interface Readiness {
  ready: boolean;
  temporal: { reachable: boolean; namespace: string };
  /** Whether the key store is this deployment's, opened by its KEK, with the namespace key (docs/security/key-store.md). */
  keyStore?: { available: boolean };
  /** What keeps it from being ready, in words safe to show an operator (names only). */
  problems: string[];
}

/** Search attributes the namespace lacks or has with another type, as problems. */
export function searchAttributeProblems(registered: Record<string, unknown>): string[] {
  return SESSION_SEARCH_ATTRIBUTES.flatMap(({ name, type }) => {
    if (!Object.hasOwn(registered, name)) return [`search attribute ${name} is not registered`];
    const wanted = INDEXED_VALUE_TYPE[type];
    return registered[name] === wanted ? [] : [`search attribute ${name} is registered with another type than ${type}`];
  });
}

/** Asks Temporal once, within `timeoutMs`. Never throws: an unreachable Temporal is an answer. */
export async function checkReadiness(connection: ConnectionLike, namespace: string, timeoutMs: number): Promise<Readiness> {
  try {
    const answer = await connection.withDeadline(Date.now() + timeoutMs, () => connection.operatorService.listSearchAttributes({ namespace }));
    const problems = searchAttributeProblems({ ...answer.systemAttributes, ...answer.customAttributes });
    return { ready: problems.length === 0, temporal: { reachable: true, namespace }, problems };
  } catch (err) {
    const code = (err as { code?: number }).code;
    // Temporal answered: the namespace does not exist.
    if (code === GRPC_STATUS.NOT_FOUND) return { ready: false, temporal: { reachable: true, namespace }, problems: [`namespace ${namespace} does not exist`] };
    return { ready: false, temporal: { reachable: false, namespace }, problems: ['Temporal does not answer'] };
  }
}

/**
 * Asks the key store once, within `timeoutMs`: it must be initialised, the expected one, opened
 * by the KEK, and hold the namespace key. Never throws; the problem names the reason, never a
 * path or a host.
 */
export async function checkKeyStore(keys: KeyStore, namespace: string, timeoutMs: number): Promise<{ available: boolean; problems: string[] }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KeyStoreUnavailableError('it does not answer')), timeoutMs);
  });
  try {
    await Promise.race([keys.check(namespace), timeout]);
    return { available: true, problems: [] };
  } catch (err) {
    const problem = err instanceof KeyStoreUnavailableError ? err.message : 'key store unavailable';
    return { available: false, problems: [problem] };
  } finally {
    clearTimeout(timer);
  }
}
