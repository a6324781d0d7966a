/**
 * The hash a session keeps of each proof (launch proof, nonce), computed in workflow code,
 * which has no node:crypto: SHA-256 from @noble/hashes, base64url without padding from
 * @scure/base, so it equals the api's nonceHash (src/session-secret.ts) for the same value.
 */
import { sha256 } from '@noble/hashes/sha2';
import { base64urlnopad } from '@scure/base';

export function proofHash(preimage: string): string {
  return base64urlnopad.encode(sha256(preimage));
}

