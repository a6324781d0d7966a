/**
 * The result signature (DESIGN.md section 2): lowercase hex HMAC-SHA256, keyed with the
 * client secret, of the compact JSON of `result` in the key order the response gives it,
 * i.e. `JSON.stringify(body.result)` on the parsed response. Both the api (signing) and the
 * typed client (verifying) use this module, so the recipe exists once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signResult(result: unknown, secret: string): string {
  return createHmac('sha256', secret).update(JSON.stringify(result)).digest('hex');
}

export function verifyResultSignature(result: unknown, signature: unknown, secret: string): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  return timingSafeEqual(Buffer.from(signResult(result, secret), 'hex'), Buffer.from(signature, 'hex'));
}
