/**
 * Continuing on another device (docs/guides/hosted-page.md): the offer on the device that holds
 * the session (a QR code and a one-time link), the page that follows the session once another
 * device took it over, and the claim on the device that opened the link. The token travels in
 * the link's fragment, which the browser never sends to a server; the page reads it from there
 * and sends it in the claim's body only. The QR code is SVG markup the api drew, parsed as an
 * image (no script runs from it) and inserted: nothing is loaded from another origin or `data:`.
 */
import { h } from './dom';
import { FlowSession, SessionflowError } from './sdk';
import { S } from './page-strings';

/** What the page lends this module: its screens and controls, and what to do with a session it picks up. */
export interface PageKit {
  sessionId: string;
  screen(heading: string, ...content: Array<Node | null>): void;
  button(label: string, onClick: () => Promise<void> | void, kind?: string): HTMLButtonElement;
  /** Shows the session's current stage again (Continue on this device instead). */
  render(): void;
  /** Goes on with a session this browser picked up after a claim. */
  opened(session: FlowSession): void;
  failure(err: unknown): void;
}

/** The fragment's key for the token (src/api/routes/handoff.ts HANDOFF_FRAGMENT). */
const FRAGMENT = 'handoff';
const REDIRECT_DELAY_MS = 2_500;
const WAIT_SECONDS = 25;
const ENDED_CODES = new Set(['session_completed', 'session_expired', 'session_archived']);

function paragraph(text: string): HTMLElement {
  return h('p', {}, text);
}

function liveStatus(text: string): HTMLElement {
  return h('p', { class: 'working', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

/** The token in the page's fragment, if the page was opened with a handoff or re-issued link. */
export function fragmentToken(): string | null {
  return new URLSearchParams(location.hash.slice(1)).get(FRAGMENT);
}

/** The QR code's markup as an SVG element, named for screen readers; null if it is not an SVG. */
function qrImage(markup: string): Element | null {
  const parsed = new DOMParser().parseFromString(markup, 'image/svg+xml').documentElement;
  if (parsed.nodeName !== 'svg') return null;
  const svg = document.importNode(parsed, true);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', S.handoffQrLabel);
  return svg;
}

/** The button under a stage that offers to continue on another device. */
export function handoffButton(kit: PageKit, session: FlowSession): HTMLElement {
  return h('p', { class: 'handoff-offer' }, kit.button(S.handoffButton, () => offer(kit, session), 'secondary'));
}

async function offer(kit: PageKit, session: FlowSession): Promise<void> {
  let handoff;
  try {
    handoff = await session.handoff();
  } catch (err) {
    return kit.failure(err);
  }
  let cancelled = false;
  const minutes = Math.max(1, Math.round((handoff.expiresAt - Date.now()) / 60_000));
  const link = h('p', { class: 'handoff-link' }, h('a', { href: handoff.url }, handoff.url));
  const cancel = kit.button(S.handoffCancel, () => {
    cancelled = true;
    kit.render();
  }, 'secondary');
  kit.screen(S.handoffHeading, paragraph(S.handoffText), h('div', { class: 'qr' }, qrImage(handoff.qrSvg)), link, paragraph(S.handoffExpiry(minutes)), liveStatus(S.handoffWaiting), cancel);
  try {
    // This browser keeps the session until the link is claimed; then it follows it.
    for (;;) {
      const progress = await session.waitForChange(WAIT_SECONDS);
      if (cancelled) return;
      if (progress.moved) return follow(kit, session.returnUrl);
      // Ended meanwhile (expired): the stage the page holds is stale, so read it again.
      if (progress.status !== 'SESSION_IN_PROGRESS') {
        await session.reload();
        return kit.render();
      }
    }
  } catch (err) {
    if (!cancelled) kit.failure(err);
  }
}

/** This browser handed the session on: it says so, follows it to its end, then goes back to the tenant. */
export async function follow(kit: PageKit, returnUrl: string | null): Promise<void> {
  kit.screen(S.movedHeading, paragraph(S.movedText), liveStatus(S.waitStatus(S.statusNames.SESSION_IN_PROGRESS)));
  try {
    let status = 'SESSION_IN_PROGRESS';
    while (status === 'SESSION_IN_PROGRESS') status = (await FlowSession.waitForChange(kit.sessionId, WAIT_SECONDS)).status;
  } catch (err) {
    return kit.failure(err);
  }
  const back = returnUrl ? h('p', {}, S.redirecting, ' ', h('a', { href: returnUrl }, S.returnLink)) : null;
  kit.screen(S.movedEndHeading, paragraph(S.movedEndText), back);
  document.getElementById('app')!.dataset.ending = 'moved';
  if (returnUrl) setTimeout(() => location.assign(returnUrl), REDIRECT_DELAY_MS);
}

/** The page opened with a link's token: Continue here takes the session over. */
export function claimPage(kit: PageKit, token: string): void {
  const go = kit.button(S.claimButton, async () => {
    go.disabled = true;
    try {
      const session = await FlowSession.claim(kit.sessionId, token, { language: S.lang });
      // Spent: the token leaves the address bar (and this tab's history).
      history.replaceState(null, '', location.pathname + location.search);
      kit.opened(session);
    } catch (err) {
      claimRefused(kit, err);
    }
  });
  kit.screen(S.claimHeading, paragraph(S.claimText), go);
  // Another language is another load of this page: the token goes along, in the fragment again.
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav.languages a')) link.hash = location.hash;
}

function claimRefused(kit: PageKit, err: unknown): void {
  const code = err instanceof SessionflowError ? err.code : '';
  if (code === 'handoff_used') return kit.screen(S.handoffUsedHeading, paragraph(S.handoffUsedText));
  if (code === 'handoff_expired') return kit.screen(S.handoffExpiredHeading, paragraph(S.handoffExpiredText));
  if (code === 'handoff_not_valid') return kit.screen(S.notFoundHeading, paragraph(S.notFoundText));
  if (ENDED_CODES.has(code)) return kit.screen(S.endedHeading, paragraph(S.endedText));
  kit.failure(err);
}
