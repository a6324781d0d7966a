/**
 * Data key ids: which key a workflow's payloads use. Apart from key-store.ts so the stores can
 * tell a namespace key (made by the init step only) from a session key.
 */
import { createHash } from 'node:crypto';

/** Session workflows started before handshake ids were hashed out of Temporal: `DS` + base62. */
const LEGACY_SESSION_WORKFLOW_ID = /^DS[0-9A-Za-z]{10,40}$/;
/** Session workflows: `session-<first 32 hex of sha256(sessionId)>`. */
const SESSION_WORKFLOW_ID = /^session-([0-9a-f]{32})$/;

const NAMESPACE_KEY_PREFIX = 'namespace-';
/** A session's data key id: this prefix, then its session reference (the audit records the reference). */
export const SESSION_KEY_PREFIX = 'session-';

/**
 * The data key id of a session workflow, or null for any other workflow (device clients,
 * webhook outboxes, shredders ...), whose payloads use the namespace key. The id never holds
 * the raw session id: it sits in plain payload metadata.
 */
export function sessionKeyId(workflowId: string): string | null {
  const modern = SESSION_WORKFLOW_ID.exec(workflowId);
  if (modern) return `session-${modern[1]}`;
  if (LEGACY_SESSION_WORKFLOW_ID.test(workflowId)) return `session-${createHash('sha256').update(workflowId).digest('hex').slice(0, 32)}`;
  return null;
}

/** The key of payloads that hold no personal data, readable after any session is shredded. */
export function namespaceKeyId(namespace: string): string {
  const safe = namespace.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  return `${NAMESPACE_KEY_PREFIX}${safe}`;
}

/** Namespace keys exist from the init step on: missing one means the store is not the right one. */
export function isNamespaceKeyId(keyId: string): boolean {
  return keyId.startsWith(NAMESPACE_KEY_PREFIX);
}
