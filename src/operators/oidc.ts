/**
 * Operators by OIDC access token: the path when the Temporal UI sits behind an OIDC login and
 * passes its access token to the codec endpoint. The token is a JWT from the configured issuer,
 * for the configured audience, signed by a key of the issuer's JWKS (checked with `jose`, which
 * fetches and caches the JWKS). One claim names the operator; another (a string or a list, e.g.
 * `groups`) maps to roles through SESSIONFLOW_OIDC_ROLES, the highest mapped role winning. A
 * token mapping to no role, or naming no valid operator, is refused.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { ConfigError } from '../util/config-error';
import { isObject } from '../util/json';
import { OPERATOR_NAME_PATTERN, type Operator } from './registry';
import { isOperatorRole, OPERATOR_ROLES, type OperatorRole } from './roles';

export interface OidcConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** The claim that names the operator (default `preferred_username`). */
  operatorClaim: string;
  /** The claim holding the groups (or roles) that map to a role (default `groups`). */
  roleClaim: string;
  /** Claim value → role. */
  roles: Record<string, OperatorRole>;
}

type Env = Record<string, string | undefined>;

function httpsOrLoopback(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'must be a URL');
  }
  // Plain HTTP only on loopback: a JWKS fetched in the clear could be swapped on the way.
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new ConfigError(name, 'must be an https:// URL (http:// on loopback only)');
  return value;
}

/** SESSIONFLOW_OIDC_*: null when SESSIONFLOW_OIDC_ISSUER is unset (no OIDC sign-in). */
export function loadOidcConfig(env: Env): OidcConfig | null {
  const issuer = env.SESSIONFLOW_OIDC_ISSUER;
  if (!issuer) {
    const stray = ['SESSIONFLOW_OIDC_AUDIENCE', 'SESSIONFLOW_OIDC_JWKS_URL', 'SESSIONFLOW_OIDC_ROLES'].find((name) => env[name]);
    if (stray) throw new ConfigError(stray, 'is set without SESSIONFLOW_OIDC_ISSUER');
    return null;
  }
  httpsOrLoopback('SESSIONFLOW_OIDC_ISSUER', issuer);
  const audience = env.SESSIONFLOW_OIDC_AUDIENCE;
  if (!audience) throw new ConfigError('SESSIONFLOW_OIDC_AUDIENCE', 'is required with SESSIONFLOW_OIDC_ISSUER');
  const jwksUrl = httpsOrLoopback('SESSIONFLOW_OIDC_JWKS_URL', env.SESSIONFLOW_OIDC_JWKS_URL || `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`);
  let roles: unknown;
  try {
    roles = JSON.parse(env.SESSIONFLOW_OIDC_ROLES ?? '');
  } catch {
    throw new ConfigError('SESSIONFLOW_OIDC_ROLES', 'must be a JSON object of claim value to role, e.g. {"sf-admins":"admin"}');
  }
  if (!isObject(roles) || Object.keys(roles).length === 0 || !Object.values(roles).every(isOperatorRole)) {
    throw new ConfigError('SESSIONFLOW_OIDC_ROLES', `must map at least one claim value to a role (${OPERATOR_ROLES.join(', ')})`);
  }
  const claim = (name: string, fallback: string) => {
    const value = env[name] || fallback;
    if (!/^[A-Za-z_][A-Za-z0-9_.:/-]{0,99}$/.test(value)) throw new ConfigError(name, 'must be a claim name');
    return value;
  };
  return {
    issuer,
    audience,
    jwksUrl,
    operatorClaim: claim('SESSIONFLOW_OIDC_OPERATOR_CLAIM', 'preferred_username'),
    roleClaim: claim('SESSIONFLOW_OIDC_ROLE_CLAIM', 'groups'),
    roles: roles as Record<string, OperatorRole>,
  };
}

/** The operator and role a verified token's claims map to, or null. */
export function operatorOfClaims(config: OidcConfig, claims: JWTPayload): Operator | null {
  const name = claims[config.operatorClaim];
  if (typeof name !== 'string' || !OPERATOR_NAME_PATTERN.test(name)) return null;
  const raw = claims[config.roleClaim];
  const values = Array.isArray(raw) ? raw : [raw];
  const ranks = values.filter((value): value is string => typeof value === 'string' && Object.hasOwn(config.roles, value)).map((value) => OPERATOR_ROLES.indexOf(config.roles[value]));
  if (ranks.length === 0) return null;
  return { name, role: OPERATOR_ROLES[Math.max(...ranks)] };
}

/** Checks access tokens against the issuer's JWKS; `verify` answers the operator or null, never throws. */
export class OidcVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(readonly config: OidcConfig) {
    this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }

  async verify(token: string): Promise<Operator | null> {
    try {
      // Asymmetric algorithms only: an HS256 token "signed" with a public key is refused.
      const { payload } = await jwtVerify(token, this.jwks, { issuer: this.config.issuer, audience: this.config.audience, algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'], clockTolerance: 30 });
      return operatorOfClaims(this.config, payload);
    } catch {
      return null;
    }
  }
}

/** Whether a bearer credential looks like a JWT (three base64url parts), not an `sfo_` CLI token. */
export const looksLikeJwt = (token: string) => /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
