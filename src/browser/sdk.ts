/**
 * The sessionflow browser SDK: runs a session a tenant's backend created, from the browser,
 * through the public device API. The hosted page is built on it; a tenant's own page can use
 * it the same way (see docs/guides/hosted-page.md). Every failure is a SessionflowError with the api's code.
 *
 *   const session = await FlowSession.launch(sessionId);   // binds the session to this browser
 *   session.stage;                                          // what to show now
 *   await session.submit({ accepted: true });               // the next stage
 *   await session.waitForChange();                          // long-poll while a wait stage waits
 *   await session.handoff();                                // a one-time link for another device
 */

export type DeviceStatus = 'SESSION_CREATED' | 'SESSION_IN_PROGRESS' | 'SESSION_COMPLETED' | 'SESSION_EXPIRED' | 'SESSION_ARCHIVED';
export type Outcome = 'success' | 'error' | 'skipped';

/** The subset of JSON Schema stage inputs use. */
export interface FieldSchema {
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'null';
  title?: string;
  description?: string;
  properties?: Record<string, FieldSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  /** A choice whose options have labels. */
  oneOf?: Array<{ const: unknown; title: string }>;
  /** `date` (sent as DD-MM-YYYY) or `email`. */
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

/** How the flow wants a property asked for (the stage's `fields`): input kind, autofill token, its own messages. */
export interface FieldHints {
  input?: 'text' | 'email' | 'tel' | 'date';
  autocomplete?: string;
  messages?: Record<string, string>;
}

/** One field refused by the api (invalid_data's `errors`), with its message in plain language. */
export interface FieldError {
  /** The value refused, as a JSON Pointer into the submitted data. */
  param: string;
  rule: string;
  message: string;
  params?: { limit?: number; type?: string; format?: string };
}

/** What the session asks for now. */
export interface Stage {
  status: DeviceStatus;
  /** The stage id; null once the session takes no more steps. */
  step: string | null;
  kind?: 'input' | 'provider' | 'wait';
  title?: string;
  description?: string;
  schema?: FieldSchema;
  fields?: Record<string, FieldHints>;
  /** Set once the flow ended. */
  outcome?: Outcome;
  /** An Attestr stage's handshake, to be completed on this device. */
  handshakeId?: string;
  /** A provider error the user may try again after; `text` is the flow's words for it, in the answer's language. */
  error?: { type: string; code?: string; message?: string; text?: string };
  /** The stage takes BACK (see FlowSession.back). */
  back?: boolean;
  /** The provider refused what this form sent last: each field it marks, with the flow's words (`rule` is `provider`). */
  fieldErrors?: FieldError[];
}

/** An answer of the api other than success, with its stable code (see docs/reference/errors.md). */
export class SessionflowError extends Error {
  override readonly name: string = 'SessionflowError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** invalid_data: the first field refused, as a JSON Pointer into the submitted data. */
    readonly param?: string,
    /** invalid_data: every field refused, each with its message. */
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** The session was launched by another browser or device; it continues only there. */
export class SessionOpenElsewhereError extends SessionflowError {
  override readonly name = 'SessionOpenElsewhereError';
}

/** The submitted data does not match the stage's schema; `errors` names every field refused. */
export class InvalidDataError extends SessionflowError {
  override readonly name = 'InvalidDataError';
}

/** A step is still running (another tab, or a provider call); wait for a change and reload the stage. */
export class StepInProgressError extends SessionflowError {
  override readonly name = 'StepInProgressError';
}

/** No session with this id is visible to this browser. */
export class SessionNotFoundError extends SessionflowError {
  override readonly name = 'SessionNotFoundError';
}

const ERRORS: Record<string, typeof SessionflowError> = {
  session_open_elsewhere: SessionOpenElsewhereError,
  invalid_data: InvalidDataError,
  step_in_progress: StepInProgressError,
  session_not_found: SessionNotFoundError,
};

interface Answer {
  session_id?: string;
  client_id?: string;
  skill?: string;
  nonce?: string | null;
  status: DeviceStatus;
  step?: string | null;
  outcome?: Outcome | null;
  changed?: boolean;
  data?: Record<string, unknown> & { step: string | null };
  return_url?: string | null;
  moved?: boolean;
  url?: string;
  qr_svg?: string;
  expires_at?: number;
}

export interface Progress {
  status: DeviceStatus;
  step: string | null;
  outcome: Outcome | null;
  changed: boolean;
  /** This browser handed the session on to another device: it follows the status only (step and outcome null). */
  moved: boolean;
}

/** A one-time link that moves the session to another device, with its QR code (SVG markup the api drew). */
export interface Handoff {
  url: string;
  qrSvg: string;
  /** Unix ms. */
  expiresAt: number;
}

export interface SdkOptions {
  /** Where the api is on the page's own origin (e.g. `/sessionflow` behind a proxy); the origin's root by default. Requests are same-origin only. */
  baseUrl?: string;
  /** The language the api answers in (stage texts, error messages), as an Accept-Language; the browser's own by default. */
  language?: string;
}

async function call(url: string, init: RequestInit, language?: string): Promise<Answer> {
  let response: Response;
  try {
    // Same origin only: the browser's credential is an HttpOnly cookie the api set.
    response = await fetch(url, { ...init, credentials: 'same-origin', headers: { accept: 'application/json', ...(language ? { 'accept-language': language } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  } catch {
    throw new SessionflowError(0, 'network_error', 'the api could not be reached');
  }
  const body = (await response.json().catch(() => null)) as (Answer & { code?: string; message?: string; param?: string; errors?: FieldError[] }) | null;
  if (!response.ok || body === null) {
    const code = body?.code ?? 'api_error';
    const Kind = ERRORS[code] ?? SessionflowError;
    throw new Kind(response.status, code, body?.message ?? `the api answered ${response.status}`, body?.param, body?.errors ?? []);
  }
  return body;
}

function stageOf(answer: Answer): Stage {
  const data = answer.data ?? { step: null };
  const stage: Stage = { status: answer.status, step: data.step };
  for (const key of ['kind', 'title', 'description', 'schema', 'fields', 'outcome', 'handshakeId', 'error', 'back', 'fieldErrors'] as const) {
    if (data[key] !== undefined) (stage as unknown as Record<string, unknown>)[key] = data[key];
  }
  if (stage.outcome === undefined && answer.outcome) stage.outcome = answer.outcome;
  return stage;
}

export class FlowSession {
  private constructor(
    private readonly base: string,
    readonly sessionId: string,
    /** The tenant client and the flow: every step names them. */
    readonly clientId: string,
    readonly flowId: string,
    /** Where the tenant wants the user back once the flow ended, if it said. */
    readonly returnUrl: string | null,
    private nonce: string | null,
    private current: Stage,
    private readonly language?: string,
  ) {}

  /**
   * Launches the session in this browser (the first time), or resumes it (the same browser
   * again): either way the answer is the current stage and the nonce for it.
   */
  static async launch(sessionId: string, options: SdkOptions = {}): Promise<FlowSession> {
    const base = (options.baseUrl ?? '').replace(/\/+$/, '');
    const answer = await call(`${base}/v1/sessions/${encodeURIComponent(sessionId)}/open`, { method: 'POST', body: '{}' }, options.language);
    return new FlowSession(base, sessionId, answer.client_id ?? '', answer.skill ?? '', answer.return_url ?? null, answer.nonce ?? null, stageOf(answer), options.language);
  }

  /** The stage to show now. */
  get stage(): Stage {
    return this.current;
  }

  get ended(): boolean {
    return this.current.step === null;
  }

  /** Submits the current stage's data; answers the next stage (or this one again, with a retryable error). */
  submit(data: Record<string, unknown>): Promise<Stage> {
    return this.step(data);
  }

  /** Goes back to the input stage before this one, when the stage says it may (`stage.back`); a step like any other. */
  back(): Promise<Stage> {
    return this.step({}, 'BACK');
  }

  private async step(data: Record<string, unknown>, event?: 'BACK'): Promise<Stage> {
    if (this.nonce === null || this.current.step === null) throw new SessionflowError(409, 'no_step', 'the session takes no step now');
    const answer = await call(`${this.base}/v1/sessions/${encodeURIComponent(this.sessionId)}/steps`, {
      method: 'POST',
      body: JSON.stringify({ client_id: this.clientId, skill: this.flowId, nonce: this.nonce, step: this.current.step, data, ...(event ? { event } : {}) }),
    }, this.language);
    this.nonce = answer.nonce ?? null;
    this.current = stageOf(answer);
    return this.current;
  }

  /** Waits (long-poll, up to `seconds`, at most 25) until the session's status or stage changes. */
  waitForChange(seconds = 25): Promise<Progress> {
    return FlowSession.waitForChange(this.sessionId, seconds, { baseUrl: this.base });
  }

  /** The same, for a session this browser launched but holds no FlowSession of (a StepInProgressError on launch). */
  static async waitForChange(sessionId: string, seconds = 25, options: SdkOptions = {}): Promise<Progress> {
    const base = (options.baseUrl ?? '').replace(/\/+$/, '');
    const wait = Math.max(0, Math.min(25, Math.floor(seconds)));
    const answer = await call(`${base}/v1/sessions/${encodeURIComponent(sessionId)}?wait=${wait}`, { method: 'GET' });
    return { status: answer.status, step: answer.step ?? null, outcome: answer.outcome ?? null, changed: Boolean(answer.changed), moved: Boolean(answer.moved) };
  }

  /**
   * A one-time link (and its QR code) that moves this session to another device. This browser
   * keeps the session until the link is claimed, then only follows it (waitForChange's `moved`).
   */
  async handoff(): Promise<Handoff> {
    const answer = await call(`${this.base}/v1/sessions/${encodeURIComponent(this.sessionId)}/handoff`, { method: 'POST', body: '{}' }, this.language);
    return { url: answer.url ?? '', qrSvg: answer.qr_svg ?? '', expiresAt: answer.expires_at ?? 0 };
  }

  /**
   * Takes the session over in this browser with a handoff or re-issued link's token (from the
   * link's fragment), then picks it up. Refusals: `handoff_used`, `handoff_expired`,
   * `handoff_not_valid`, or the session's status (`session_completed`...).
   */
  static async claim(sessionId: string, token: string, options: SdkOptions = {}): Promise<FlowSession> {
    const base = (options.baseUrl ?? '').replace(/\/+$/, '');
    await call(`${base}/v1/sessions/${encodeURIComponent(sessionId)}/claim`, { method: 'POST', body: JSON.stringify({ token }) }, options.language);
    return FlowSession.launch(sessionId, options);
  }

  /** Reads the current stage again (after a change, or a StepInProgressError), with its nonce. */
  async reload(): Promise<Stage> {
    const again = await FlowSession.launch(this.sessionId, { baseUrl: this.base, language: this.language });
    this.nonce = again.nonce;
    this.current = again.current;
    return this.current;
  }

  /**
   * Sandbox only: plays the user's part of Attestr's own flow for the current handshake, as
   * Attestr's app would on a real device. The api refuses it unless Attestr is its sandbox.
   */
  async completeSandboxHandshake(): Promise<void> {
    if (!this.current.handshakeId) throw new SessionflowError(409, 'no_handshake', 'the current stage has no Attestr handshake');
    await call(`${this.base}/v1/sessions/${encodeURIComponent(this.sessionId)}/attestr-sandbox`, {
      method: 'POST',
      body: JSON.stringify({ handshake_id: this.current.handshakeId }),
    });
  }
}
