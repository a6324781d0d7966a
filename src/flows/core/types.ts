/**
 * The flow format. A flow machine is an XState v5 machine config kept as plain JSON: flat
 * states, each either a stage (`meta.stage`) or a final state (`meta.outcome`). This module is
 * imported by workflow code, so it holds types and constants only.
 */

export const STAGE_KINDS = ['input', 'provider', 'wait', 'review'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];
/** The tenant's own pages (its client's brand) that a stage may link beside its text. */
export const TENANT_LINKS = ['terms', 'privacy', 'support'] as const;
export type TenantLink = (typeof TENANT_LINKS)[number];

export const OUTCOMES = ['success', 'error', 'skipped'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const PROVIDERS = ['attestr', 'finqware', 'http'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/**
 * Events a stage answers to: an input stage gets the device's SUBMIT, or its BACK (to an earlier
 * input stage); a provider stage DONE or ERROR once its provider call ends, or INPUT_ERROR when
 * the provider refused the user's input with a code the stage lists in `meta.inputErrors`; a
 * wait stage the backend's EVENT; a review stage a reviewer's decision: APPROVED, or REJECTED
 * with a reason code from the stage's `reasons`.
 */
export const STAGE_EVENTS: Record<StageKind, readonly string[]> = {
  input: ['SUBMIT', 'BACK'],
  provider: ['DONE', 'ERROR', 'INPUT_ERROR'],
  wait: ['EVENT'],
  review: ['APPROVED', 'REJECTED'],
};

/** A review stage's SLA: a whole number of seconds, minutes, hours or days (`90m`, `4h`, `2d`). */
export const SLA_PATTERN = /^([1-9][0-9]{0,5})([smhd])$/;
const SLA_UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The SLA in milliseconds, or null when it is not one (the flow validator refuses those). */
export function slaMs(sla: string): number | null {
  const match = SLA_PATTERN.exec(sla);
  return match ? Number(match[1]) * SLA_UNIT_MS[match[2]] : null;
}

/** The subset of JSON Schema that stage inputs are validated with (see schema.ts). */
export interface JsonSchema {
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'null';
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  /** A choice whose options have labels: the value must equal one option's `const`. */
  oneOf?: Array<{ const: unknown; title: string }>;
  pattern?: string;
  /** `date`: DD-MM-YYYY (the seeds' wire form, unlike JSON Schema's), a real calendar date; `email`: an address's shape. */
  format?: 'date' | 'email';
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  /** With `format: "date"`: the least and most whole years from the date to the workflow's today (UTC). */
  minAge?: number;
  maxAge?: number;
}

/** How a form asks for a string: `date` as day, month and year (a `format: "date"` property), the others as `<input type>`. */
export const INPUT_KINDS = ['text', 'email', 'tel', 'date'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/**
 * What a form shows for one property of a stage's schema, beside the schema (which only
 * validates): how to ask for it, the browser's autofill token, and the flow's own wording of
 * a refused rule (keyed by the problem code: `required`, `format`, `minAge`...).
 */
export interface FieldMeta {
  input?: InputKind;
  /** An HTML autofill field name (`name`, `email`, `tel`, `bday`...). */
  autocomplete?: string;
  messages?: Partial<Record<string, string>>;
}

export interface StageMeta {
  stage: StageKind;
  /** What the hosted page shows as the stage's heading, and its help text below it. */
  title?: string;
  description?: string;
  /** What the device submits for this stage; a provider stage without one takes `{}`. */
  schema?: JsonSchema;
  /** Per property of `schema`: UI hints and messages (see FieldMeta). */
  fields?: Record<string, FieldMeta>;
  provider?: ProviderName;
  params?: Record<string, unknown>;
  /** A provider stage's own words for a provider error, by the provider's code or the failure type. */
  providerErrors?: Record<string, string>;
  /**
   * A provider stage: the provider codes that mean the user's input was wrong, each with the
   * field it marks. Such a refusal takes the stage's INPUT_ERROR transition, back to a form, and
   * the form shows the code's `providerErrors` message at that field (src/flows/routes.ts).
   */
  inputErrors?: Record<string, string>;
  /** Per language, the stage's strings by key (see src/flows/translations.ts). */
  translations?: Record<string, Record<string, string>>;
  /** The tenant's pages the stage links beside its text (a consent stage: its terms and privacy notice). */
  links?: TenantLink[];
  /** Review stages: how long a reviewer has before the session is overdue (SLA_PATTERN). */
  sla?: string;
  /** Review stages: the reason codes a rejection may give (at least one). */
  reasons?: string[];
  /**
   * Review stages: what the reviewer is shown, as paths into the session's recorded results
   * (`identity.input.name`, `aadhaar.output.name`); nothing else of the session is.
   */
  show?: string[];
}

export interface FinalMeta {
  outcome: Outcome;
}

export interface GuardRef {
  type: string;
  params?: Record<string, unknown>;
}

export interface TransitionConfig {
  target: string;
  guard?: GuardRef;
}

export type TransitionsConfig = string | TransitionConfig | Array<string | TransitionConfig>;

export interface FlowStateConfig {
  type?: 'final';
  meta?: StageMeta | FinalMeta;
  on?: Record<string, TransitionsConfig>;
  /** Delayed transitions, keyed by milliseconds: the workflow runs them as Temporal timers. */
  after?: Record<string, TransitionsConfig>;
}

export interface FlowMachine {
  id: string;
  initial: string;
  states: Record<string, FlowStateConfig>;
}

/** What a session runs: one flow machine, resolved at creation and fixed for its life. */
export interface FlowDefinition {
  flowId: string;
  /** null when the session runs the flow's draft. */
  snapshotId: string | null;
  /** The most device steps a session of this flow may take; the session ends in `error` past it. */
  maxSteps: number;
  machine: FlowMachine;
}

/** A flow as stored in `flows/<id>.json`. */
export interface FlowFile {
  id: string;
  name: string;
  description?: string;
  /** Per language, what review its translations still need (for people: the loader only checks it is text). */
  translationReview?: Record<string, string>;
  active: boolean;
  maxSteps?: number;
  draft: FlowMachine;
  /** Published, immutable versions; each key is derived from its content (see snapshots.ts). */
  snapshots: Record<string, FlowMachine>;
}

export const DEFAULT_MAX_STEPS = 50;
/** Well under Temporal's 2,000 updates per run, and each run continues-as-new when asked. */
export const MAX_STEPS_LIMIT = 500;
