/**
 * Device client credentials: `sfc1.<claims>.<signature>`, claims as base64url JSON, signed with
 * HMAC-SHA256 under the api's DEVICE_TOKEN_SECRET. Short-lived (an hour by default); within
 * the client's refresh window an expired credential can be exchanged for a fresh one through
 * the handshake. Revocation lives in the device client's workflow, checked on every use.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DeviceClaims {
  /** The device client id. */
  sub: string;
  /** The tenant client id the device belongs to. */
  ten: string;
  /** Issued and expiry times, unix ms. */
  iat: number;
  exp: number;
  /** Unix ms until which an expired credential may still be refreshed. */
  ref: number;
}

export type TokenCheck = { ok: true; claims: DeviceClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'beyond_refresh' };

const PREFIX = 'sfc1';
export const DEFAULT_TOKEN_TTL_MS = 60 * 60 * 1000;
export const REFRESH_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

export class DeviceTokens {
  private readonly key: Buffer;

  constructor(
    secret: string,
    readonly ttlMs = DEFAULT_TOKEN_TTL_MS,
  ) {
    if (secret.length < 32) throw new Error('the device token secret must have at least 32 characters');
    this.key = Buffer.from(secret);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(`${PREFIX}.${payload}`).digest('base64url');
  }

  issue(claims: Pick<DeviceClaims, 'sub' | 'ten' | 'ref'>, now = Date.now()): string {
    const full: DeviceClaims = { ...claims, iat: now, exp: Math.min(now + this.ttlMs, claims.ref) };
    const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
    return `${PREFIX}.${payload}.${this.sign(payload)}`;
  }

  /** `allowExpired` is for the handshake: an expired credential may be refreshed, a forged one never. */
  verify(token: string | undefined, now = Date.now(), options: { allowExpired?: boolean } = {}): TokenCheck {
    const parts = (token ?? '').split('.');
    if (parts.length !== 3 || parts[0] !== PREFIX || parts[1] === '' || parts[2] === '') return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.sign(parts[1]));
    const given = Buffer.from(parts[2]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
    let claims: DeviceClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as DeviceClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (now >= claims.ref) return { ok: false, reason: 'beyond_refresh' };
    if (now >= claims.exp && !options.allowExpired) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  }
}
