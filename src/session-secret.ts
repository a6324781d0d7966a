/**
 * What keeps a session's live credentials out of Temporal (DESIGN.md §5.4). Nothing here runs
 * in workflow code: the workflow only ever sees the results.
 *
 * - The handshake id (the session id, which launches a session) never enters history: the
 *   session's workflow id is `session-<ref>`, where `<ref>` is a SHA-256 of the id. Session ids
 *   are 120 random bits (or an HMAC under the tenant's secret), so the hash cannot be reversed.
 * - Where the id must travel with the session (webhooks, whose receiver needs it; the api's
 *   list of a tag's sessions), it is sealed with AES-256-GCM under a key from SESSION_SECRET,
 *   which the api and the worker's activities hold and Temporal never does.
 * - The workflow keeps only a hash of the next nonce. The api derives each nonce as an HMAC,
 *   under SESSION_SECRET, of the session id and the update id it is handed out by, so a retried
 *   request (on any api replica) gets the same nonce back without the workflow holding it, and
 *   the device that launched a session gets its current nonce again from the update id the
 *   session names. A nonce ends in a tag over the session id, so the api refuses one presented
 *   for another (or a made-up) session before it asks Temporal anything.
 * - Launch proofs: the create stores the hash of an HMAC of the session id; a launch carries the
 *   HMAC itself, which only the api can make (docs/security/device-binding.md).
 * - Device keys: the hosted page's launch binds the session to a random key it sets as the
 *   browser's cookie for that session, tagged like a nonce; the session keeps only its hash.
 * - Handoff tokens: random, tagged like a device key; the session keeps only their hash, and
 *   each offer and claim carries a proof the worker checks (docs/security/device-binding.md, "Handoff").
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from './config';
import { canonicalJson } from './util/json';
import { embeddedSecret } from './util/secret-file';
import { sessionWorkflowIdOfRef } from './contract/workflow-ids';
import { DEVICE_KEY_BINDING_PREFIX, handoffProofContent, type HandoffClaimArgs, type HandoffOfferArgs } from './contract/handoff';

/** A SESSION_SECRET that cannot be used: a ConfigError, so entry points stop with one line naming it. */
export class SessionSecretError extends ConfigError {
  constructor(problem: string) {
    super('SESSION_SECRET', problem);
  }
}

/** A sealed session id does not open: tampered, or sealed under another SESSION_SECRET. */
export class SealedIdError extends Error {
  override readonly name = 'SealedIdError';
}

/** The session's reference: 128 bits of SHA-256 of its id, in hex. Not secret, not reversible. */
export function sessionRef(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex').slice(0, 32);
}

/** Where a session lives in Temporal: its ref, hashed here, in the id contract/workflow-ids.ts builds. */
export function sessionWorkflowId(sessionId: string): string {
  return sessionWorkflowIdOfRef(sessionRef(sessionId));
}

/** What the workflow keeps of a nonce: SHA-256, base64url. A nonce is 256 random bits, so this is enough. */
export function nonceHash(nonce: string): string {
  return createHash('sha256').update(nonce).digest('base64url');
}

const SEALED_PREFIX = 'sid1.';

export { DEVICE_KEY_BINDING_PREFIX };

/** A session's device key binding, as the session keeps it: never the key, its hash. */
export function deviceKeyBinding(key: string): string {
  return `${DEVICE_KEY_BINDING_PREFIX}${nonceHash(key)}`;
}

