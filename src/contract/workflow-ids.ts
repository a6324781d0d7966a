/**
 * Every workflow id, built in one place from business keys, so a start is idempotent by
 * construction and an id's shape is defined once. Workflow ids are persisted (and never
 * encrypted): a format here changes only with a migration.
 *
 * A session's ref is a SHA-256 of its id, made by src/session-secret.ts `sessionRef` (workflow
 * code cannot hash with node:crypto); `sessionWorkflowId(sessionId)` there composes the two.
 */

/** A session ref: 32 lowercase hex characters (128 bits of SHA-256 of the session id). */
export function isSessionRef(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}

/** The workflow id of a session, from its ref. */
export function sessionWorkflowIdOfRef(ref: string): string {
  return `session-${ref}`;
}

/**
 * Sessions started before ids were hashed live under their id itself (`DS` + 20 base-62). Goes
 * with the legacy lookup in src/api/legacy-sessions.ts (docs/guides/operating.md, "Legacy sessions").
 */
export function legacySessionWorkflowId(sessionId: string): string {
  return sessionId;
}

export function deviceClientWorkflowId(deviceClientId: string): string {
  return `device-client-${deviceClientId}`;
}

/** `ref` is the session's ref (for sessions from before, its id). */
export function webhookOutboxWorkflowId(ref: string): string {
  return `webhooks-${ref}`;
}

export function shredWorkflowId(ref: string): string {
  return `shred-${ref}`;
}
