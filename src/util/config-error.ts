/**
 * The one error type of startup, shared by every loader of settings (src/config, the tenant and
 * operator registries, the secrets), so none of them depends on another for it.
 */

/** Every bad setting, whatever loads it, names its variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/**
 * A setting holding a JSON array. JSON.parse's own message is never repeated: it quotes the text
 * around the error, which may be a secret.
 */
export function parseJsonArray(text: string, variable: string, items: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(variable, `must be a JSON array of ${items} (it is not valid JSON)`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(variable, `must be a JSON array of ${items}`);
  return parsed;
}

/**
 * For process entry points, the one exit of the startup contract: a ConfigError from `load`
 * stops the process with one line on stderr naming the variable, and exit code 2.
 */
export function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sessionflow: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
