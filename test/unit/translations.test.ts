import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldErrors } from '../../src/api/field-errors';
import { localizePrompt } from '../../src/api/localize';
import { FlowCatalog } from '../../src/flows/catalog';
import { stageInfo } from '../../src/flows/core/engine';
import type { FlowFile } from '../../src/flows/core/types';
import { validateFlowMachine } from '../../src/flows/validate';

// Flows here are broken on purpose, so they are plain JSON.
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const sample = (id: string): Json => JSON.parse(readFileSync(join(__dirname, '..', '..', 'flows', `${id}.json`), 'utf8'));

function load(flow: Json): { ok: boolean; problems: string[] } {
  try {
    FlowCatalog.fromFiles([{ file: `${flow.id}.json`, text: JSON.stringify(flow) }]);
    return { ok: true, problems: [] };
  } catch (err) {
    return { ok: false, problems: (err as { problems: string[] }).problems };
  }
}

describe('a flow\'s translations at load', () => {
  it('loads both sample flows, whose drafts declare hi in every stage', () => {
    for (const id of ['kyc-basic', 'consent-only']) {
      const flow = sample(id);
      expect(load(flow)).toEqual({ ok: true, problems: [] });
      expect(flow.translationReview.hi).toMatch(/native/);
    }
  });

  it('refuses a flow declaring hi that lacks one of its strings, naming the key', () => {
    const flow = sample('kyc-basic');
    delete flow.draft.states.identity.meta.translations.hi['birthDate.messages.minAge'];
    const loaded = load(flow);
    expect(loaded.ok).toBe(false);
    expect(loaded.problems).toEqual(['draft: state "identity" meta.translations.hi lacks "birthDate.messages.minAge"']);
  });

  it('refuses a stage without the table of a language another stage declares, naming each key', () => {
    const flow = sample('kyc-basic');
    delete flow.draft.states.aadhaar.meta.translations;
    expect(load(flow).problems).toEqual([
      'draft: state "aadhaar" meta.translations.hi is missing (the flow declares hi): it lacks "title", "description", "providerErrors.ProviderResultPending", "providerErrors.ProviderSignatureInvalid"',
    ]);
  });

  it('refuses a key the stage has no English string for, an empty text and a malformed language tag', () => {
    const machine = sample('consent-only').draft;
    machine.states.consent.meta.translations.hi['accepted.oneOf.yes'] = 'हाँ';
    machine.states.consent.meta.translations.hi.title = ' ';
    expect(validateFlowMachine(machine)).toEqual([
      'state "consent" meta.translations.hi.title must be a non-empty string',
      'state "consent" meta.translations.hi has "accepted.oneOf.yes", which the stage has no English string for',
    ]);
    const other = sample('consent-only').draft;
    other.states.consent.meta.translations = { 'Hindi!': {} };
    expect(validateFlowMachine(other)).toEqual(['meta.translations "Hindi!" is not a language tag (like hi or en-GB)']);
  });

  it('refuses provider error messages that are not text, and a translationReview that is not', () => {
    const flow = sample('kyc-basic');
    flow.draft.states.bank.meta.providerErrors.ProviderSignatureInvalid = 42;
    flow.translationReview = 'review me';
    expect(load(flow).problems).toEqual([
      'translationReview must be an object of language: note (what review a translation still needs)',
      'draft: state "bank" meta.providerErrors.ProviderSignatureInvalid must be a non-empty string',
    ]);
  });
});

describe('the api words a stage in the language it answers in', () => {
  const kyc = (sample('kyc-basic') as FlowFile).draft;

  it('translates the titles, help, labels and the flow\'s messages, and removes the tables', () => {
    const identity = stageInfo(kyc, 'identity')!;
    const prompt = { step: 'identity', kind: identity.kind, title: identity.title, description: identity.description, schema: identity.schema, fields: identity.fields, translations: identity.translations };
    const hi = localizePrompt(prompt, 'hi');
    expect(hi.title).toBe('आपका नाम और जन्म तिथि');
    expect(hi.schema!.properties!.birthDate.title).toBe('जन्म तिथि');
    expect(hi.fields!.birthDate.messages!.minAge).toMatch(/18/);
    expect(hi).not.toHaveProperty('translations');
    const en = localizePrompt(prompt, 'en');
    expect(en.title).toBe('Your name and date of birth');
    expect(en).not.toHaveProperty('translations');
  });

  it('puts the flow\'s words in place of a provider error\'s text, the page\'s own when the flow has none', () => {
    const aadhaar = stageInfo(kyc, 'aadhaar')!;
    const pending = { type: 'ProviderResultPending', message: 'attestr has no result for this handshake yet', provider: 'attestr' };
    const prompt = { step: 'aadhaar', title: aadhaar.title, providerErrors: aadhaar.providerErrors, translations: aadhaar.translations, error: pending };
    expect(localizePrompt(prompt, 'en').error).toEqual({ ...pending, text: 'Attestr has not finished checking yet. Finish the check there, then choose Try again.' });
    expect((localizePrompt(prompt, 'hi').error as unknown as { text: string }).text).toMatch(/^Attestr ने अभी/);
    expect(localizePrompt(prompt, 'hi')).not.toHaveProperty('providerErrors');
    const unknown = { ...prompt, error: { type: 'ProviderUnavailable', code: 'E42', message: 'upstream down' } };
    expect((localizePrompt(unknown, 'hi').error as unknown as { text: string }).text).toBe('इस बार जाँच पूरी नहीं हो सकी।');
    const byCode = { ...prompt, providerErrors: { E42: 'Your bank said no' }, translations: undefined, error: { type: 'ProviderRejected', code: 'E42' } };
    expect((localizePrompt(byCode, 'hi').error as unknown as { text: string }).text).toBe('Your bank said no');
  });

  it('words invalid_data in the language, the flow\'s translated message first, params unchanged', () => {
    const identity = stageInfo(kyc, 'identity')!;
    const details = {
      problems: [{ path: '/name', code: 'required' as const }, { path: '/birthDate', code: 'minAge' as const, params: { limit: 18 } }],
      schema: identity.schema,
      fields: identity.fields,
      translations: identity.translations,
    };
    expect(fieldErrors(details, 'hi')).toEqual([
      { param: '/name', rule: 'required', message: 'पूरा नाम दर्ज करें' },
      { param: '/birthDate', rule: 'minAge', message: 'आगे बढ़ने के लिए आपकी आयु कम से कम 18 वर्ष होनी चाहिए', params: { limit: 18 } },
    ]);
    expect(fieldErrors(details, 'en').map((e) => e.message)).toEqual(['Enter your full name', 'You must be 18 or older to continue']);
  });
});
