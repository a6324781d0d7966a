/**
 * The api's two error shapes. Backend routes answer Attestr's `{ code, message, details? }`;
 * device routes answer Finqware's `{ id, type, http, code, message }`. Routes throw these
 * classes; the app's error handler writes them, and hides every other error behind 5001.
 */

/** Attestr's documented codes, with their HTTP status and message. */
export const BACKEND_CODES = {
  4001: { status: 400, message: 'Malformed data or missing required parameter values' },
  4002: { status: 400, message: 'Flow ID does not exist' },
  4005: { status: 400, message: 'Operation could not be performed due to low credits balance' },
  40034: { status: 400, message: 'Requested flow is inactive' },
  4016: { status: 401, message: 'Invalid client authorization' },
  4031: { status: 403, message: 'Unauthorized access' },
  4291: { status: 429, message: 'Maximum account rate limit exceeded' },
  4292: { status: 429, message: 'Maximum API rate limit exceeded' },
  4293: { status: 429, message: 'Maximum account daily limit exceeded' },
  4294: { status: 429, message: 'Maximum API daily limit exceeded' },
  5001: { status: 500, message: 'Request could not be processed' },
  5031: { status: 503, message: 'Session data keys are unavailable; try again shortly' },
  5032: { status: 503, message: 'Session is busy recovering; try again shortly' },
} as const;
export type BackendCode = keyof typeof BACKEND_CODES;

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

export class DeviceError extends Error {
  override readonly name = 'DeviceError';
  constructor(
    readonly http: number,
    readonly type: DeviceErrorType,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
    /** The field the error is about, as a JSON Pointer into the submitted data (invalid_data). */
    readonly param?: string,
  ) {
    super(message);
  }

  body(requestId: string) {
    return { id: requestId, type: this.type, http: this.http, code: this.code, message: this.message, ...(this.param !== undefined ? { param: this.param } : {}) };
  }
}
