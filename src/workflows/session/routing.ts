/**
 * The ways back to a form: a provider's "wrong input" routed back by the flow (INPUT_ERROR, the
 * stage's `meta.inputErrors`), and the user's BACK. Pure functions over the flow and the
 * session's state; the SessionModel keeps what they work out, the runner calls them.
 */
import { stageInfo, type FlowEvent, type StageInfo } from '../../flows/core/engine';
import type { FlowMachine } from '../../flows/core/types';
import type { InputErrorPrompt, StepArgs, StepPrompt } from '../../contract/session';
import type { SessionState, StageError } from '../../contract/session-state';
import type { StageOutcome } from '../providers';

export type InputErrorState = NonNullable<SessionState['inputError']>;

/**
 * The field a provider error marks, when the stage lists its code as the user's input being
 * wrong. Only a refusal counts: an outage (5xx, timeouts, rate limits past their retries) is
 * never the user's input, whatever its code, and keeps the stage's ERROR path.
 */
export function inputErrorField(stage: StageInfo, error: StageError): string | null {
  const codes = stage.inputErrors;
  if (!codes || error.type !== 'ProviderRejected' || error.code === undefined || !Object.hasOwn(codes, error.code)) return null;
  return codes[error.code];
}

/** The event a provider stage's outcome raises: DONE, INPUT_ERROR for a listed refusal, else ERROR. */
export function providerEvent(stage: StageInfo, input: unknown, outcome: StageOutcome): FlowEvent {
  if (outcome.ok) return { type: 'DONE', input, output: outcome.output };
  return { type: inputErrorField(stage, outcome.error) === null ? 'ERROR' : 'INPUT_ERROR', input, error: outcome.error };
}

/** The input error to keep once the flow moved on `event` from `stage` to a stage at `entry` (null: none). */
export function routedInputError(stage: StageInfo, event: FlowEvent, entry: number): InputErrorState | null {
  if (event.type !== 'INPUT_ERROR') return null;
  const error = event.error as StageError;
  return { entry, from: stage.id, code: error.code as string, field: inputErrorField(stage, error) as string };
}

/** Whether a device step goes BACK rather than submitting its data. */
export function isBack(args: StepArgs): boolean {
  return args.event === 'BACK';
}

/** What the prompt of the current stage adds: BACK when it takes it, the input error routed back to this visit. */
export function routingPrompt(machine: FlowMachine, state: SessionState, stage: StageInfo): Partial<StepPrompt> {
  const error = state.inputError;
  const routed = error && error.entry === state.entry ? inputErrorPrompt(machine, error) : null;
  return { ...(stage.back ? { back: true as const } : {}), ...(routed ? { inputError: routed } : {}) };
}

function inputErrorPrompt(machine: FlowMachine, error: InputErrorState): InputErrorPrompt | null {
  const from = stageInfo(machine, error.from);
  const text = from?.providerErrors?.[error.code];
  if (!from || text === undefined) return null;
  const key = `providerErrors.${error.code}`;
  const translations = Object.fromEntries(Object.entries(from.translations ?? {}).flatMap(([lang, table]) => (Object.hasOwn(table, key) ? [[lang, table[key]]] : [])));
  return { field: error.field, code: error.code, text, ...(Object.keys(translations).length > 0 ? { translations } : {}) };
}
