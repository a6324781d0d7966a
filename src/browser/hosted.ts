/**
 * The hosted flow page: renders whatever stage the session is at, from its definition alone.
 * Opening the page changes nothing: the session launches on the user's first action (Start).
 * A reload resumes at once (this tab remembers it started); the same browser in a new tab
 * resumes after Start. Every string comes from strings.ts.
 */
import { h } from './dom';
import { generateForm } from './form';
import { FlowSession, InvalidDataError, SessionNotFoundError, SessionOpenElsewhereError, SessionflowError, StepInProgressError, type Stage } from './sdk';
import { S } from './page-strings';

const REDIRECT_DELAY_MS = 2_500;

const root = document.getElementById('app') as HTMLElement;
const sessionId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');
const startedKey = `sessionflow:started:${sessionId}`;
let session: FlowSession | null = null;

/** Replaces the page with a new screen and moves focus to its heading, for screen readers and keyboards. */
function screen(heading: string, ...content: Array<Node | null>): void {
  const title = h('h1', { id: 'stage-heading', tabindex: '-1' }, heading);
  root.replaceChildren(title, ...content.filter((node): node is Node => node !== null));
  document.title = `${heading} · ${S.documentTitle}`;
  title.focus();
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
  screen(S.startHeading, paragraph(S.startText), button(S.startButton, () => {
    sessionStorage.setItem(startedKey, '1');
    void open();
  }));
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
      await session!.submit(generated.read());
      render();
    } catch (err) {
      done();
      if (err instanceof InvalidDataError) return generated.showErrors(err.errors, err.message);
      if (err instanceof StepInProgressError) return waitThenOpen();
      failure(err);
    }
  });
  container.append(form.form);
  screen(stage.title ?? S.continueButton, paragraph(stage.description), retryNote(stage), container);
}

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
  screen(stage.title ?? S.attestrHeading, paragraph(stage.description ?? S.attestrText), retryNote(stage), container);
}

/** A wait stage: the backend moves the session on; long-poll until it does. */
async function waitStage(stage: Stage): Promise<void> {
  const status = h('p', { role: 'status' }, S.waitStatus(S.statusNames[stage.status] ?? stage.status));
  screen(stage.title ?? S.waitHeading, paragraph(stage.description ?? S.waitText), status);
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
  sessionStorage.removeItem(startedKey);
  const ending = stage.status === 'SESSION_EXPIRED' || !stage.outcome ? ENDINGS.expired : ENDINGS[stage.outcome];
  const returnUrl = session?.returnUrl ?? null;
  const back = returnUrl ? h('p', {}, S.redirecting, ' ', h('a', { href: returnUrl }, S.returnLink)) : null;
  screen(ending.heading, paragraph(ending.text), back);
  root.dataset.ending = stage.status === 'SESSION_EXPIRED' ? 'expired' : (stage.outcome ?? 'expired');
  if (returnUrl) setTimeout(() => location.assign(returnUrl), REDIRECT_DELAY_MS);
}

function failure(err: unknown): void {
  if (err instanceof SessionOpenElsewhereError) return screen(S.elsewhereHeading, paragraph(S.elsewhereText));
  if (err instanceof SessionNotFoundError) return screen(S.notFoundHeading, paragraph(S.notFoundText));
  screen(S.failedHeading, paragraph(S.failedText), button(S.tryAgainButton, () => void open()));
}

if (sessionStorage.getItem(startedKey)) {
  screen(S.resuming);
  void open();
} else {
  showStart();
}
