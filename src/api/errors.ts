/**
 * The api's two error shapes. Backend routes answer Attestr's `{ code, message, details? }`;
 * device routes answer Finqware's `{ id, type, http, code, message }`. Routes throw these
 * classes; the app's error handler writes them, and hides every other error behind 5001.
 */
import type { FieldError } from './field-errors';

/**
 * The codes of Attestr's that this api answers, with their HTTP status and message: exactly
 * those (docs/reference/errors.md and /openapi.json list the same; Attestr's other
 * codes, such as 4005 or 4292, are the vendor's and never come from here).
 */
export const BACKEND_CODES = {
  4001: { status: 400, message: 'Malformed data or missing required parameter values' },
  4002: { status: 400, message: 'Flow ID does not exist' },
  40034: { status: 400, message: 'Requested flow is inactive' },
  4016: { status: 401, message: 'Invalid client authorization' },
  4031: { status: 403, message: 'Unauthorized access' },
  4291: { status: 429, message: 'Maximum account rate limit exceeded' },
  4293: { status: 429, message: 'Maximum account daily limit exceeded' },
  5001: { status: 500, message: 'Request could not be processed' },
  5031: { status: 503, message: 'Session data keys are unavailable; try again shortly' },
  5032: { status: 503, message: 'Session is busy recovering; try again shortly' },
  5033: { status: 503, message: 'The audit trail is unavailable; nothing was read or changed; try again shortly' },
} as const;
export type BackendCode = keyof typeof BACKEND_CODES;

/** A wait in milliseconds as a `Retry-After` in whole seconds: rounded up, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
export const BACKEND_ERROR_CODES = Object.keys(BACKEND_CODES).map(Number) as BackendCode[];

export class BackendError extends Error {
  override readonly name = 'BackendError';
  readonly status: number;
  readonly retryAfterSeconds?: number;
  constructor(
    readonly code: BackendCode,
    readonly details?: string,
    options: { status?: number; retryAfterSeconds?: number } = {},
  ) {
    super(BACKEND_CODES[code].message);
    this.status = options.status ?? BACKEND_CODES[code].status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  body() {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export const DEVICE_ERROR_TYPES = ['invalid_request', 'authentication_error', 'conflict', 'not_found', 'rate_limit_error', 'api_error'] as const;
export type DeviceErrorType = (typeof DEVICE_ERROR_TYPES)[number];

/** Every `code` a device route answers: docs/reference/errors.md and /openapi.json list exactly these. */
export const DEVICE_ERROR_CODES = [
  'invalid_request',
  'invalid_nonce',
  'invalid_step',
  'invalid_skill',
  'inactive_skill',
  'invalid_data',
  'invalid_client_id',
  'invalid_client',
  'invalid_client_credential',
  'session_not_found',
  'route_not_found',
  'method_not_allowed',
  'session_not_launched',
  'session_already_launched',
  'session_completed',
  'session_expired',
  'session_archived',
  'step_in_progress',
  'session_open_elsewhere',
  'handoff_not_valid',
  'handoff_used',
  'handoff_expired',
  'handshake_completed',
  'handshake_not_found',
  'redirect_url_not_allowed',
  'rate_limit_exceeded',
  'daily_limit_exceeded',
  'internal_error',
  'key_store_unavailable',
  'session_recovering',
] as const;
export type DeviceErrorCode = (typeof DEVICE_ERROR_CODES)[number];

export class DeviceError extends Error {
  override readonly name = 'DeviceError';
  constructor(
    readonly http: number,
    readonly type: DeviceErrorType,
    readonly code: DeviceErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
    /** The field the error is about, as a JSON Pointer into the submitted data (invalid_data): the first of `errors`. */
    readonly param?: string,
    /** invalid_data from the stage's schema: every field refused, each in plain language. */
    readonly errors?: FieldError[],
  ) {
    super(message);
  }

  body(requestId: string) {
    return {
      id: requestId,
      type: this.type,
      http: this.http,
      code: this.code,
      message: this.message,
      ...(this.param !== undefined ? { param: this.param } : {}),
      ...(this.errors !== undefined ? { errors: this.errors } : {}),
    };
  }
}
