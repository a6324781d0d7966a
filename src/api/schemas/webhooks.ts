/** Provider webhooks in: Attestr's handshake completion. */
import { PLAIN_TEXT_PATTERN, type FromSchema } from './common';

export const attestrCompletion = {
  type: 'object',
  properties: {
    event: { type: 'string', pattern: PLAIN_TEXT_PATTERN },
    _id: { type: 'string', minLength: 1, maxLength: 64, pattern: PLAIN_TEXT_PATTERN },
    tag: { type: 'string', minLength: 1, maxLength: 256, pattern: PLAIN_TEXT_PATTERN },
    requestId: { type: 'string', pattern: PLAIN_TEXT_PATTERN },
    consumed: { type: 'boolean' },
    result: { type: 'object' },
    resultSignature: { type: 'string', pattern: PLAIN_TEXT_PATTERN },
  },
  // Vendors add fields over time; what matters is checked below.
  required: ['_id', 'tag', 'result', 'resultSignature'],
  additionalProperties: true,
} as const;

export const received = {
  type: 'object',
  properties: { received: { type: 'boolean' } },
  required: ['received'],
  additionalProperties: false,
} as const;

export type AttestrCompletion = FromSchema<typeof attestrCompletion>;
