/**
 * Moving a launched session to another device: a handoff offered by its bound device, or
 * re-issued by its tenant (which releases the binding at once), and claimed once by the device
 * that opens the link (docs/security/device-binding.md, "Handoff"). The session keeps only the
 * token's hash; each update carries the api's proof, checked by the worker. This module writes
 * the handoff's part of the state (`handoff`, and the binding a claim moves), as SessionModel
 * writes the rest.
 *
 * Exactly once: a claim marks the handoff used before its first await, so a second claim of the
 * same token, even in the same workflow task, is refused by its validator as used; a claim whose
 * proof does not hold gives the handoff back and is refused, recorded in history.
 */
import { ApplicationFailure } from '@temporalio/common';
import { setHandler } from '@temporalio/workflow';
import {
  claimHandoffUpdate,
  DEVICE_KEY_BINDING_PREFIX,
  HANDOFF_KINDS,
  HANDOFF_REFUSALS,
  offerHandoffUpdate,
  RELEASED_BINDING,
  type HandoffClaimArgs,
  type HandoffOfferArgs,
  type HandoffRefusal,
} from '../../contract/handoff';
import type { InboundGuard } from './inbound';
import { inboundRefusedFailure, REFUSALS, type StatusView } from '../../contract/session';
import { refuse, type SessionModel } from './model';
import { statusView } from './views';

/** A claim's refusal, typed for the api (HANDOFF_REFUSALS); `refuse` takes the session's own types. */
function refuseClaim(type: HandoffRefusal, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

export class HandoffDesk {
  constructor(
    private readonly session: SessionModel,
    /** Whether the update carries the api's proof (a local activity in the worker). */
    private readonly prove: (args: HandoffOfferArgs | HandoffClaimArgs) => Promise<boolean>,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private checkInProgress(): void {
    const { status } = this.session.state;
    if (status !== 'in_progress') refuse(REFUSALS.WRONG_STATUS, `the session is ${status}; only a session in progress moves to another device`, { status });
  }

  checkOffer(args: HandoffOfferArgs): void {
    this.checkInProgress();
    if (!HANDOFF_KINDS.includes(args?.kind) || !isText(args.tokenHash) || typeof args.expiresAt !== 'number' || !isText(args.proof)) {
      refuse(REFUSALS.INVALID_INPUT, 'a handoff names its kind, its token hash, its expiry and its proof');
    }
    // Only the bound device hands the session on itself.
    if (args.kind === 'device' && (args.from === undefined || args.from !== this.session.state.deviceClientId)) refuse(REFUSALS.WRONG_CLIENT, 'session not found');
  }

  checkClaim(args: HandoffClaimArgs): void {
    this.checkInProgress();
    if (!isText(args?.tokenHash) || !isText(args.proof) || !isText(args.deviceClientId) || !args.deviceClientId.startsWith(DEVICE_KEY_BINDING_PREFIX)) {
      refuse(REFUSALS.INVALID_INPUT, 'a claim names its token hash, the device key binding it moves to, and its proof');
    }
    const handoff = this.session.state.handoff;
    if (!handoff || handoff.tokenHash !== args.tokenHash) refuseClaim(HANDOFF_REFUSALS.INVALID, 'this handoff link is not valid for the session');
    if (handoff.claimed) refuseClaim(HANDOFF_REFUSALS.USED, 'this handoff link was used already');
    if (this.now() >= handoff.expiresAt) refuseClaim(HANDOFF_REFUSALS.EXPIRED, 'this handoff link has expired');
  }

  async offer(args: HandoffOfferArgs): Promise<StatusView> {
    if (!(await this.prove(args))) throw inboundRefusedFailure({ message: 'offerHandoff', reason: 'unproven' });
    // The session may have ended, or been handed on, while the proof was checked.
    this.checkOffer(args);
    const { state } = this.session;
    state.handoff = { kind: args.kind, tokenHash: args.tokenHash, expiresAt: args.expiresAt, from: args.kind === 'device' ? (args.from as string) : null, claimed: false };
    if (args.kind === 'reissue') state.deviceClientId = RELEASED_BINDING;
    return statusView(this.session);
  }

  async claim(args: HandoffClaimArgs): Promise<StatusView> {
    const { state } = this.session;
    const handoff = state.handoff;
    // The validator checked it; this is the handler's own guard of exactly-once.
    if (!handoff || handoff.claimed || handoff.tokenHash !== args.tokenHash) refuseClaim(HANDOFF_REFUSALS.USED, 'this handoff link was used already');
    handoff.claimed = true; // before any await: a concurrent claim sees it used
    if (!(await this.prove(args))) {
      handoff.claimed = false;
      throw inboundRefusedFailure({ message: 'claimHandoff', reason: 'unproven' });
    }
    if (!this.session.isLive) refuse(REFUSALS.WRONG_STATUS, `the session is ${state.status}; it has already ended`, { status: state.status });
    state.deviceClientId = args.deviceClientId;
    return statusView(this.session);
  }
}


/** Counts an update towards the run's budget (session.ts). */
type Counted = <A extends unknown[], R>(handle: (...args: A) => R) => (...args: A) => R;

/** Sets the handoff updates' handlers: each argument passes the InboundGuard first, as every update's does. */
export function handleHandoffs(session: SessionModel, inbound: InboundGuard, counted: Counted): void {
  const desk = new HandoffDesk(session, (args) => inbound.handoffProven(args));
  const { update, validator } = inbound;
  setHandler(offerHandoffUpdate, counted(update(offerHandoffUpdate.name, (args: HandoffOfferArgs) => desk.offer(args))), { validator: validator((args: HandoffOfferArgs) => desk.checkOffer(args)) });
  setHandler(claimHandoffUpdate, counted(update(claimHandoffUpdate.name, (args: HandoffClaimArgs) => desk.claim(args))), { validator: validator((args: HandoffClaimArgs) => desk.checkClaim(args)) });
}