/** A tagged value: `<body>.<tag>`, both base64url; the tag is 96 bits of HMAC over session and body. */
const TAGGED = /^([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{16})$/;

export class SessionSecret {
  private readonly nonceKey: Buffer;
  private readonly sealKey: Buffer;
  private readonly ivKey: Buffer;
  private readonly eventKey: Buffer;
  private readonly tagKey: Buffer;
  private readonly launchKey: Buffer;
  private readonly inputSealKey: Buffer;
  private readonly handoffKey: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new SessionSecretError('must have at least 32 characters');
    // One secret to configure, separate keys for separate uses.
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'sessionflow', info, 32));
    this.nonceKey = derive('next-nonce');
    this.sealKey = derive('seal-session-id');
    this.ivKey = derive('seal-session-id-iv');
    this.tagKey = derive('session-tag');
    this.launchKey = derive('launch-proof');
    this.eventKey = derive('backend-event-proof');
    this.inputSealKey = derive('session-input-seal');
    this.handoffKey = derive('handoff-proof');
  }

  /**
   * The api's proof that a backend event came through it (an authenticated tenant) to this
   * session: an HMAC of the session's workflow id and the event. The worker checks it before the
   * session takes the event, so access to Temporal alone cannot make one up.
   */
  eventProof(workflowId: string, event: { eventId: string; type: string; data: unknown }): string {
    const content = canonicalJson({ eventId: event.eventId, type: event.type, data: event.data });
    return createHmac('sha256', this.eventKey).update(`${workflowId}\u0000${content}`).digest('base64url');
  }

  verifyEventProof(workflowId: string, event: { eventId: string; type: string; data: unknown; proof?: unknown }): boolean {
    if (typeof event.proof !== 'string') return false;
    const expected = Buffer.from(this.eventProof(workflowId, event));
    const given = Buffer.from(event.proof);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * The nonce an update's answer hands out (a launch's, a step's): the same for the same session
   * and update id, on any replica, tagged with the session (see isMintedFor).
   */
  nextNonce(sessionId: string, updateId: string): string {
    const body = createHmac('sha256', this.nonceKey).update(`${sessionId}\u0000${updateId}`).digest().subarray(0, 24).toString('base64url');
    return this.tagged(sessionId, body);
  }

  /** A new device key for a launch of this session: random, tagged with the session. */
  newDeviceKey(sessionId: string): string {
    return this.tagged(sessionId, randomBytes(24).toString('base64url'));
  }

  /**
   * A new handoff token: 128 random bits, tagged with the session like a device key, so a made-up
   * one is refused before any Temporal call. A credential: the session keeps its nonceHash only.
   */
  newHandoffToken(sessionId: string): string {
    return this.tagged(sessionId, randomBytes(16).toString('base64url'));
  }

  /**
   * The api's proof on a handoff's offer or claim: an HMAC of the session's workflow id and what
   * the update says. The worker checks it before the session takes the update, so access to
   * Temporal alone cannot move a session to a device of its choosing.
   */
  handoffProof(workflowId: string, args: Omit<HandoffOfferArgs, 'proof'> | Omit<HandoffClaimArgs, 'proof'>): string {
    const content = canonicalJson(handoffProofContent({ ...args, proof: '' } as HandoffOfferArgs | HandoffClaimArgs));
    return createHmac('sha256', this.handoffKey).update(`${workflowId}\u0000${content}`).digest('base64url');
  }

  verifyHandoffProof(workflowId: string, args: HandoffOfferArgs | HandoffClaimArgs): boolean {
    if (typeof args?.proof !== 'string') return false;
    const expected = Buffer.from(this.handoffProof(workflowId, args));
    const given = Buffer.from(args.proof);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * Whether this api minted `value` (a nonce or a device key) for this session: a value for
   * another session, a made-up one, or one from before tags is not, and costs no Temporal call.
   */
  isMintedFor(sessionId: string, value: string): boolean {
    const match = TAGGED.exec(value);
    if (!match) return false;
    const expected = Buffer.from(this.tag(sessionId, match[1]));
    const given = Buffer.from(match[2]);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /**
   * What launches the session: an HMAC of its id. The create stores its hash; the launch
   * update carries it, so nobody without SESSION_SECRET can launch a session through Temporal.
   */
  launchProof(sessionId: string): string {
    return createHmac('sha256', this.launchKey).update(sessionId).digest('base64url');
  }

  /**
   * The seal the create puts in a session's input (SessionInput.seal): an HMAC of its workflow id
   * and the digest of the rest of its input (sessionInputDigest), so a workflow started with an
   * input the api did not make, or under another session's id, carries none that holds.
   */
  inputSeal(workflowId: string, inputDigest: string): string {
    return createHmac('sha256', this.inputSealKey).update(`${workflowId}\u0000${inputDigest}`).digest('base64url');
  }

  /**
   * Whether this api may vouch for (sign) what the session at `workflowId` reports: its seal holds
   * over the digest its workflow computed. A session without one (created before seals, or
   * answering from a build before them) only while `unsealedUntil` (UNSEALED_SESSIONS_UNTIL) lasts.
   */
  vouchesFor(workflowId: string, reported: { inputDigest?: string; seal?: string | null }, unsealedUntil?: number, now = Date.now()): boolean {
    if (typeof reported.seal !== 'string' || typeof reported.inputDigest !== 'string') return unsealedUntil !== undefined && now < unsealedUntil;
    const expected = Buffer.from(this.inputSeal(workflowId, reported.inputDigest));
    const given = Buffer.from(reported.seal);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private tag(sessionId: string, body: string): string {
    return createHmac('sha256', this.tagKey).update(`${sessionId}\u0000${body}`).digest().subarray(0, 12).toString('base64url');
  }

  private tagged(sessionId: string, body: string): string {
    return `${body}.${this.tag(sessionId, body)}`;
  }

  /**
   * The session id sealed (AES-256-GCM). Deterministic: the IV is an HMAC of the id, so the same
   * id always seals the same (a retried start carries the same input, and the same session is
   * recognised among a device client's) while different ids never share an IV.
   */
  seal(sessionId: string): string {
    const iv = createHmac('sha256', this.ivKey).update(sessionId).digest().subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const sealed = Buffer.concat([cipher.update(sessionId, 'utf8'), cipher.final()]);
    return `${SEALED_PREFIX}${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
  }

  static isSealed(value: string): boolean {
    return value.startsWith(SEALED_PREFIX);
  }

  open(sealed: string): string {
    if (!SessionSecret.isSealed(sealed)) throw new SealedIdError('not a sealed session id');
    const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    if (bytes.length < 12 + 16 + 1) throw new SealedIdError('not a sealed session id');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedIdError('the sealed session id does not open under this SESSION_SECRET');
    }
  }

  /** A device client's list holds sealed ids; lists from before hold the ids themselves. */
  openOrLegacy(value: string): string {
    return SessionSecret.isSealed(value) ? this.open(value) : value;
  }
}

/**
 * SESSION_SECRET (32+ characters, the same on every api replica and worker), or for the embedded
 * default a random one kept in `<dataDir>/session-secret` (mode 0600).
 */
export function loadSessionSecret(env: Record<string, string | undefined>, dataDir: string): SessionSecret {
  const configured = env.SESSION_SECRET;
  if (configured) return new SessionSecret(configured);
  return new SessionSecret(embeddedSecret(dataDir, 'session-secret'));
}
