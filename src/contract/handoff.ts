/**
 * Moving a launched session to another device (docs/security/device-binding.md, "Handoff"):
 * the updates that offer a handoff (from the bound device, or re-issued by the tenant) and claim
 * it, and what the session keeps of one. The handoff token is a credential: the api mints it and
 * keeps it out of Temporal; the session keeps only its hash. Each update carries the api's proof
 * (SessionSecret.handoffProof), checked by the worker, so access to Temporal alone cannot offer
 * or claim one. Workflow-safe; names are persisted in histories.
 */
import { defineUpdate } from '@temporalio/workflow';
import type { StatusView } from './session';

/** `device`: the bound device hands the session on; `reissue`: the tenant releases the binding and sends a new link. */
export const HANDOFF_KINDS = ['device', 'reissue'] as const;
export type HandoffKind = (typeof HANDOFF_KINDS)[number];

export interface HandoffOfferArgs {
  kind: HandoffKind;
  /** SHA-256 (base64url) of the token; the token never reaches Temporal. */
  tokenHash: string;
  /** Unix ms after which the token is refused as expired. */
  expiresAt: number;
  /** `device` only: the binding of the device offering it, which must be the session's. */
  from?: string;
  /** SessionSecret.handoffProof over the fields above and the workflow id. */
  proof: string;
}

export interface HandoffClaimArgs {
  tokenHash: string;
  /** The binding of the device claiming it (a device key's, `key_…`), minted for this claim. */
  deviceClientId: string;
  proof: string;
}

/** The session's one open (or last) handoff; a new offer replaces it. */
export interface HandoffState {
  kind: HandoffKind;
  tokenHash: string;
  expiresAt: number;
  /** The device that offered it (`device` kind), which may follow the session once it moved. */
  from: string | null;
  claimed: boolean;
}

/** Why a claim was refused: no such token (or one replaced), one already used, one past its time. */
export const HANDOFF_REFUSALS = {
  INVALID: 'SessionHandoffInvalid',
  USED: 'SessionHandoffUsed',
  EXPIRED: 'SessionHandoffExpired',
} as const;
export type HandoffRefusal = (typeof HANDOFF_REFUSALS)[keyof typeof HANDOFF_REFUSALS];

/** Bindings to a device key start so (the hosted page's); any other is a device client id (`dc_…`). */
export const DEVICE_KEY_BINDING_PREFIX = 'key_';

/**
 * What a re-issue binds the session to until the new link is claimed: no device holds it (a
 * device key's binding is `key_` and 43 base64url characters), so every device is refused,
 * the old one included. Not null, which would mean an anonymous session taking any nonce.
 */
export const RELEASED_BINDING = `${DEVICE_KEY_BINDING_PREFIX}released`;

export const offerHandoffUpdate = defineUpdate<StatusView, [HandoffOfferArgs]>('offerHandoff');
export const claimHandoffUpdate = defineUpdate<StatusView, [HandoffClaimArgs]>('claimHandoff');

/** What a handoff proof covers, the same for the api that makes it and the worker that checks it. */
export function handoffProofContent(args: HandoffOfferArgs | HandoffClaimArgs): Record<string, unknown> {
  const content: Record<string, unknown> = { update: 'kind' in args ? offerHandoffUpdate.name : claimHandoffUpdate.name, ...args };
  delete content.proof;
  return content;
}
