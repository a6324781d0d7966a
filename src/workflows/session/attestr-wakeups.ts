/**
 * Attestr may have a result for the handshake the current stage waits on (its webhook, or
 * anyone who can signal, says so): a wake-up. The result is fetched from Attestr and its
 * signature checked in an activity; one that does not verify is refused there, and the stage
 * stays as it was. What is fetched is kept through the SessionModel for the device's step.
 */
import type { AttestrDelivery } from '../../contract/session-state';
import { needsPreparation } from '../../flows/core/engine';
import type { SessionModel } from './model';

/**
 * Attestr fetches wake-ups may make for one entry into a stage. Past it, wake-ups are ignored and
 * the device's own step polls: a storm of signals (or webhook posts) costs the tenant's Attestr
 * quota and credits this many calls at most.
 */
export const MAX_WAKE_FETCHES = 3;

/** What one wake-up led to, for the worker's metric. */
export type WakeOutcome = 'fetched' | 'coalesced' | 'not_waiting' | 'over_bound';

/** Attestr's verified result for the handshake created with `tag`, or null (see providers.ts). */
export type FetchAttestrResult = (handshakeId: string, tag: string) => Promise<AttestrDelivery | null>;

export class AttestrWakeups {
  /** A wake-up's fetch is running; `again`: more wake-ups came meanwhile (they share one more fetch). */
  private fetching = false;
  private again = false;

  constructor(
    private readonly session: SessionModel,
    private readonly fetchResult: FetchAttestrResult,
  ) {}

  /** One fetch runs at a time, wake-ups meanwhile share one more, and a stage entry makes MAX_WAKE_FETCHES at most. */
  async wake(): Promise<WakeOutcome> {
    if (this.fetching) {
      this.again = true;
      return 'coalesced';
    }
    this.fetching = true;
    try {
      const { session } = this;
      let outcome: WakeOutcome = 'not_waiting';
      do {
        this.again = false;
        const stage = session.currentStage();
        const handshakeId = session.state.prepared?.handshakeId;
        if (!session.isLive || !stage || !needsPreparation(stage) || typeof handshakeId !== 'string') return outcome;
        if (session.state.delivered?.handshakeId === handshakeId) return outcome;
        const { entry } = session.state;
        if (session.wakeFetches() >= MAX_WAKE_FETCHES) return outcome === 'fetched' ? outcome : 'over_bound';
        session.countWakeFetch();
        outcome = 'fetched';
        const delivery = await this.fetchResult(handshakeId, session.idempotencyKey(stage));
        if (delivery && session.isAt(stage.id, entry) && session.state.prepared?.handshakeId === handshakeId) session.keepDelivered(delivery);
      } while (this.again);
      return outcome;
    } finally {
      this.fetching = false;
    }
  }
}
