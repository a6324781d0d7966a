/** Backend API (Attestr FlowX shape): handshakes, i.e. sessions, and flows. */
import { anyObject, nullableOutcome, PLAIN_TEXT_PATTERN, sessionStatus, type FromSchema } from './common';

const flowId = { type: 'string', minLength: 1, maxLength: 64, pattern: PLAIN_TEXT_PATTERN } as const;

export const createHandshakeBody = {
  type: 'object',
  properties: {
    flow: { ...flowId, description: 'Id of the flow to run.' },
    snapshot: {
      type: ['string', 'null'],
      maxLength: 64,
      pattern: PLAIN_TEXT_PATTERN,
      description: "Snapshot id of the flow; null or left out runs the draft. Attestr requires this field: leaving it out is sessionflow's extension.",
    },
    tag: { type: 'string', minLength: 1, maxLength: 128, pattern: PLAIN_TEXT_PATTERN, description: "The caller's own reference for the user or device, e.g. REF-1234." },
    webhook: { type: 'boolean', description: 'Send webhook events for this session.' },
    expiry: { type: 'integer', description: 'Unix time in ms; default 24 hours after creation, at most one year.' },
    returnUrl: {
      type: 'string',
      minLength: 1,
      maxLength: 2048,
      pattern: PLAIN_TEXT_PATTERN,
      description: "Where the hosted page sends the user once the flow ended; must be on the client's redirectUrls (else 4001).",
    },
  },
  required: ['flow', 'tag'],
  additionalProperties: false,
} as const;

export type CreateHandshakeBody = FromSchema<typeof createHandshakeBody>;

export const createHandshakeResponse = {
  type: 'object',
  properties: {
    _id: { type: 'string', description: 'The session (handshake) id.' },
    number: { type: 'string', description: 'Human readable number, e.g. 3897-518104-8640.' },
    digest: { type: 'string', description: 'SHA-256 hex of "<_id>:<number>:<tag>".' },
    url: { type: 'string', description: "The hosted page for this session, for the user's browser: opening it changes nothing, the user's first action launches the session." },
  },
  required: ['_id', 'number', 'digest', 'url'],
  additionalProperties: false,
} as const;

export type CreateHandshakeAnswer = FromSchema<typeof createHandshakeResponse>;

export const handshakeParams = {
  type: 'object',
  // Any length: an id that is no session's is answered like a missing session (4031), not 400.
  properties: { id: { type: 'string', minLength: 1, description: 'The session id.' } },
  required: ['id'],
  additionalProperties: false,
} as const;

export type HandshakeParams = FromSchema<typeof handshakeParams>;

export const handshakeView = {
  type: 'object',
  properties: {
    _id: { type: 'string' },
    number: { type: 'string' },
    tag: { type: 'string' },
    requestId: { type: 'string', description: 'This request, for tracing.' },
    consumed: { type: 'boolean', description: 'True once the session was launched on a device.' },
    archived: { type: ['integer', 'null'], description: 'Unix time in ms of archival, null until archived.' },
    result: {
      // Free-form on purpose: the serializer must write it exactly as the signature was computed.
      type: ['object', 'null'],
      additionalProperties: true,
      description: '{ <stageId>: { input, output } } once the session ended; null before, and after archival.',
    },
    resultSignature: { type: ['string', 'null'], description: 'Hex HMAC-SHA256 of JSON.stringify(result), keyed with the client secret.' },
    status: sessionStatus,
    outcome: nullableOutcome,
    expiry: { type: 'integer', description: 'Unix time in ms when the session expires if unfinished.' },
  },
  required: ['_id', 'number', 'tag', 'requestId', 'consumed', 'archived', 'result', 'resultSignature', 'status', 'outcome', 'expiry'],
  additionalProperties: false,
} as const;

export type HandshakeView = FromSchema<typeof handshakeView>;

const flowVersion = {
  type: 'object',
  properties: {
    id: { type: ['string', 'null'], description: 'Snapshot id; null for the draft.' },
    mermaid: { type: 'string', description: 'The machine as a Mermaid state diagram.' },
    machine: anyObject,
  },
  required: ['id', 'mermaid', 'machine'],
  additionalProperties: false,
} as const;

const flowSummaryProperties = {
  id: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  active: { type: 'boolean' },
  maxSteps: { type: 'integer' },
  snapshots: { type: 'array', items: { type: 'string' }, description: 'Published snapshot ids.' },
} as const;

export const flowList = {
  type: 'object',
  properties: {
    flows: {
      type: 'array',
      items: { type: 'object', properties: flowSummaryProperties, required: ['id', 'name', 'active', 'maxSteps', 'snapshots'], additionalProperties: false },
    },
  },
  required: ['flows'],
  additionalProperties: false,
} as const;

export const flowDetail = {
  type: 'object',
  properties: { ...flowSummaryProperties, draft: flowVersion, versions: { type: 'array', items: flowVersion } },
  required: ['id', 'name', 'active', 'maxSteps', 'snapshots', 'draft', 'versions'],
  additionalProperties: false,
} as const;

export const flowParams = {
  type: 'object',
  properties: { id: flowId },
  required: ['id'],
  additionalProperties: false,
} as const;

export type FlowParams = FromSchema<typeof flowParams>;
