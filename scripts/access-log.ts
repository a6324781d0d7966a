/**
 * `make start`'s quiet terminal: its services' access lines (the api's and the codec server's
 * per-request JSON lines, a pair for every request and every codec decode) go to
 * `<DATA_DIR>/logs/access.log` instead of the terminal, which keeps the running block, the
 * supervisor's lines, warnings and errors. SESSIONFLOW_ACCESS_LOG=stdout prints them again.
 *
 * The file is rotated by size with rotating-file-stream (no dependencies, logrotate's naming:
 * access.log, access.log.1 ... access.log.4), created with mode 0600: request lines name paths
 * with session ids.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import type { LineSink } from './services';

export const ACCESS_LOG_FILE = 'access.log';
/** Rotated at this size, keeping this many rotated files beside the current one. */
const ROTATE_SIZE = '10M';
const ROTATED_FILES = 4;

/** Pino's level numbers: below warn (40) is info, debug and trace. */
const WARN = 40;

/**
 * Whether a service's output line (`[name] text`) is an access line: a pino JSON line below
 * warn that carries the request (`req`) or the response (`res`), as Fastify logs every request.
 */
export function isAccessLine(line: string): boolean {
  const json = line.replace(/^\[[^\]]*\] /, '');
  if (!json.startsWith('{')) return false;
  try {
    const entry = JSON.parse(json) as { level?: unknown; req?: unknown; res?: unknown };
    return typeof entry.level === 'number' && entry.level < WARN && (entry.req !== undefined || entry.res !== undefined);
  } catch {
    return false;
  }
}

/** The JSON line alone, with the service's name as its first field: one JSON object a line. */
function asFileLine(line: string): string {
  const prefix = /^\[([^\]]*)\] \{/.exec(line);
  return prefix ? `{"service":${JSON.stringify(prefix[1])},${line.slice(prefix[0].length)}` : line;
}

export interface AccessLog {
  /** Where every service line goes: access lines to the file, the rest to `terminal`. */
  sink: LineSink;
  /** The file, or null when access lines go to the terminal. */
  file: string | null;
  close(): Promise<void>;
}

export function openAccessLog(dataDir: string, mode: 'file' | 'stdout', terminal: LineSink, rotateSize = ROTATE_SIZE): AccessLog {
  if (mode === 'stdout') return { sink: terminal, file: null, close: async () => {} };
  const dir = join(dataDir, 'logs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stream: RotatingFileStream = createStream(ACCESS_LOG_FILE, { path: dir, size: rotateSize, rotate: ROTATED_FILES, mode: 0o600 });
  // A file left by an earlier start keeps its mode: make it private too.
  stream.once('open', (filename: string) => chmodSync(filename, 0o600));
  // A log file that cannot be written must not stop the stack: say it once, on the terminal.
  let failed = false;
  stream.on('error', (err: Error) => {
    if (!failed) terminal(`[supervisor] the access log cannot be written (${(err as NodeJS.ErrnoException).code ?? err.name}); access lines are dropped`);
    failed = true;
  });
  return {
    sink: (line) => {
      if (!isAccessLine(line)) terminal(line);
      else if (!failed) stream.write(`${asFileLine(line)}\n`);
    },
    file: join(dir, ACCESS_LOG_FILE),
    close: () => new Promise((resolve) => stream.end(() => resolve())),
  };
}
