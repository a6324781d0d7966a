/**
 * How key settings are written, checked by the configuration and by the key store alike.
 */

/** A KEK as text: 32 bytes as 64 hex characters or base64; null when it is neither. */
export function parseKek(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    const key = Buffer.from(value, 'base64');
    return key.length === 32 ? key : null;
  }
  return null;
}

/** Store ids: what SESSIONFLOW_KEY_STORE_ID holds. */
export const STORE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
