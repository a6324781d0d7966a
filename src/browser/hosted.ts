/**
 * The hosted flow page: renders whatever stage the session is at, from its definition alone.
 * Opening the page changes nothing: the session launches on the user's first action (Start).
 * The server says what the link is (start, resume, open elsewhere, ended...) on <main>; the
 * browser holding the session's key resumes at once, in any tab. Every string comes from strings.ts.
 */
import { onBrowserBack, pressBack, recordStage, restoreTyped, typedValues } from './back';
import { brandFooter, progressText, readBrand, stageLinkList } from './brand';
import { h } from './dom';
import { generateForm } from './form';
import { FlowSession, InvalidDataError, SessionNotFoundError, SessionOpenElsewhereError, SessionflowError, StepInProgressError, type Stage } from './sdk';
import { S } from './page-strings';
import { claimPage, follow, fragmentToken, handoffButton, type PageKit } from './handoff';

const REDIRECT_DELAY_MS = 2_500;

const root = document.getElementById('app') as HTMLElement;
const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
let session: FlowSession | null = null;
const brand = readBrand();

/** Replaces the page with a new screen and moves focus to its heading, for screen readers and keyboards. */
function screen(heading: string, ...content: Array<Node | null>): void {
  const title = h('h1', { id: 'stage-heading', tabindex: '-1' }, heading);
  root.replaceChildren(title, ...content.filter((node): node is Node => node !== null));
  document.title = `${brand.name} · ${heading}`;
  title.focus();
}

/** A stage's screen: its place in the flow goes in the heading, so it is read when focus lands there. */
function stageScreen(stage: Stage, heading: string, ...content: Array<Node | null>): void {
  screen(heading, ...content);
  const place = progressText(brand, stage.step);
  if (place) root.querySelector('h1')?.prepend(h('span', { class: 'progress' }, place));
  if (session) root.append(handoffButton(kit, session));
}

function paragraph(text: string | undefined): HTMLElement | null {
  return text ? h('p', {}, text) : null;
}

function button(label: string, onClick: () => Promise<void> | void, kind = 'primary'): HTMLButtonElement {
  const element = h('button', { type: 'button', class: kind }, label);
  element.addEventListener('click', () => void onClick());
  return element;
}

