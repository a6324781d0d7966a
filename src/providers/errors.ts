/**
 * Provider failures, classified once for Temporal's retry layer (the only retry layer): the
 * class decides whether the activity is retried and when, and travels to the workflow as an
 * ApplicationFailure whose details say which provider, status, code and request id.
 */
import { ApplicationFailure } from '@temporalio/common';

export type ProviderFailureType =
  | 'ProviderRateLimited'
  | 'ProviderQuotaExhausted'
  | 'ProviderUnavailable'
  | 'ProviderRejected'
  | 'ProviderSignatureInvalid'
  | 'ProviderResultPending';

export interface ProviderFailureDetails {
  provider: string;
  status?: number;
  code?: string;
  requestId?: string;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly type: ProviderFailureType,
    message: string,
    readonly details: ProviderFailureDetails,
    /** When the provider said to come back (Retry-After), in ms from now. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /**
   * The failure Temporal's retry policy reads. A daily quota is waited out durably (the next
   * attempt is scheduled when it resets: the provider's Retry-After, else the next UTC
   * midnight), unless that is further away than `quotaWaitCapMs`: then the stage fails now.
   */
  toFailure(options: { quotaWaitCapMs: number; now?: number }): ApplicationFailure {
    let retryable = this.type !== 'ProviderRejected' && this.type !== 'ProviderSignatureInvalid';
    let delay = this.retryAfterMs;
    let message = this.message;
    if (this.type === 'ProviderQuotaExhausted') {
      const now = options.now ?? Date.now();
      delay ??= msUntilNextUtcMidnight(now);
      if (delay > options.quotaWaitCapMs) {
        retryable = false;
        message = `${this.message}; it resets in ${Math.ceil(delay / 1000)} s, beyond the wait cap of ${Math.ceil(options.quotaWaitCapMs / 1000)} s`;
      }
    }
    return ApplicationFailure.create({
      type: this.type,
      message,
      nonRetryable: !retryable,
      details: [this.details],
      ...(retryable && delay !== undefined ? { nextRetryDelay: delay } : {}),
    });
  }
}

export function msUntilNextUtcMidnight(now: number): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return next.getTime() - now;
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  // A date already past means "now": the smallest delay Temporal schedules, not zero (which it reads as unset).
  return Number.isNaN(at) ? undefined : Math.max(1, at - now);
}

/** Classifies a provider's non-2xx answer. */
export function classifyAnswer(
  provider: string,
  status: number,
  code: string | undefined,
  retryAfter: string | string[] | undefined,
  requestId?: string,
): ProviderError {
  const details: ProviderFailureDetails = { provider, status, ...(code ? { code } : {}), ...(requestId ? { requestId } : {}) };
  const retryAfterMs = parseRetryAfter(retryAfter);
  const what = `${provider} answered ${status}${code ? ` (${code})` : ''}`;
  if (status === 429 && (code === '4293' || code === '4294')) {
    return new ProviderError('ProviderQuotaExhausted', `${what}: daily limit reached`, details, retryAfterMs);
  }
  if (status === 429) return new ProviderError('ProviderRateLimited', `${what}: rate limited`, details, retryAfterMs);
  // 4xx other than 429 and 408 (bad request, credentials, access, credits), and redirects we
  // do not follow: retrying cannot fix them.
  if (status >= 500 || status === 408) {
    return new ProviderError('ProviderUnavailable', `${what}: unavailable`, details, retryAfterMs);
  }
  return new ProviderError('ProviderRejected', `${what}: request rejected`, details);
}
