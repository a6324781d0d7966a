/** Handoff and re-issue (src/api/routes/handoff.ts): moving a launched session to another device. */
import type { FromSchema } from 'json-schema-to-ts';

export const handoffResponse = {
  type: 'object',
  properties: {
    url: { type: 'string', description: 'The hosted page with the one-time token in its fragment (`#handoff=…`): it works once, until `expires_at`.' },
    qr_svg: { type: 'string', description: 'The same link as a QR code: SVG markup drawn by the api, for the page to insert.' },
    expires_at: { type: 'integer', description: 'Unix ms after which the link is refused as expired.' },
  },
  required: ['url', 'qr_svg', 'expires_at'],
  additionalProperties: false,
} as const;

export const claimBody = {
  type: 'object',
  properties: { token: { type: 'string', minLength: 1, maxLength: 128, description: "The token from the link's fragment." } },
  required: ['token'],
  additionalProperties: false,
} as const;
export type ClaimBody = FromSchema<typeof claimBody>;

export const claimResponse = {
  type: 'object',
  properties: {
    session_id: { type: 'string' },
    claimed: { type: 'boolean', const: true, description: 'The session is bound to this browser now: its key is set as the session cookie; POST /v1/sessions/:id/open picks it up.' },
  },
  required: ['session_id', 'claimed'],
  additionalProperties: false,
} as const;

export const reissueResponse = {
  type: 'object',
  properties: {
    url: { type: 'string', description: 'The hosted page with a one-time token in its fragment: it works once, on any device, until `expiresAt`.' },
    expiresAt: { type: 'integer', description: 'Unix ms after which the link is refused as expired.' },
  },
  required: ['url', 'expiresAt'],
  additionalProperties: false,
} as const;
