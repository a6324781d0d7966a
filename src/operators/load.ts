/**
 * Where the operator registry comes from, in order:
 *   1. `SESSIONFLOW_OPERATORS`: the JSON array itself;
 *   2. `SESSIONFLOW_OPERATORS_FILE`: a path to a file holding it (compose mounts a secret);
 *   3. neither: the development default, one admin, `dev-admin`, whose CLI token is created once
 *      in `<DATA_DIR>/operator-token` (mode 0600) for the Temporal CLI's `--codec-auth`. Only
 *      its SHA-256 is kept in memory.
 * Setting both variables is an error rather than a silent choice.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../util/config-error';
import { embeddedSecret } from '../util/secret-file';
import { OperatorRegistry, parseOperators, type OperatorEntry } from './registry';
import { newOperatorToken, operatorTokenSha256 } from './tokens';

export const OPERATORS_ENV = 'SESSIONFLOW_OPERATORS';
export const OPERATORS_FILE_ENV = 'SESSIONFLOW_OPERATORS_FILE';
export const DEV_OPERATOR_NAME = 'dev-admin';
export const DEV_OPERATOR_TOKEN_FILE = 'operator-token';
/** How messages name the development token file (never by its path). */
const DEV_SOURCE = 'the development operator token (operator-token in DATA_DIR)';

type Env = Record<string, string | undefined>;

export interface LoadedOperators {
  registry: OperatorRegistry;
  source: 'env' | 'file' | 'dev';
  /** The development operator's token file (source 'dev' only), for the CLI hint `make start` prints. */
  devTokenFile?: string;
}

/** The development operator's token, created once (0600) by whichever process comes first. */
function devToken(dataDir: string): string {
  let token: string;
  try {
    token = embeddedSecret(dataDir, DEV_OPERATOR_TOKEN_FILE, newOperatorToken);
  } catch {
    throw new ConfigError(DEV_SOURCE, 'cannot be created or read');
  }
  if (token.length < 32) throw new ConfigError(DEV_SOURCE, 'is damaged: delete it and start again for a new one');
  return token;
}

export function loadOperators(env: Env, dataDir: string): LoadedOperators {
  const inline = env[OPERATORS_ENV];
  const file = env[OPERATORS_FILE_ENV];
  if (inline && file) throw new ConfigError(OPERATORS_ENV, `and ${OPERATORS_FILE_ENV} are both set; set only one of them`);
  if (inline) return { registry: new OperatorRegistry(parseOperators(inline, OPERATORS_ENV)), source: 'env' };
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(OPERATORS_FILE_ENV, 'names a file that cannot be read');
    }
    return { registry: new OperatorRegistry(parseOperators(text, OPERATORS_FILE_ENV)), source: 'file' };
  }
  const dev: OperatorEntry = { name: DEV_OPERATOR_NAME, role: 'admin', tokenSha256: [operatorTokenSha256(devToken(dataDir))] };
  return { registry: new OperatorRegistry([dev]), source: 'dev', devTokenFile: join(dataDir, DEV_OPERATOR_TOKEN_FILE) };
}
