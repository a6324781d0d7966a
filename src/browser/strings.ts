/**
 * Every string the hosted page shows, in one place, in English; each other language has its
 * file (strings-hi.ts) typed by this one, so a key added here fails to compile until each
 * translation has it too (and test/unit/page-strings.test.ts names it). The
 * api words refused step data from FIELD_PROBLEMS here too, so the page and API clients read
 * the same text. No string takes personal data; the page fills in only stage and field titles
 * from the flow.
 */

/** How a field is asked for, which decides how its refusals are worded. */
export type FieldKind = 'text' | 'email' | 'tel' | 'date' | 'number' | 'choice' | 'boolean';

/** What a refusal's wording may use: the field's label, its kind, and the rule's limit, type or format. */
export interface ProblemWording {
  label: string;
  kind: FieldKind;
  params: { limit?: number; type?: string; format?: string };
}

const DATE_EXAMPLE = '24 01 1990';

/** A label inside a sentence: "Date of birth" becomes "date of birth"; a first word in capitals ("IFSC code") stays. */
function inSentence(label: string): string {
  const first = label.split(' ')[0];
  return /[A-Z]/.test(first.slice(1)) ? label : label.charAt(0).toLowerCase() + label.slice(1);
}

function enter({ label, kind }: ProblemWording): string {
  if (kind === 'date') return `Enter your ${inSentence(label)}, for example ${DATE_EXAMPLE}`;
  if (kind === 'choice') return `Select your ${inSentence(label)}`;
  if (kind === 'boolean') return `Choose Yes or No for “${label}”`;
  return `Enter your ${inSentence(label)}`;
}

const limit = (wording: ProblemWording): number => wording.params.limit ?? 0;

/**
 * A refused rule in plain language, by problem code (src/flows/core/schema.ts PROBLEM_CODES):
 * what to do, never a pattern or the value sent. A flow's meta.fields messages replace these.
 */
export const FIELD_PROBLEMS = {
  required: enter,
  type: (w: ProblemWording) =>
    w.params.type === 'number' ? `Enter your ${inSentence(w.label)} as a number`
    : w.params.type === 'integer' ? `Enter your ${inSentence(w.label)} as a whole number`
    : w.params.type === 'boolean' || w.params.type === 'string' ? enter(w)
    : `${w.label} is not in the form this step asks for`,
  additionalProperties: (w: ProblemWording) => `${w.label} is not asked for in this step`,
  const: (w: ProblemWording) => `Check your answer to “${w.label}”`,
  enum: (w: ProblemWording) => `Select your ${inSentence(w.label)} from the list`,
  oneOf: (w: ProblemWording) => `Select your ${inSentence(w.label)} from the list`,
  pattern: (w: ProblemWording) => `Enter your ${inSentence(w.label)} in the right format`,
  format: (w: ProblemWording) =>
    w.params.format === 'date' ? `${w.label} must be a real date, for example ${DATE_EXAMPLE}` : `Enter your ${inSentence(w.label)} in the right format, like name@example.com`,
  minLength: (w: ProblemWording) => (limit(w) <= 1 ? enter(w) : `${w.label} must be ${limit(w)} characters or more`),
  maxLength: (w: ProblemWording) => `${w.label} must be ${limit(w)} characters or fewer`,
  minimum: (w: ProblemWording) => `${w.label} must be ${limit(w)} or more`,
  maximum: (w: ProblemWording) => `${w.label} must be ${limit(w)} or less`,
  minItems: (w: ProblemWording) => `${w.label} needs at least ${limit(w)} ${limit(w) === 1 ? 'answer' : 'answers'}`,
  maxItems: (w: ProblemWording) => `${w.label} takes at most ${limit(w)} ${limit(w) === 1 ? 'answer' : 'answers'}`,
  minAge: (w: ProblemWording) => (limit(w) === 0 ? `${w.label} must be today or in the past` : `${w.label} must be at least ${limit(w)} years ago`),
  // An age of at most N: born less than N + 1 years ago.
  maxAge: (w: ProblemWording) => `${w.label} must be less than ${limit(w) + 1} years ago`,
} as const;

