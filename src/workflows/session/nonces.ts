/** The nonces a step hands on. */
import type { StepArgs } from '../../contract/session';

/** The next nonce a step sets, whether it is a hash, and the update id the api derived it from. */
export function nextNonceOf(args: StepArgs): { nonce: string; hashed: boolean; source?: string } {
  if (args.nextNonceHash === undefined) return { nonce: args.nextNonce as string, hashed: false };
  return { nonce: args.nextNonceHash, hashed: true, ...(args.nextNonceSource !== undefined ? { source: args.nextNonceSource } : {}) };
}
