/** The console's sign-in page and the pages that say why something was refused or failed. */
import { CONSOLE_SIGN_IN, SIGN_IN_NEXT } from '../keys/codec-sign-in';
import { hidden, html, raw, type Html } from './html';
import { CONSOLE_STRINGS as S } from './strings';

/** Documented codes of the console's own refusals (docs/guides/console.md). */
export const CONSOLE_ERRORS = {
  /** A form without the console's CSRF cookie and token, or from another origin. */
  formRefused: 'console_form_refused',
  notFound: 'console_not_found',
  unavailable: 'console_unavailable',
} as const;

/** Where sign-in goes back to: the page asked for, when it is one of the console's. */
export function nextPage(value: string | undefined): string {
  return value && SIGN_IN_NEXT.test(value) && value !== CONSOLE_SIGN_IN ? value : '/console/find';
}

export function signInBody(next: string, problem: string | undefined): Html {
  const message = problem ? S.signInProblems[problem] : undefined;
  const problemBlock = message ? html`<div class="problem" role="alert"><h2>${S.problemTitle}</h2><p><a href="#${problem === 'token' ? 'token' : 'name'}">${message}</a></p></div>` : raw('');
  return html`${problemBlock}<p>${S.signInIntro}</p>
<h2>${S.signInWithPassword}</h2><form method="post" action="/auth">${hidden('next', next)}<label for="name">${S.operatorName}</label><input type="text" id="name" name="name" autocomplete="username" spellcheck="false" required><label for="password">${S.password}</label><input type="password" id="password" name="password" autocomplete="current-password" required><div><button>${S.signIn}</button></div></form>
<h2>${S.signInWithToken}</h2><form method="post" action="/auth">${hidden('next', next)}<label for="token">${S.token}</label><p class="hint" id="token-hint">${S.tokenHint}</p><input type="password" id="token" name="token" aria-describedby="token-hint" autocomplete="off" required><div><button>${S.signIn}</button></div></form>`;
}

/** A refusal or failure, with its documented code. */
export function problemBody(text: string, code: string, back?: { href: string; label: string }): Html {
  return html`<p>${text}</p><p>${S.errorCode(code)}</p>${back ? html`<p><a href="${back.href}">${back.label}</a></p>` : raw('')}`;
}
