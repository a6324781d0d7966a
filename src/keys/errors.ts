/** The key store's errors and id rule, apart so every store module can import them. */

/** createIfAbsent on a destroyed key: a shredded session never gets a key again. */
export class KeyDestroyedError extends Error {
  override readonly name = 'KeyDestroyedError';
  constructor(readonly keyId: string) {
    super(`data key ${keyId} was destroyed`);
  }
}

/**
 * The store cannot be read, or a key cannot be unwrapped (wrong KEK, a damaged record). Every
 * caller fails closed on it: nothing is encoded in plain text and nothing is decoded.
 */
export class KeyStoreUnavailableError extends Error {
  override readonly name = 'KeyStoreUnavailableError';
  constructor(problem: string) {
    super(`key store unavailable: ${problem}`);
  }
}

/** Key ids appear in plain payload metadata and file names: a short safe alphabet only. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export function assertKeyId(keyId: string): void {
  if (!KEY_ID_PATTERN.test(keyId)) throw new Error('invalid data key id');
}
