/**
 * Schemas both route families share. Plain JSON Schema, reused by routes and /openapi.json; the
 * request and answer types routes use are derived from them (FromSchema), and their enums come
 * from the constants the code uses, so neither can drift from the other.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { OUTCOMES, STAGE_KINDS } from '../../flows/core/types';
import { PROBLEM_CODES } from '../../flows/core/schema';
import { DEVICE_STATUSES, SESSION_STATUSES } from '../../contract/session';
import { BACKEND_ERROR_CODES, DEVICE_ERROR_CODES, DEVICE_ERROR_TYPES } from '../errors';

export type { FromSchema };

export const backendError = {
  $id: 'BackendError',
  type: 'object',
  description: "Attestr's error shape.",
  properties: {
    code: { type: 'integer', enum: BACKEND_ERROR_CODES, description: 'Stable error code (docs/reference/errors.md): 5031 (session data keys unavailable), 5032 (Temporal recovering the session) and 5033 (audit trail unavailable) are retried after Retry-After.' },
    message: { type: 'string' },
    details: { type: 'string' },
  },
  required: ['code', 'message'],
  additionalProperties: false,
} as const;

export const deviceError = {
  $id: 'DeviceError',
  type: 'object',
  description: "Finqware's error shape; `id` is the request id.",
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: DEVICE_ERROR_TYPES },
    http: { type: 'integer' },
    code: { type: 'string', enum: DEVICE_ERROR_CODES },
    message: { type: 'string' },
    param: { type: 'string', description: 'invalid_data: the first field refused, as a JSON Pointer into `data` (e.g. /birthDate).' },
    errors: {
      type: 'array',
      description: "invalid_data from the stage's schema: every field refused at once, in plain language; the first is `param`, and `message` joins them all.",
      items: {
        type: 'object',
        properties: {
          param: { type: 'string', description: 'The value refused, as a JSON Pointer into `data`.' },
          rule: { type: 'string', enum: PROBLEM_CODES, description: "The rule refused: the stage schema's keyword, or additionalProperties for a field it does not ask for." },
          message: { type: 'string', description: "What to do, in plain language: the flow's own message for this property and rule (meta.fields), or the default." },
          params: {
            type: 'object',
            description: 'What the rule asks for: its limit (minLength, minAge...), type or format.',
            properties: { limit: { type: 'number' }, type: { type: 'string' }, format: { type: 'string' } },
            additionalProperties: false,
          },
        },
        required: ['param', 'rule', 'message'],
        additionalProperties: false,
      },
    },
  },
  required: ['id', 'type', 'http', 'code', 'message'],
  additionalProperties: false,
} as const;

/**
 * Routes that take a device credential when there is one (a session launched with one belongs
 * to it): anonymous, the bearer token, or a cookie (`__client`, or the hosted page's device key
 * for one session, see src/api/device-auth.ts).
 */
export const deviceCredentialOptional: Array<Record<string, string[]>> = [{}, { deviceBearer: [] }, { deviceCookie: [] }];

/**
 * Text in a request body: no control characters but tab, line feed and carriage return. Every
 * string of every body is checked for them anyway (request-guards.ts, 400); the pattern says so
 * in /openapi.json.
 */
export const PLAIN_TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$';

/** A free-form JSON object (stage input and output, step data). */
export const anyObject = { type: 'object', additionalProperties: true } as const;

export const stepPrompt = {
  type: 'object',
  description: 'What the device is asked for next: the stage, its kind and input schema, and data prepared for it (an Attestr handshakeId). `step` is null once the session takes no more steps; `outcome` is set once the flow ended.',
  properties: {
    step: { type: ['string', 'null'] },
    kind: { type: 'string', enum: STAGE_KINDS },
    title: { type: 'string' },
    description: { type: 'string', description: "The stage's help text." },
    schema: anyObject,
    fields: { ...anyObject, description: "Per property of `schema`, the flow's UI hints and messages (meta.fields): `input` (text, email, tel, date), `autocomplete` (an HTML autofill token), `messages` (rule: text)." },
    outcome: { type: 'string', enum: OUTCOMES },
    back: { const: true, description: 'The stage takes BACK: a step with `"event": "BACK"` goes back to the input stage before it.' },
    fieldErrors: {
      type: 'array',
      description: "The provider refused what this form sent last (the flow routed its code back here): each refused field as invalid_data's `errors` word them, with `rule` `provider`, the provider's `code` and the flow's `message`.",
      items: {
        type: 'object',
        properties: { param: { type: 'string' }, rule: { const: 'provider' }, code: { type: 'string' }, message: { type: 'string' } },
        required: ['param', 'rule', 'code', 'message'],
        additionalProperties: false,
      },
    },
  },
  required: ['step'],
  additionalProperties: true,
} as const;

export const deviceStatus = { type: 'string', enum: DEVICE_STATUSES } as const;

export const sessionStatus = { type: 'string', enum: SESSION_STATUSES } as const;

/** A session's outcome; null until its flow ended. */
export const nullableOutcome = { type: ['string', 'null'], enum: [...OUTCOMES, null] } as const;

/** The error answers of a route family, by status: each in that family's error shape. */
export function errorAnswers<S, C extends number>(schema: S, statuses: readonly C[]): Record<C, S> {
  return Object.fromEntries(statuses.map((status) => [status, schema])) as Record<C, S>;
}
