/**
 * The one place that decides which data key encodes a payload. The codec asks it with the
 * serialization context Temporal gives (experimental in SDK 1.24: the target workflow's id, or
 * the scheduling workflow's id for activity payloads).
 *
 * - A session workflow's payloads (its input, updates, signals, queries, activities, results,
 *   failures) use that session's own key, so destroying it shreds them.
 * - Every other workflow (device clients, webhook outboxes, shredders) uses the namespace key:
 *   they hold identifiers only and must stay readable after a session is shredded.
 * - No context (the worker's failure path, for example): the namespace key.
 * - Bare JSON strings use the namespace key in every workflow: memo values (the session number,
 *   the request hash) and the static summary are strings, and personal data never travels as a
 *   bare string (inputs, results and provider outputs are objects). test/encryption.test.ts
 *   checks on a kyc-basic run that no namespace-key payload of a session holds any of its values.
 */
import type { Payload, SerializationContext } from '@temporalio/common';
import { namespaceKeyId, sessionKeyId } from './key-ids';

const QUOTE = 0x22;

function isBareJsonString(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && Buffer.from(encoding).toString() === 'json/plain' && payload.data?.[0] === QUOTE;
}

export interface KeyChoice {
  keyId: string;
  /** Session keys are created with the session; the namespace key by the init step. */
  kind: 'session' | 'namespace';
}

export function payloadKey(payload: Payload, context: SerializationContext | undefined, defaultNamespace: string): KeyChoice {
  const namespace = context?.namespace ?? defaultNamespace;
  const workflowId = context?.workflowId;
  const sessionKey = workflowId ? sessionKeyId(workflowId) : null;
  if (sessionKey && !isBareJsonString(payload)) return { keyId: sessionKey, kind: 'session' };
  return { keyId: namespaceKeyId(namespace), kind: 'namespace' };
}
