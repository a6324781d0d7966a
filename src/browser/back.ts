/**
 * Back, on the page and with the browser's own back button. A stage whose flow goes back from
 * it (`stage.back`) gets its own entry in the browser's history (the same URL: it holds only the
 * session id), so the browser's back button stays on this page and raises `popstate`, which the
 * page turns into the session's BACK step instead of leaving the flow.
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
