/**
 * The one serialising helper of a session: work that moves the flow (launch, a device step, a
 * backend event, a stage timer) holds it from acceptance to answer, so two such pieces never
 * interleave. Validators refuse steps and events while it is held (SessionBusy); a stage timer
 * waits for it. Ending work (expiry, expire, archive) never waits: it ends the session at once,
 * and the work in flight sees that the session moved on.
 *
 * Taking and releasing are plain calls inside the holder's own try/finally, not a wrapper
 * around a callback: a wrapper would add promise ticks, and the order of commands in a workflow
 * task must stay exactly what recorded histories hold.
 */
import { condition } from '@temporalio/workflow';

export type Wait = (ready: () => boolean) => Promise<void>;

export class Exclusive {
  private held = false;

  /** `wait` is Temporal's condition in the workflow; unit tests pass their own. */
  constructor(private readonly wait: Wait = (ready) => condition(ready)) {}

  get busy(): boolean {
    return this.held;
  }

  /** Callers never find it held: validators refuse while busy, and a timer takes it right after free(). */
  take(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
  }

  /** Resolves once nothing holds it, or as soon as `moot()` says waiting no longer matters. */
  free(moot: () => boolean = () => false): Promise<void> {
    return this.wait(() => !this.held || moot());
  }
}
