/** Device client API (Clerk shape). */
import { sessionStatus, type FromSchema } from './common';

const nativeFlag = { type: 'string', enum: ['true', '1', 'false', '0'], description: 'true: the credential comes back in the Authorization response header instead of a cookie.' } as const;

export const createClientQuery = {
  type: 'object',
  properties: { client_id: { type: 'string', minLength: 1, maxLength: 64, description: 'The client app (tenant) the device belongs to.' }, _is_native: nativeFlag },
  required: ['client_id'],
  additionalProperties: false,
} as const;

export type CreateClientQuery = FromSchema<typeof createClientQuery>;

export const handshakeQuery = {
  type: 'object',
  properties: { redirect_url: { type: 'string', minLength: 1, maxLength: 2048 }, _is_native: nativeFlag },
  required: ['redirect_url'],
  additionalProperties: false,
} as const;

export type HandshakeQuery = FromSchema<typeof handshakeQuery>;

const client = {
  type: 'object',
  properties: {
    object: { const: 'client' },
    id: { type: 'string' },
    sessions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          status: sessionStatus,
          step: { type: ['string', 'null'], description: 'The current stage while in progress.' },
        },
        required: ['id', 'status', 'step'],
        additionalProperties: false,
      },
    },
    created_at: { type: 'integer' },
    refresh_until: { type: 'integer', description: 'Unix ms until which the credential can be refreshed through the handshake.' },
  },
  required: ['object', 'id', 'sessions', 'created_at', 'refresh_until'],
  additionalProperties: false,
} as const;

export const clientEnvelope = {
  type: 'object',
  properties: { response: client, client },
  required: ['response', 'client'],
  additionalProperties: false,
} as const;

/** A redirect: no body; the Location header names redirect_url. */
export const redirect = { type: 'null', description: 'Redirect to redirect_url (Location header), with a fresh credential.' } as const;
