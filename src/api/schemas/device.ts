/** Device API (Finqware Sessions shape): create and launch, launch a handshake, submit steps. */
import { DEVICE_STATUS, STEP_EVENTS } from '../../contract/session';
import { anyObject, deviceStatus, PLAIN_TEXT_PATTERN, stepPrompt, type FromSchema } from './common';

const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, pattern: PLAIN_TEXT_PATTERN }) as const;

export const createSessionBody = {
  type: 'object',
  properties: {
    tenant_user_id: { ...text(128), description: "The tenant's id for the end user; becomes the session tag." },
    client_id: text(64),
    client_app_key: { ...text(256), description: "The client's secret." },
    skill: { ...text(64), description: 'The flow id; the session runs its draft.' },
  },
  required: ['tenant_user_id', 'client_id', 'client_app_key', 'skill'],
  additionalProperties: false,
} as const;

export type CreateSessionBody = FromSchema<typeof createSessionBody>;

export const createSessionResponse = {
  type: 'object',
  properties: {
    nonce: { type: 'string', description: 'Carried by the first step submission.' },
    session_id: { type: 'string' },
    status: { const: DEVICE_STATUS.created },
    step: { type: ['string', 'null'] },
    data: stepPrompt,
  },
  required: ['nonce', 'session_id', 'status', 'step', 'data'],
  additionalProperties: false,
} as const;

export const sessionParams = {
  type: 'object',
  // Any length: an id that is no session's is answered like a missing session (404), not 400.
  properties: { id: { type: 'string', minLength: 1, description: 'The session id.' } },
  required: ['id'],
  additionalProperties: false,
} as const;

export type SessionParams = FromSchema<typeof sessionParams>;

export const launchHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        'A retried launch with the same key answers the first launch again, nonce included, instead of session_already_launched: a device whose answer was lost (a dropped connection, a 503) can go on.',
    },
  },
} as const;

export type LaunchHeaders = FromSchema<typeof launchHeaders>;

export const launchResponse = {
  type: 'object',
  properties: {
    session_id: { type: 'string' },
    nonce: { type: ['string', 'null'] },
    status: deviceStatus,
    step: { type: ['string', 'null'] },
    data: stepPrompt,
  },
  required: ['session_id', 'nonce', 'status', 'step', 'data'],
  additionalProperties: false,
} as const;

export const submitStepBody = {
  type: 'object',
  properties: {
    client_id: text(64),
    nonce: text(128),
    skill: text(64),
    step: text(64),
    data: anyObject,
    event: {
      type: 'string',
      enum: STEP_EVENTS,
      description: 'SUBMIT (the default) submits `data` for `step`; BACK goes back from `step` to the input stage before it, when the flow has that way back (the stage answers `back: true`), with `"data": {}`.',
    },
  },
  required: ['client_id', 'nonce', 'skill', 'step', 'data'],
  additionalProperties: false,
} as const;

export type SubmitStepBody = FromSchema<typeof submitStepBody>;

export const submitStepResponse = {
  type: 'object',
  properties: {
    step_id: { type: 'string' },
    nonce: { type: ['string', 'null'], description: 'Carried by the next submission; null when the session takes no more steps.' },
    status: deviceStatus,
    data: stepPrompt,
  },
  required: ['step_id', 'nonce', 'status', 'data'],
  additionalProperties: false,
} as const;

/** GET /v1/sessions/:id: `?wait=<seconds>` (0 to 25) long-polls for a change. */
export const sessionProgressQuery = {
  type: 'object',
  properties: {
    wait: { type: 'string', pattern: '^([0-9]|1[0-9]|2[0-5])$', description: 'Seconds (0 to 25) to wait for the status or the stage to change; 0 by default.' },
  },
  additionalProperties: false,
} as const;

/** The read's nonce, for a session launched without a device credential. */
export const sessionProgressHeaders = {
  type: 'object',
  properties: {
    'x-session-nonce': { type: 'string', description: "The session's current nonce (sessions launched without a device credential); its hash is compared with the one the session keeps." },
  },
} as const;

export const sessionProgressResponse = {
  type: 'object',
  properties: {
    session_id: { type: 'string' },
    status: deviceStatus,
    step: { type: ['string', 'null'], description: 'The current stage; null once the session ended.' },
    outcome: { type: ['string', 'null'], enum: ['success', 'error', 'skipped', null] },
    changed: { type: 'boolean', description: 'Whether status or step changed (or the session moved to another device) while the request waited.' },
    moved: { type: 'boolean', const: true, description: 'Present when the session moved to another device by a handoff this device offered: it follows the status only (step and outcome null).' },
  },
  required: ['session_id', 'status', 'step', 'outcome', 'changed'],
  additionalProperties: false,
} as const;

/** POST /v1/sessions/:id/open: the browser's launch, or its return to a session it launched. */
export const openSessionResponse = {
  type: 'object',
  properties: {
    session_id: { type: 'string' },
    client_id: { type: 'string', description: 'The tenant client; steps carry it.' },
    skill: { type: 'string', description: 'The flow id; steps carry it.' },
    nonce: { type: ['string', 'null'], description: 'Carried by the next submission; null once the session takes no more steps.' },
    status: deviceStatus,
    step: { type: ['string', 'null'] },
    data: stepPrompt,
    return_url: { type: ['string', 'null'], description: 'Where the hosted page sends the user once the flow ended.' },
  },
  required: ['session_id', 'client_id', 'skill', 'nonce', 'status', 'step', 'data', 'return_url'],
  additionalProperties: false,
} as const;

/** POST /v1/sessions/:id/attestr-sandbox: the sandbox's stand-in for Attestr's own flow on the device. */
export const attestrSandboxBody = {
  type: 'object',
  properties: { handshake_id: text(64) },
  required: ['handshake_id'],
  additionalProperties: false,
} as const;

export type AttestrSandboxBody = FromSchema<typeof attestrSandboxBody>;

export const attestrSandboxResponse = {
  type: 'object',
  properties: { completed: { const: true } },
  required: ['completed'],
  additionalProperties: false,
} as const;
