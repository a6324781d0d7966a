/**
 * `npm run operators -- hash-password`: reads one password from stdin (never from the command
 * line, where it would sit in the shell's history and the process list) and prints the
 * operators file's `passwordScrypt` value for it. On a terminal, what is typed is not echoed.
 *
 *   npm run -s operators -- hash-password              (type it, then Enter)
 *   printf '%s' "$PASSWORD" | npm run -s operators -- hash-password
 */
import { hashPassword, passwordProblem } from '../src/operators/passwords';

const USAGE = 'usage: npm run operators -- hash-password   (the password on stdin, one line)';

/** The first line of stdin; on a terminal, read without echo. */
function readPassword(): Promise<string> {
  const input = process.stdin;
  if (input.isTTY) {
    process.stderr.write('password (not shown): ');
    input.setRawMode(true);
  }
  return new Promise((resolve, reject) => {
    let text = '';
    const done = () => {
      if (input.isTTY) {
        input.setRawMode(false);
        process.stderr.write('\n');
      }
      input.pause();
      resolve(text.split(/\r?\n|\r/)[0]);
    };
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      // Ctrl-C in raw mode arrives as a character: stop without hashing.
      if (chunk.includes('\u0003')) reject(new Error('cancelled'));
      text += chunk;
      if (/[\r\n]/.test(text)) done();
    });
    input.on('end', done);
    input.on('error', reject);
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.length !== 1 || args[0] !== 'hash-password') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const password = await readPassword();
  const problem = passwordProblem(password);
  if (problem) {
    process.stderr.write(`operators hash-password: ${problem}; nothing printed\n`);
    return 1;
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`operators: ${err instanceof Error ? err.message : 'failed'}\n`);
    process.exit(1);
  },
);
