/** Provider webhooks in: Attestr's handshake completion. */
import type { FromSchema } from './common';

export const attestrCompletion = {
  type: 'object',
  properties: {
    event: { type: 'string' },
    _id: { type: 'string', minLength: 1, maxLength: 64 },
    tag: { type: 'string', minLength: 1, maxLength: 256 },
    requestId: { type: 'string' },
    consumed: { type: 'boolean' },
    result: { type: 'object' },
    resultSignature: { type: 'string' },
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
