/**
 * The operator identity: named people, each with a role (src/operators/roles.ts) and their own
 * credentials. The codec server authenticates with it; the operator API and the console build on
 * the same registry.
 *
 * The registry is a JSON array, from `SESSIONFLOW_OPERATORS` or the file `SESSIONFLOW_OPERATORS_FILE`
 * names (see ./load.ts for the development default):
 *
 *   [{ "name": "alice", "role": "admin", "tokenSha256": ["<64 hex: sha256 of her CLI token>"],
 *      "passwordScrypt": "scrypt$32768$8$1$<salt>$<hash>" }]
 *
 * Each operator has CLI tokens, a password, or both. Tokens never appear in it, only their
 * SHA-256 (a token is 256 random bits, so a fast hash is enough: there is nothing to guess);
 * passwords only as a slow scrypt hash (./passwords.ts: `npm run operators -- hash-password`). Messages never repeat a value from it other than a
 * well-formed name.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError, parseJsonArray } from '../util/config-error';
import { isObject } from '../util/json';
import { isOperatorRole, OPERATOR_ROLES, type OperatorRole } from './roles';
import { operatorTokenSha256 } from './tokens';
import { checkPassword, DECOY_HASH, parseScryptHash, type ScryptHash } from './passwords';

export interface Operator {
  name: string;
  role: OperatorRole;
}

export interface OperatorEntry extends Operator {
  /** Lowercase hex SHA-256 of each CLI token the operator holds (may be empty with a password). */
  tokenSha256: string[];
  /** The password's scrypt hash (`scrypt$N$r$p$salt$hash`), when the operator signs in with one. */
  passwordScrypt?: string;
}

export const OPERATOR_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ENTRY_KEYS: ReadonlySet<string> = new Set(['name', 'role', 'tokenSha256', 'passwordScrypt']);

function parseEntry(raw: unknown, index: number, source: string): OperatorEntry {
  const name = isObject(raw) && typeof raw.name === 'string' && OPERATOR_NAME_PATTERN.test(raw.name) ? raw.name : undefined;
  const where = name === undefined ? `operator ${index + 1}` : `operator ${index + 1} ("${name}")`;
  const fail = (problem: string): never => {
    throw new ConfigError(source, `${where}: ${problem}`);
  };
  if (!isObject(raw)) return fail('must be an object');
  if (Object.keys(raw).some((key) => !ENTRY_KEYS.has(key))) fail(`may hold only ${[...ENTRY_KEYS].join(', ')}`);
  if (name === undefined) fail('name must be 1 to 64 letters, digits, "_", ".", "@" or "-", starting with a letter or digit');
  if (!isOperatorRole(raw.role)) fail(`role must be one of ${OPERATOR_ROLES.join(', ')}`);
  const hashes = raw.tokenSha256 ?? [];
  if (!Array.isArray(hashes) || !hashes.every((hash) => typeof hash === 'string' && SHA256_HEX.test(hash))) {
    fail('tokenSha256 must be an array of SHA-256 digests of tokens, 64 lowercase hex characters each');
  }
  const password = raw.passwordScrypt;
  if (password !== undefined && (typeof password !== 'string' || !parseScryptHash(password))) {
    fail('passwordScrypt must be what `npm run operators -- hash-password` prints (scrypt$N$r$p$salt$hash)');
  }
  if ((hashes as string[]).length === 0 && password === undefined) fail('needs a credential: tokenSha256 with at least one digest, or passwordScrypt');
  return { name: name as string, role: raw.role as OperatorRole, tokenSha256: [...(hashes as string[])], ...(password !== undefined ? { passwordScrypt: password as string } : {}) };
}

/** Parses and checks a registry: a non-empty array of operators, names and tokens each used once. */
export function parseOperators(json: string, source: string): OperatorEntry[] {
  const data = parseJsonArray(json, source, 'operators');
  if (data.length === 0) throw new ConfigError(source, 'must list at least one operator');
  const entries = data.map((raw, index) => parseEntry(raw, index, source));
  const names = new Set<string>();
  const hashes = new Set<string>();
  entries.forEach((entry, index) => {
    if (names.has(entry.name)) throw new ConfigError(source, `operator ${index + 1} ("${entry.name}"): name is used by an earlier operator`);
    names.add(entry.name);
    for (const hash of entry.tokenSha256) {
      if (hashes.has(hash)) throw new ConfigError(source, `operator ${index + 1} ("${entry.name}"): a token is listed twice`);
      hashes.add(hash);
    }
  });
  return entries;
}

export class OperatorRegistry {
  private readonly entries: Array<{ operator: Operator; digests: Buffer[]; password: ScryptHash | null }>;
  /**
   * SHA-256 of who may do what: each operator's name, role and credentials' hashes, in name
   * order. The same configuration gives the same digest, so a change is seen (and audited) at
   * the next start; it tells nothing of a credential that its hash did not.
   */
  readonly configDigest: string;

  constructor(entries: readonly OperatorEntry[]) {
    this.entries = entries.map(({ name, role, tokenSha256, passwordScrypt }) => ({
      operator: { name, role },
      digests: tokenSha256.map((hex) => Buffer.from(hex, 'hex')),
      password: passwordScrypt ? parseScryptHash(passwordScrypt) : null,
    }));
    const canonical = [...entries]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map(({ name, role, tokenSha256, passwordScrypt }) => [name, role, [...tokenSha256].sort(), passwordScrypt ?? null]);
    this.configDigest = createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
  }

  /**
   * The operator with this name and password, or null. The one slow check (scrypt), run at
   * sign-in only; an unknown name, or one without a password, costs the same scrypt (against a
   * decoy), so the time does not tell which names exist.
   */
  async byPassword(name: string, password: string): Promise<Operator | null> {
    const found = this.entries.find(({ operator }) => operator.name === name);
    const matches = await checkPassword(found?.password ?? DECOY_HASH, password);
    return found?.password && matches ? { ...found.operator } : null;
  }

  get operators(): Operator[] {
    return this.entries.map(({ operator }) => ({ ...operator }));
  }

  byName(name: string): Operator | null {
    const found = this.entries.find(({ operator }) => operator.name === name);
    return found ? { ...found.operator } : null;
  }

  /** The operator holding this CLI token, or null. Every stored digest is compared, in constant time. */
  byToken(token: string): Operator | null {
    const digest = Buffer.from(operatorTokenSha256(token), 'hex');
    let found: Operator | null = null;
    for (const { operator, digests } of this.entries) {
      for (const stored of digests) {
        if (timingSafeEqual(stored, digest)) found = operator;
      }
    }
    return found ? { ...found } : null;
  }
}