/** A live region saying that something runs; the control that started it is disabled meanwhile. */
function working(text: string, within: HTMLElement, control?: HTMLButtonElement | null): () => void {
  const status = h('p', { class: 'working', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
  within.append(status);
  if (control) control.disabled = true;
  within.setAttribute('aria-busy', 'true');
  return () => {
    status.remove();
    if (control) control.disabled = false;
    within.removeAttribute('aria-busy');
  };
}

function showStart(): void {
  screen(S.startHeading, paragraph(S.startText), button(S.startButton, () => void open()));
}

async function open(): Promise<void> {
  try {
    // The page's language (the api chose it for <html lang>) is the one every answer comes in.
    session = await FlowSession.launch(sessionId, { language: S.lang });
    render();
  } catch (err) {
    if (err instanceof StepInProgressError) return waitThenOpen();
    failure(err);
  }
}

/** A step runs (a provider call from before a reload): wait for its answer, then pick up the stage. */
async function waitThenOpen(): Promise<void> {
  screen(S.providerWaiting, h('p', { class: 'working', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), S.working));
  try {
    await FlowSession.waitForChange(sessionId, 25);
  } catch (err) {
    return failure(err);
  }
  return open();
}

function render(): void {
  const stage = session!.stage;
  if (stage.step === null) return end(stage);
  recordStage(stage);
  if (stage.kind === 'wait') {
    void waitStage(stage);
    return;
  }
  if (stage.kind === 'provider' && stage.handshakeId) return attestrStage(stage);
  return formStage(stage);
}

/** The flow's words for the provider's error (the api chose them), never the provider's own text. */
function retryNote(stage: Stage): HTMLElement | null {
  return stage.error ? h('p', { class: 'notice', role: 'alert' }, stage.error.text ?? S.providerRetryable) : null;
}

/** Input stages, and provider stages that take input (or none): a form from the stage's schema. */
function formStage(stage: Stage): void {
  const container = h('div', {});
  const label = stage.error ? S.tryAgainButton : S.submitButton;
  const form = generateForm(stage.schema, stage.fields, label, async (generated) => {
    const submit = generated.form.querySelector('button[type=submit]') as HTMLButtonElement;
    const done = working(stage.kind === 'provider' ? S.providerWaiting : S.working, container, submit);
    try {
      const typed = typedValues(generated.form);
      const next = await session!.submit(generated.read());
      render();
      if (next.step === stage.step && next.fieldErrors?.length) restoreTyped(typed);
    } catch (err) {
      done();
      if (err instanceof InvalidDataError) return generated.showErrors(err.errors, err.message);
      if (err instanceof StepInProgressError) return waitThenOpen();
      failure(err);
    }
  });
  container.append(form.form);
  if (stage.back) container.append(button(S.backButton, () => pressBack(stage, () => void goBack()), 'secondary back'));
  stageScreen(stage, stage.title ?? S.continueButton, paragraph(stage.description), stageLinkList(brand, stage.step), retryNote(stage), container);
  // The provider refused what this form sent: its words at the field, as the api's own refusals.
  if (stage.fieldErrors?.length) form.showErrors(stage.fieldErrors, stage.fieldErrors.map((e) => e.message).join(' '));
}

/** BACK, from the page's Back or the browser's back button; nothing while a step runs or where the stage has no way back. */
async function goBack(): Promise<void> {
  if (!session?.stage.back || root.querySelector('[aria-busy="true"]')) return;
  const control = root.querySelector('button.back') as HTMLButtonElement | null;
  const done = working(S.working, root, control);
  try {
    await session.back();
    render();
  } catch (err) {
    done();
    if (err instanceof StepInProgressError) return waitThenOpen();
    failure(err);
  }
}
onBrowserBack(() => void goBack());

/** Attestr runs its own flow with the user; on the sandbox, a button plays it. Then the stage's step collects the result. */
function attestrStage(stage: Stage): void {
  const container = h('div', {});
  const go = button(stage.error ? S.tryAgainButton : S.attestrButton, async () => {
    const done = working(S.providerWaiting, container, go);
    try {
      await session!.completeSandboxHandshake().catch((err: unknown) => {
        // Completed before (a retry after a pending answer), or a real Attestr, where the user
        // finishes in Attestr's own flow: either way the step below collects the result (a
        // pending one answers with a retryable error, and the page offers Try again).
        if (!(err instanceof SessionflowError && (err.code === 'handshake_completed' || err.code === 'route_not_found'))) throw err;
      });
      await session!.submit({});
      render();
    } catch (err) {
      done();
      if (err instanceof StepInProgressError) return waitThenOpen();
      failure(err);
    }
  });
  container.append(go);
  stageScreen(stage, stage.title ?? S.attestrHeading, paragraph(stage.description ?? S.attestrText), retryNote(stage), container);
}

/** A wait stage: the backend moves the session on; long-poll until it does. */
async function waitStage(stage: Stage): Promise<void> {
  const status = h('p', { role: 'status' }, S.waitStatus(S.statusNames[stage.status] ?? stage.status));
  stageScreen(stage, stage.title ?? S.waitHeading, paragraph(stage.description ?? S.waitText), status);
  try {
    for (;;) {
      const progress = await session!.waitForChange(25);
      status.textContent = S.waitStatus(S.statusNames[progress.status] ?? progress.status);
      if (progress.changed) break;
    }
    await session!.reload();
    render();
  } catch (err) {
    failure(err);
  }
}

const ENDINGS: Record<string, { heading: string; text: string }> = {
  success: { heading: S.successHeading, text: S.successText },
  error: { heading: S.errorHeading, text: S.errorText },
  skipped: { heading: S.skippedHeading, text: S.skippedText },
  expired: { heading: S.expiredHeading, text: S.expiredText },
};

/** Success, error, skipped or expired: a page of its own, then back to the tenant when it gave a returnUrl. The result is never shown. */
function end(stage: Stage): void {
  const ending = stage.status === 'SESSION_EXPIRED' || !stage.outcome ? ENDINGS.expired : ENDINGS[stage.outcome];
  const returnUrl = session?.returnUrl ?? null;
  const back = returnUrl ? h('p', {}, S.redirecting, ' ', h('a', { href: returnUrl }, S.returnLink)) : null;
  screen(ending.heading, paragraph(ending.text), back);
  root.dataset.ending = stage.status === 'SESSION_EXPIRED' ? 'expired' : (stage.outcome ?? 'expired');
  if (returnUrl) setTimeout(() => location.assign(returnUrl), REDIRECT_DELAY_MS);
}

function failure(err: unknown): void {
  if (err instanceof SessionOpenElsewhereError) return screen(S.elsewhereHeading, paragraph(S.elsewhereText));
  // A session this tab was running that no longer knows it moved to another device: the page says where it is.
  if (err instanceof SessionNotFoundError && session) return location.reload();
  if (err instanceof SessionNotFoundError) return screen(S.notFoundHeading, paragraph(S.notFoundText));
  screen(S.failedHeading, paragraph(S.failedText), button(S.tryAgainButton, () => void open()));
}

/** What src/browser/handoff.ts needs of this page. */
const kit: PageKit = {
  sessionId,
  screen,
  button,
  render: () => render(),
  opened: (picked) => {
    session = picked;
    render();
  },
  failure: (err) => failure(err),
};

const footer = brandFooter(brand);
if (footer) root.after(footer);

/** What the server found the link to be when it served the page (src/api/hosted/page-state.ts). */
function served(): { page?: string; outcome?: string; returnUrl?: string } {
  const { page, outcome, returnUrl } = root.dataset;
  return { page, outcome, returnUrl };
}

/** A page opened once the session is over: how it ended only for the browser that ran it, and a link back, without redirecting. */
function over(page: string, outcome: string | undefined, returnUrl: string | undefined): void {
  const ending = page === 'expired' ? ENDINGS.expired : outcome && ENDINGS[outcome] ? ENDINGS[outcome] : { heading: S.endedHeading, text: S.endedText };
  screen(ending.heading, paragraph(ending.text), returnUrl ? h('p', {}, h('a', { href: returnUrl }, S.returnLinkLater)) : null);
}

const { page, outcome, returnUrl } = served();
const recheckKey = `sessionflow:recheck:${sessionId}`;
const rechecked = sessionStorage.getItem(recheckKey) !== null;
sessionStorage.removeItem(recheckKey);
if (page === 'recheck' && !rechecked) {
  // Loaded from this origin, the request carries the session's SameSite=Strict key. Once only:
  // a browser that still does not send it is answered by the launch-or-resume POST instead.
  sessionStorage.setItem(recheckKey, '1');
  location.replace(location.href);
} else if (page === 'resume' || page === 'recheck') {
  screen(S.resuming);
  void open();
} else if (page === 'ended' || page === 'expired') {
  over(page, outcome, returnUrl);
} else if (page === 'elsewhere' && fragmentToken() !== null) {
  claimPage(kit, fragmentToken()!);
} else if (page === 'moved') {
  void follow(kit, null);
} else if (page === 'elsewhere') {
  screen(S.elsewhereHeading, paragraph(S.elsewhereText));
} else if (page === 'invalid') {
  screen(S.notFoundHeading, paragraph(S.notFoundText));
} else if (page === 'unavailable') {
  screen(S.failedHeading, paragraph(S.failedText), button(S.tryAgainButton, () => location.reload()));
} else {
  showStart();
}
