/**
 * Operator roles and what each may do. The roles are ordered: each may do everything the ones
 * before it may (a reviewer decodes too, an admin also decides reviews).
 */
export const OPERATOR_ROLES = ['viewer', 'reviewer', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** Each action and the least role allowed it. */
export const PERMISSIONS = {
  /** Read live sessions' payloads through the codec server. */
  decode: 'viewer',
  /** Decide a manual review. */
  review: 'reviewer',
  /** Encrypt anything with the namespace key (the codec server's /encode: the UI's signals and updates). */
  encode: 'admin',
  archive: 'admin',
  rotate: 'admin',
  shred: 'admin',
  /** Query the audit trail (GET /audit on the codec server). */
  audit: 'admin',
} as const satisfies Record<string, OperatorRole>;
export type Permission = keyof typeof PERMISSIONS;

export function isOperatorRole(value: unknown): value is OperatorRole {
  return (OPERATOR_ROLES as readonly unknown[]).includes(value);
}

export function may(role: OperatorRole, permission: Permission): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(PERMISSIONS[permission]);
}
