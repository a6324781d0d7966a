/**
 * The hash a session keeps of each proof (launch proof, nonce), computed in workflow code,
 * which has no node:crypto: SHA-256 from @noble/hashes, base64url without padding from
 * @scure/base, so it equals the api's nonceHash (src/session-secret.ts) for the same value.
 */
import { sha256 } from '@noble/hashes/sha2';
import { base64urlnopad } from '@scure/base';
import { canonicalJson } from '../../util/json';

export function proofHash(preimage: string): string {
  return base64urlnopad.encode(sha256(preimage));
}

/**
 * What the api's seal on a session covers (src/session-secret.ts inputSeal): the session's input
 * as the api created it, i.e. without the seal itself and the state a continued run carries.
 * Computed the same way by the api (on the input as JSON) and by the workflow (on its decoded
 * input), so the workflow can report it and the api check the seal without reading history.
 */
export function sessionInputDigest(input: object): string {
  const created: Record<string, unknown> = { ...input };
  delete created.seal;
  delete created.state;
  return base64urlnopad.encode(sha256(canonicalJson(created)));
}
