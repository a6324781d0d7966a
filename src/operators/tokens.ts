/**
 * Operator CLI tokens: 256 random bits, kept by the registry only as their SHA-256. The prefix
 * lets secret scanners recognise a leaked token.
 */
import { createHash, randomBytes } from 'node:crypto';

export const OPERATOR_TOKEN_PREFIX = 'sfo_';

export function newOperatorToken(): string {
  return `${OPERATOR_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Lowercase hex SHA-256: what the operators file holds in place of a token. */
export function operatorTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
