/**
 * The embedded stack's own processes (sandbox, worker, api), for `make start` and `make bench`:
 * each a child process whose output lines go, prefixed with its name, to stdout or a file.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Service {
  name: string;
  child: ChildProcess;
}

/** Where a service's output lines go; `make start` prints them, the benchmark files them. */
export type LineSink = (line: string) => void;

const printLine: LineSink = (line) => process.stdout.write(`${line}\n`);

function prefixLines(name: string, stream: NodeJS.ReadableStream | null, sink: LineSink, onLine?: (line: string) => void): void {
  let buffered = '';
  stream?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      sink(`[${name}] ${line}`);
      onLine?.(line);
    }
  });
}

/**
 * Starts `entry` (TypeScript under tsx, or compiled JavaScript) and resolves once it printed a
 * line matching `ready`.
 */
export function startService(name: string, entry: string, env: NodeJS.ProcessEnv, ready: RegExp, sink: LineSink = printLine): Promise<Service> {
  // TypeScript runs with tsx as node's loader (not a tsx parent process), so signals reach the
  // service itself.
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
  return startCommand(name, process.execPath, args, env, ready, sink);
}

/** Starts any program (the benchmark's Restate server is one) as a service, ready as above. */
export function startCommand(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, sink: LineSink = printLine): Promise<Service> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within 120 s`));
    }, 120_000);
    prefixLines(name, child.stdout, sink, (line) => {
      if (ready.test(line)) {
        clearTimeout(timer);
        resolve({ name, child });
      }
    });
    prefixLines(name, child.stderr, sink);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} while starting`));
    });
  });
}

export function stopService(service: Service): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops services in the reverse of their start order: the api before the worker it calls. */
export async function stopServices(services: readonly Service[]): Promise<void> {
  for (const service of [...services].reverse()) await stopService(service);
}
