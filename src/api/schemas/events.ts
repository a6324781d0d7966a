/** Backend events in (POST /v1/events). */
import { EVENT_ACTIONS } from '../../config';
import { PLAIN_TEXT_PATTERN, type FromSchema } from './common';

export const eventBody = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 128, pattern: PLAIN_TEXT_PATTERN, description: "The event's own id: a redelivery with the same id does nothing new." },
    type: { type: 'string', minLength: 1, maxLength: 128, pattern: PLAIN_TEXT_PATTERN },
    tag: { type: 'string', minLength: 1, maxLength: 128, pattern: PLAIN_TEXT_PATTERN },
    data: { type: 'object', additionalProperties: true },
  },
  required: ['id', 'type', 'tag'],
  additionalProperties: false,
} as const;

export const eventAnswer = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    action: { type: 'string', enum: EVENT_ACTIONS },
    sessions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          _id: { type: 'string' },
          number: { type: 'string' },
          created: { type: 'boolean' },
          status: { type: 'string' },
          url: { type: 'string', description: "start: the session's hosted page, as a create answers it." },
        },
        required: ['_id'],
        additionalProperties: false,
      },
    },
  },
  required: ['id', 'action', 'sessions'],
  additionalProperties: false,
} as const;

export type EventBody = FromSchema<typeof eventBody>;

export type EventAnswer = FromSchema<typeof eventAnswer>;
