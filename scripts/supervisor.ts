/**
 * `make start` as a supervisor: a service (sandbox, worker, api) that dies is started again
 * after a bounded backoff, and a Temporal dev server that dies is noticed, said, and started
 * again the same way. Every restart is said in the output with its delay and attempt. Stopping
 * (Ctrl-C) cancels pending restarts and stops everything, the api first and Temporal last.
 */
import { startService, stopService, type LineSink, type Service } from './services';

/** The first restart waits this long; each further one in a row twice as long, up to the cap. */
export const FIRST_RESTART_DELAY_MS = 1_000;
export const MAX_RESTART_DELAY_MS = 30_000;
/** A process that stayed up this long starts its next restart count from one again. */
const STABLE_MS = 60_000;

export function restartDelayMs(attempt: number): number {
  return Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** Math.max(0, attempt - 1));
}

export interface ServiceSpec {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  ready: RegExp;
}

/** A process that can die: the dev server, or a service. */
interface Watched {
  name: string;
  /** Starts it; resolves with its process once it serves. */
  start(): Promise<{ pid?: number; once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown }>;
  /** Said when it died, before the restart line. */
  died?: string;
}

export class Supervisor {
  private readonly services = new Map<string, Service>();
  private readonly order: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;

  constructor(
    private readonly say: (line: string) => void,
    private readonly sink?: LineSink,
  ) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Starts a service and keeps it running. */
  async startService(spec: ServiceSpec): Promise<void> {
    this.order.push(spec.name);
    await this.keep({
      name: spec.name,
      start: async () => {
        const service = await startService(spec.name, spec.entry, spec.env, spec.ready, this.sink);
        this.services.set(spec.name, service);
        return service.child;
      },
    });
  }

  /**
   * Keeps any process running: `start` is called now and again after each unexpected exit.
   * Used for the Temporal dev server too, whose `died` line says what its death means.
   */
  async keep(watched: Watched): Promise<void> {
    const child = await watched.start();
    this.say(`${watched.name} running (pid ${child.pid})`);
    this.watch(watched, child, 0);
  }

  private watch(watched: Watched, child: Awaited<ReturnType<Watched['start']>>, attemptsBefore: number): void {
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      const attempt = Date.now() - startedAt >= STABLE_MS ? 1 : attemptsBefore + 1;
      this.say(`${watched.name} exited (${signal ? `signal ${signal}` : `code ${code}`})${watched.died ? `: ${watched.died}` : ''}`);
      this.scheduleRestart(watched, attempt);
    });
  }

  private scheduleRestart(watched: Watched, attempt: number): void {
    const delay = restartDelayMs(attempt);
    this.say(`restarting ${watched.name} in ${delay / 1000} s (attempt ${attempt}; the wait doubles up to ${MAX_RESTART_DELAY_MS / 1000} s)`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopping) return;
      watched.start().then(
        (child) => {
          if (this.stopping) return;
          this.say(`${watched.name} is back (pid ${child.pid})`);
          this.watch(watched, child, attempt);
        },
        (err: unknown) => {
          if (this.stopping) return;
          this.say(`${watched.name} did not start: ${err instanceof Error ? err.message : String(err)}`);
          this.scheduleRestart(watched, attempt + 1);
        },
      );
    }, delay);
    this.timers.add(timer);
  }

  /** Cancels pending restarts and stops the services in the reverse of their start order. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const name of [...this.order].reverse()) {
      const service = this.services.get(name);
      if (service) await stopService(service);
    }
  }
}
