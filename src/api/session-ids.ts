/**
 * Ids the api mints: session ids, numbers, device client ids and update ids. Randomness and
 * secrets stay out of the workflow, so they are made here (a cryptographic RNG) and passed in.
 */
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import type { StepArgs } from '../contract/session';
import { contentHash } from '../util/hash';

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `DS` + 20 random base-62 characters, like Attestr's handshake ids. */
export function newSessionId(): string {
  const bytes = randomBytes(20);
  return `DS${[...bytes].map((b) => ID_ALPHABET[b % 62]).join('')}`;
}

/**
 * Whether `id` has the shape of a session id. Other workflows (device clients, webhook
 * outboxes) share the namespace; their ids must look exactly like a missing session, so they
 * are never handed to Temporal as one.
 */
export function isSessionId(id: string): boolean {
  return /^DS[0-9A-Za-z]{20}$/.test(id);
}

/**
 * The session id an Idempotency-Key stands for: the same for the same tenant and key, only,
 * and keyed with the tenant's secret, so nobody can compute it from a guessable key (a
 * session id is all a device needs to launch a session).
 */
export function idempotentSessionId(tenantSecret: string, tenantId: string, key: string): string {
  const digest = createHmac('sha256', tenantSecret).update(`${tenantId}\u0000${key}`).digest();
  return `DS${[...digest.subarray(0, 20)].map((b) => ID_ALPHABET[b % 62]).join('')}`;
}

/** A human-readable number like 3897-518104-8640. */
export function newSessionNumber(): string {
  const digits = (n: number) => String(randomInt(0, 10 ** n)).padStart(n, '0');
  return `${digits(4)}-${digits(6)}-${digits(4)}`;
}

/** `dc_` + 20 random base-62 characters. */
export function newDeviceClientId(): string {
  return `dc_${newSessionId().slice(2)}`;
}

/** An update id no other request has: the nonce a launch without an Idempotency-Key hands out is derived from it. */
export function newUpdateId(kind: 'launch' | 'resume' | 'handoff' | 'claim'): string {
  return `${kind}-${randomBytes(16).toString('hex')}`;
}

/** The update id of a launch with an Idempotency-Key: the key hashed with what the launch binds, like a step's id. */
export function launchUpdateId(idempotencyKey: string, deviceClientId: string | undefined): string {
  return `launch-${contentHash([idempotencyKey, deviceClientId ?? null])}`;
}

/** A device step as the api receives it: the nonce, which the workflow sees only as the proof it spends. */
export type StepSubmission = Omit<StepArgs, 'nonceHash' | 'nextNonceHash' | 'nonce' | 'nextNonce' | 'nextNonceSource'> & { nonce: string };

/**
 * The update id of a step submission, derived from its nonce, payload and caller: a retried
 * request is deduplicated by Temporal and gets the first answer, while the same nonce with
 * another payload or from another tenant reaches the validator and is refused.
 */
export function stepUpdateId(step: StepSubmission): string {
  // BACK is part of what was sent; a SUBMIT's parts stay as they were, so its update ids do too.
  const parts = [step.nonce, step.step, step.input, step.clientId ?? null, step.flowId ?? null, step.deviceClientId ?? null, ...(step.event === 'BACK' ? ['BACK'] : [])];
  return `step-${contentHash(parts)}`;
}
