/** Schemas both route families share. Plain JSON Schema, reused by routes and /openapi.json. */

export const backendError = {
  $id: 'BackendError',
  type: 'object',
  description: "Attestr's error shape.",
  properties: {
    code: { type: 'integer', description: 'Stable error code: 4001, 4002, 40034, 4016, 4031, 4291-4294, 5001, 5031 (session data keys unavailable; retry later).' },
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
    type: { type: 'string', enum: ['invalid_request', 'authentication_error', 'conflict', 'not_found', 'rate_limit_error', 'api_error'] },
    http: { type: 'integer' },
    code: { type: 'string' },
    message: { type: 'string' },
  },
  required: ['id', 'type', 'http', 'code', 'message'],
  additionalProperties: false,
} as const;

/** A free-form JSON object (stage input and output, step data). */
export const anyObject = { type: 'object', additionalProperties: true } as const;

export const stepPrompt = {
  type: 'object',
  description: 'What the device is asked for next: the stage, its kind and input schema, and data prepared for it (an Attestr handshakeId). `step` is null once the session takes no more steps; `outcome` is set once the flow ended.',
  properties: {
    step: { type: ['string', 'null'] },
    kind: { type: 'string', enum: ['input', 'provider', 'wait'] },
    title: { type: 'string' },
    schema: anyObject,
    outcome: { type: 'string', enum: ['success', 'error', 'skipped'] },
  },
  required: ['step'],
  additionalProperties: true,
} as const;

export const deviceStatus = {
  type: 'string',
  enum: ['SESSION_CREATED', 'SESSION_IN_PROGRESS', 'SESSION_COMPLETED', 'SESSION_EXPIRED', 'SESSION_ARCHIVED'],
} as const;
