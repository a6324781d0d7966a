/**
 * Whether the worker may poll: only while the key store answers (a worker that cannot read keys
 * would only fail tasks; docs/security/key-store.md). When a key cannot be read (the store is
 * down, the KEK is wrong), the task fails (nothing is written; Temporal retries it after its
 * timeout) and the worker stops polling until the store answers again, then a fresh worker polls.
 * While paused no activity runs, so an outage of any length uses up no activity's retry budget and
 * ends no session in `error`. The store is also probed while polling, so an outage that no task
 * has met yet stops polling too: otherwise the next activity attempt due (a provider call's last
 * one, say) would be handed to this worker, fail to decode its input, and be spent. Only attempts
 * handed out in the probe interval an outage begins in can still be spent, one per activity.
 */
import { KeyStoreUnavailableError } from '../keys/errors';

/** How often the worker asks the key store whether it answers: while polling, and while paused. */
const KEY_STORE_PROBE_MS = 2_000;

export class KeyStoreGate {
  /** The key store cannot be read: no worker polls. */
  down = false;
  private probing = false;
  private probe: NodeJS.Timeout | undefined;
  private probeKey: () => Promise<unknown> = () => Promise.resolve();

  constructor(private readonly hooks: { onPause: () => void; stopping: () => boolean }) {}

  /** Stops polling until the store answers (a key could not be read, or the probe failed). */
  pause(): void {
    if (this.down || this.hooks.stopping()) return;
    this.down = true;
    process.stderr.write('worker: the key store cannot be read; polling stops until it answers\n');
    this.hooks.onPause();
  }

  /** Probes the store with `probeKey` (the store as it is now, not a cache) while polling. */
  watch(probeKey: () => Promise<unknown>): void {
    this.probeKey = probeKey;
    this.probe = setInterval(() => {
      if (this.down || this.hooks.stopping() || this.probing) return;
      this.probing = true;
      probeKey()
        .catch((err: unknown) => {
          if (err instanceof KeyStoreUnavailableError) this.pause();
        })
        .finally(() => (this.probing = false));
    }, KEY_STORE_PROBE_MS);
    this.probe.unref();
  }

  /** Before the first worker: a store that does not answer yet keeps it from polling. */
  async checkFirst(): Promise<void> {
    try {
      await this.probeKey();
    } catch (err) {
      this.down = true;
      process.stderr.write(`worker: ${err instanceof KeyStoreUnavailableError ? err.message : 'the key store cannot be read'}; polling waits until it answers\n`);
    }
  }

  /** Returns once the store answers again, or the process stops. */
  async waitUntilAnswers(): Promise<void> {
    while (this.down && !this.hooks.stopping()) {
      await new Promise((resolve) => setTimeout(resolve, KEY_STORE_PROBE_MS));
      try {
        await this.probeKey();
        this.down = false;
        process.stdout.write('worker: the key store answers again; polling resumes\n');
      } catch {
        // still down
      }
    }
  }

  close(): void {
    clearInterval(this.probe);
  }
}
