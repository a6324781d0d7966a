import { ApplicationFailure } from '@temporalio/common';
import { HANDOFF_REFUSALS, RELEASED_BINDING, type HandoffClaimArgs, type HandoffOfferArgs } from '../../src/contract/handoff';
import { REFUSALS } from '../../src/contract/session';
import type { SessionInput } from '../../src/contract/session-state';
import { HandoffDesk } from '../../src/workflows/session/handoff';
import { SessionModel } from '../../src/workflows/session/model';
import { statusView } from '../../src/workflows/session/views';
import { sampleDraft } from './fixtures';

const NOW = 1_700_000_000_000;
const FIRST = `key_${'1'.repeat(43)}`;
const SECOND = `key_${'2'.repeat(43)}`;
const THIRD = `key_${'3'.repeat(43)}`;

function launchedSession(): SessionModel {
  const input: SessionInput = {
    sessionId: 'ses_handoff',
    number: '3897-518104-8640',
    clientId: 'client-1',
    tag: 'REF-handoff',
    webhook: false,
    definition: { flowId: 'consent-only', snapshotId: null, maxSteps: 50, machine: sampleDraft('consent-only') },
    createdAt: NOW - 60_000,
    expiresAt: NOW + 24 * 3600 * 1000,
  };
  const session = new SessionModel(input);
  session.launch({ nonceHash: 'hash-of-the-first-nonce', deviceClientId: FIRST }, NOW - 30_000);
  return session;
}

/** The refusal type a call throws, or null. */
function refusalOf(call: () => unknown): string | null {
  try {
    call();
    return null;
  } catch (err) {
    return err instanceof ApplicationFailure ? (err.type ?? null) : 'not an ApplicationFailure';
  }
}

const offer = (extra: Partial<HandoffOfferArgs> = {}): HandoffOfferArgs => ({ kind: 'device', tokenHash: 'hash-of-token-one', expiresAt: NOW + 600_000, from: FIRST, proof: 'p', ...extra });
const claim = (extra: Partial<HandoffClaimArgs> = {}): HandoffClaimArgs => ({ tokenHash: 'hash-of-token-one', deviceClientId: SECOND, proof: 'p', ...extra });

describe('HandoffDesk', () => {
  let now = NOW;
  beforeEach(() => {
    now = NOW;
  });

  test('only the bound device offers a handoff, and only while the session is in progress', async () => {
    const session = launchedSession();
    const desk = new HandoffDesk(session, async () => true, () => now);
    expect(refusalOf(() => desk.checkOffer(offer({ from: THIRD })))).toBe(REFUSALS.WRONG_CLIENT);
    expect(refusalOf(() => desk.checkOffer(offer({ from: undefined })))).toBe(REFUSALS.WRONG_CLIENT);
    expect(refusalOf(() => desk.checkOffer(offer({ tokenHash: '' })))).toBe(REFUSALS.INVALID_INPUT);
    expect(refusalOf(() => desk.checkOffer(offer()))).toBeNull();
    session.end('consumed', null, NOW);
    expect(refusalOf(() => desk.checkOffer(offer()))).toBe(REFUSALS.WRONG_STATUS);
  });

  test('a claim moves the binding once: a second claim is used, another token not valid, a late one expired', async () => {
    const session = launchedSession();
    const desk = new HandoffDesk(session, async () => true, () => now);
    await desk.offer(offer());
    expect(session.state.handoff).toEqual({ kind: 'device', tokenHash: 'hash-of-token-one', expiresAt: NOW + 600_000, from: FIRST, claimed: false });
    expect(refusalOf(() => desk.checkClaim(claim({ tokenHash: 'hash-of-another-token' })))).toBe(HANDOFF_REFUSALS.INVALID);
    expect(refusalOf(() => desk.checkClaim(claim({ deviceClientId: 'dc_not-a-key' })))).toBe(REFUSALS.INVALID_INPUT);
    now = NOW + 600_000;
    expect(refusalOf(() => desk.checkClaim(claim()))).toBe(HANDOFF_REFUSALS.EXPIRED);
    now = NOW + 599_999;
    expect(refusalOf(() => desk.checkClaim(claim()))).toBeNull();
    const view = await desk.claim(claim());
    expect(view).toMatchObject({ deviceClientId: SECOND, handedOffFrom: FIRST });
    expect(refusalOf(() => desk.checkClaim(claim({ deviceClientId: THIRD })))).toBe(HANDOFF_REFUSALS.USED);
  });

  test('of two claims in one workflow task, the second sees the first take the handoff before its proof is checked', async () => {
    const session = launchedSession();
    let proven: (value: boolean) => void = () => undefined;
    const proofs: Array<Promise<boolean>> = [Promise.resolve(true)];
    const desk = new HandoffDesk(session, () => proofs.shift() ?? new Promise<boolean>((resolve) => (proven = resolve)), () => now);
    await desk.offer(offer());
    desk.checkClaim(claim());
    const first = desk.claim(claim());
    expect(refusalOf(() => desk.checkClaim(claim({ deviceClientId: THIRD })))).toBe(HANDOFF_REFUSALS.USED);
    await expect(desk.claim(claim({ deviceClientId: THIRD }))).rejects.toMatchObject({ type: HANDOFF_REFUSALS.USED });
    proven(true);
    await expect(first).resolves.toMatchObject({ deviceClientId: SECOND });
  });

  test('a claim whose proof does not hold gives the handoff back and moves nothing', async () => {
    const session = launchedSession();
    const proofs = [true, false];
    const desk = new HandoffDesk(session, async () => proofs.shift() ?? true, () => now);
    await desk.offer(offer());
    await expect(desk.claim(claim())).rejects.toMatchObject({ type: 'InboundRefused' });
    expect(session.state).toMatchObject({ deviceClientId: FIRST, handoff: { claimed: false } });
    await expect(desk.claim(claim())).resolves.toMatchObject({ deviceClientId: SECOND });
  });

  test('a re-issue releases the binding at once: no device holds it, and nobody follows after the claim', async () => {
    const session = launchedSession();
    const desk = new HandoffDesk(session, async () => true, () => now);
    await desk.offer(offer({ kind: 'reissue', from: undefined }));
    expect(statusView(session)).toMatchObject({ deviceClientId: RELEASED_BINDING, handedOffFrom: null });
    await desk.claim(claim());
    expect(statusView(session)).toMatchObject({ deviceClientId: SECOND, handedOffFrom: null });
  });
});
