/**
 * Files that can hold personal data or credentials (the dev server's database, logs, tokens) are
 * readable by their owner only: created 0600, and made so when an older run left them wider.
 */
import { chmodSync, createWriteStream, existsSync, writeFileSync, type WriteStream } from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;

/** Makes existing files owner-only; missing ones are skipped. */
export function makePrivate(...paths: string[]): void {
  for (const path of paths) if (existsSync(path)) chmodSync(path, PRIVATE_FILE_MODE);
}

/** An append stream on an owner-only file. */
export function privateAppendStream(path: string): WriteStream {
  makePrivate(path);
  return createWriteStream(path, { flags: 'a', mode: PRIVATE_FILE_MODE });
}

/** Writes (or replaces) an owner-only file. */
export function writePrivateFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: PRIVATE_FILE_MODE });
  makePrivate(path);
}
