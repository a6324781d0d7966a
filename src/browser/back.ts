/**
 * Back, on the page and with the browser's own back button. A stage whose flow goes back from
 * it (`stage.back`) gets its own entry in the browser's history (the same URL: it holds only the
 * session id), so the browser's back button stays on this page and raises `popstate`, which the
 * page turns into the session's BACK step instead of leaving the flow. And a form the provider's
 * answer routed back keeps what was typed into it.
 */
import type { Stage } from './sdk';

const KEY = 'sessionflowStep';

function entryStep(): unknown {
  const state = history.state as Record<string, unknown> | null;
  return state && typeof state === 'object' ? state[KEY] : undefined;
}

/** Gives a stage that takes BACK a history entry of its own, once: coming back to it by BACK adds none. */
export function recordStage(stage: Stage): void {
  if (!stage.back || stage.step === null || entryStep() === stage.step) return;
  history.pushState({ [KEY]: stage.step }, '', location.href);
}

/**
 * The page's Back: the browser's back when this stage's entry is the one the browser is at (so
 * history and the flow stay in step), else `goBack` at once (after a reload, say).
 */
export function pressBack(stage: Stage, goBack: () => void): void {
  if (entryStep() === stage.step) history.back();
  else goBack();
}

/** The browser's back button, while this page is open. */
export function onBrowserBack(goBack: () => void): void {
  window.addEventListener('popstate', () => goBack());
}

type Typed = Array<[id: string, value: string | boolean]>;

/** What the user typed or chose in `form`, by control id. */
export function typedValues(form: HTMLFormElement): Typed {
  return [...form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input[id], select[id]')].map((control) => [
    control.id,
    control instanceof HTMLInputElement && (control.type === 'radio' || control.type === 'checkbox') ? control.checked : control.value,
  ]);
}

/** A form the provider sent back keeps what was typed into it, the refused field too, for the user to correct (as the page's own refusals do). */
export function restoreTyped(typed: Typed): void {
  for (const [id, value] of typed) {
    const control = document.getElementById(id);
    if (control instanceof HTMLInputElement && typeof value === 'boolean') control.checked = value;
    else if ((control instanceof HTMLInputElement || control instanceof HTMLSelectElement) && typeof value === 'string') control.value = value;
  }
}
