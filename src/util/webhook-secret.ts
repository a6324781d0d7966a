/** Standard Webhooks secrets: `whsec_` and the standard base64 of 24 to 64 bytes. */

export const WEBHOOK_SECRET_MIN_BYTES = 24;
export const WEBHOOK_SECRET_MAX_BYTES = 64;
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const WEBHOOK_SECRET_RULE = `"whsec_" followed by the standard base64 of ${WEBHOOK_SECRET_MIN_BYTES} to ${WEBHOOK_SECRET_MAX_BYTES} bytes`;

export function isWebhookSecret(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith('whsec_')) return false;
  const encoded = value.slice('whsec_'.length);
  if (!STANDARD_BASE64.test(encoded)) return false;
  const bytes = Buffer.from(encoded, 'base64');
  // Canonical encodings only, so two spellings of one key cannot both pass.
  if (bytes.toString('base64') !== encoded) return false;
  return bytes.length >= WEBHOOK_SECRET_MIN_BYTES && bytes.length <= WEBHOOK_SECRET_MAX_BYTES;
}
