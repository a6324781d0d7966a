/**
 * What the api's session operations fail with, and how a session workflow's failures map to
 * them. Routes map these to their HTTP errors.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RefusalType } from '../contract/session';
import type { HandoffRefusal } from '../contract/handoff';
import { KeyDestroyedError } from '../keys/key-store';

export class SessionNotFoundError extends Error {
  override readonly name = 'SessionNotFoundError';
}

export class SessionRefusedError extends Error {
  override readonly name = 'SessionRefusedError';
  constructor(
    readonly type: RefusalType | HandoffRefusal,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

/** The Idempotency-Key was used before for a different request. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
}

/**
 * A session workflow's failure as the api's own error: an unknown workflow or a refused update;
 * anything else as it is. A destroyed key (arguments for a session archived and shredded, so
 * closed) counts as closed: callers then answer from the archived view, as for any closed session.
 */
export function sessionFailure(err: unknown): never {
  if (err instanceof WorkflowNotFoundError || err instanceof KeyDestroyedError) throw new SessionNotFoundError('session not found');
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type?.startsWith('Session')) {
    throw new SessionRefusedError(err.cause.type as RefusalType, err.cause.message, err.cause.details?.[0]);
  }
  throw err;
}