/** A property name as a label when its schema has no title: birthDate -> Birth date. */
export function labelFromName(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const STRINGS = {
  lang: 'en',
  /** The language's own name, in the switcher of every other language. */
  languageName: 'English',
  /** The switcher's accessible name. */
  languageNav: 'Language',
  documentTitle: 'Verification',
  noScript: 'This page needs JavaScript to guide you through the verification.',
  startHeading: "Let's get started",
  startText: 'This takes a few minutes. Your progress is kept if you leave and come back on this device.',
  startButton: 'Start',
  resuming: 'Picking up where you left off…',
  continueButton: 'Continue',
  submitButton: 'Continue',
  tryAgainButton: 'Try again',
  yes: 'Yes',
  no: 'No',
  chooseOne: 'Choose one',
  requiredMark: '(required)',
  errorSummaryHeading: 'There is a problem',
  /** What a refusal of the step's data as a whole calls it. */
  answersLabel: 'Your answers',
  errorPrefix: 'Error:',
  dateDay: 'Day',
  dateMonth: 'Month',
  dateYear: 'Year',
  dateHint: `For example, ${DATE_EXAMPLE}`,
  working: 'Working on it. This can take a moment; please keep this page open.',
  providerWaiting: 'Checking with the provider…',
  attestrHeading: 'Continue with Attestr',
  attestrText: 'Attestr verifies your identity document. When you are done there, you come back here.',
  attestrButton: 'Continue with Attestr',
  attestrVendorText: 'Open Attestr to continue; this page goes on by itself once you finish there.',
  providerRetryable: 'The check could not be completed this time.',
  waitHeading: "We'll continue when the next step is ready",
  waitText: 'Nothing to do for now. This page updates by itself; you may also close it and come back later.',
  waitStatus: (status: string) => `Current status: ${status}`,
  statusNames: {
    SESSION_CREATED: 'not started',
    SESSION_IN_PROGRESS: 'in progress',
    SESSION_COMPLETED: 'finished',
    SESSION_EXPIRED: 'expired',
    SESSION_ARCHIVED: 'closed',
  } as Record<string, string>,
  successHeading: 'All done',
  successText: 'Thank you. Your verification is complete.',
  errorHeading: 'We could not complete your verification',
  errorText: 'Something did not work out. The organisation that sent you here will tell you what happens next.',
  skippedHeading: 'You did not continue',
  skippedText: 'Nothing more is needed from you here.',
  expiredHeading: 'This link has expired',
  expiredText: 'Ask the organisation that sent you here for a new link.',
  endedHeading: 'This session has ended',
  endedText: 'Nothing more can be done with this link. If you need to, ask the organisation that sent you here for a new one.',
  elsewhereHeading: 'This session is open on another device',
  elsewhereText: 'For your security it continues on one device at a time. To continue here, choose “Continue on your phone” on the device where you started, or ask the organisation that sent you here for a new link.',
  notFoundHeading: 'This link is not valid',
  notFoundText: 'Check that you opened the whole link, or ask for a new one.',
  failedHeading: 'Something went wrong',
  failedText: 'Please try again in a moment.',
  redirecting: 'Taking you back…',
  returnLink: 'Go back now',
  /** Above a stage's heading, from the flow (src/api/hosted/progress.ts). */
  progress: (position: number, total: number) => `Step ${position} of ${total}`,
  termsLink: 'Terms of service',
  privacyLink: 'Privacy notice',
  supportLink: 'Help and support',
  opensInNewTab: '(opens in a new tab)',
  /** The link back to the tenant on a page opened after the session ended (no automatic redirect then). */
  returnLinkLater: 'Go back to where you came from',
  // Ways back (issue 28, items 3 and 4): the Back button of a stage whose flow goes back from it.
  backButton: 'Back',

  // Continuing on another device (src/browser/handoff.ts): the offer, the page that follows, the claim.
  handoffButton: 'Continue on your phone',
  handoffHeading: 'Continue on your phone',
  handoffText: 'Scan this code with your phone’s camera, or open the link below on your phone.',
  handoffExpiry: (minutes: number) => `The link works once, for ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`,
  handoffQrLabel: 'QR code of the link to continue on your phone',
  handoffWaiting: 'Waiting for your phone…',
  handoffCancel: 'Continue on this device instead',
  movedHeading: 'Continuing on your other device',
  movedText: 'Carry on there. This page follows along and shows when you are done.',
  movedEndHeading: 'Finished on your other device',
  movedEndText: 'Nothing more is needed on this device.',
  claimHeading: 'Continue on this device',
  claimText: 'Your verification moves here from the device where you started. That device stops and only follows along.',
  claimButton: 'Continue here',
  handoffUsedHeading: 'This link has been used already',
  handoffUsedText: 'Each link works once. Make a new one on the device where you started, or ask the organisation that sent you here for a new link.',
  handoffExpiredHeading: 'This link has expired',
  handoffExpiredText: 'Links to continue on another device work for a short time. Make a new one on the device where you started, or ask the organisation that sent you here for a new link.',
} as const;

/** Functions keep their parameters; texts are any string in a translation. */
type Widen<T> = T extends string ? string : T;

/** What each language's strings file holds: the English keys, every one. */
export type Strings = { readonly [K in keyof typeof STRINGS]: Widen<(typeof STRINGS)[K]> };
export type FieldProblems = { readonly [K in keyof typeof FIELD_PROBLEMS]: (wording: ProblemWording) => string };
