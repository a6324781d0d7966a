/**
 * Task-queue names the worker polls and workflow code schedules activities on. The session's own
 * queue is configured (TEMPORAL_TASK_QUEUE, default `sessionflow`); these derive from it.
 */

/** Providers whose calls run on an activity task queue of their own, rate-limited by the server. */
export const RATE_LIMITED_PROVIDERS = ['attestr', 'finqware'] as const;
export type RateLimitedProvider = (typeof RATE_LIMITED_PROVIDERS)[number];

/**
 * The activity task queue of a provider's calls, next to the session's own task queue (the
 * default `sessionflow` gives `sessionflow-attestr`; deploy/temporal-dynamic-config.yaml gives
 * those one partition). Workers poll it with that provider's rate (src/worker/session-worker.ts).
 */
export function providerTaskQueue(taskQueue: string, provider: RateLimitedProvider): string {
  return `${taskQueue}-${provider}`;
}
