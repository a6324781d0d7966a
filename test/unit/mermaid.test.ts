import { mermaidLabel, toMermaid } from '../../src/flows/mermaid';
import type { FlowMachine } from '../../src/flows/core/types';
import { validateFlowMachine } from '../../src/flows/validate';
import { sampleDraft, sampleFlow } from './fixtures';

const lines = (...text: string[]): string => `${text.join('\n')}\n`;

describe('toMermaid: sample flows', () => {
  it('draws consent-only', () => {
    expect(toMermaid(sampleDraft('consent-only'))).toBe(
      lines(
        'stateDiagram-v2',
        '[*] --> consent',
        'consent : Accept the terms (input)',
        'accepted : success',
        'declined : skipped',
        'consent --> accepted : SUBMIT [equals input.accepted = true]',
        'consent --> declined : SUBMIT',
        'accepted --> [*]',
        'declined --> [*]',
      ),
    );
  });

  it('draws kyc-basic: a name that differs from the national ID goes to review', () => {
    expect(toMermaid(sampleDraft('kyc-basic'))).toBe(
      lines(
        'stateDiagram-v2',
        '[*] --> identity',
        'identity : Your name and date of birth (input)',
        'aadhaar : Verify your Aadhaar with Attestr (provider)',
        "review : We're checking your details (review)",
        'bank : Link your bank account (provider)',
        'verified : success',
        'failed : error',
        'identity --> aadhaar : SUBMIT',
        'aadhaar --> bank : DONE [namesMatch result.identity.input.name]',
        'aadhaar --> review : DONE',
        'aadhaar --> failed : ERROR',
        'review --> bank : APPROVED',
        'review --> failed : REJECTED',
        'bank --> verified : DONE',
        'bank --> bank : INPUT_ERROR',
        'bank --> failed : ERROR',
        'verified --> [*]',
        'failed --> [*]',
      ),
    );
  });

  it('draws a published snapshot as it was published (kyc-basic before its review stage), whose transitions are all string shorthands', () => {
    const flow = sampleFlow('kyc-basic');
    const [snapshot] = Object.values(flow.snapshots);
    expect(toMermaid(snapshot)).toBe(
      lines(
        'stateDiagram-v2',
        '[*] --> identity',
        'identity : Your name and date of birth (input)',
        'aadhaar : Verify your Aadhaar with Attestr (provider)',
        'bank : Link your bank account (provider)',
        'verified : success',
        'failed : error',
        'identity --> aadhaar : SUBMIT',
        'aadhaar --> bank : DONE',
        'aadhaar --> failed : ERROR',
        'bank --> verified : DONE',
        'bank --> failed : ERROR',
        'verified --> [*]',
        'failed --> [*]',
      ),
    );
  });
});

describe('toMermaid: delays, exists guards and awkward text', () => {
  const machine: FlowMachine = {
    id: 'awkward',
    initial: 'ask',
    states: {
      ask: {
        meta: { stage: 'input', title: 'Step 1: "Name"; #1', schema: { type: 'object' } },
        on: {
          SUBMIT: [
            { target: 'id-check', guard: { type: 'equals', params: { path: 'input.kind', value: 'a:b' } } },
            { target: 'hold', guard: { type: 'exists', params: { path: 'input.later' } } },
            'done',
          ],
        },
      },
      'id-check': { meta: { stage: 'provider', provider: 'attestr', params: { flow: 'FXtest' } }, on: { DONE: 'done', ERROR: 'failed' } },
      hold: {
        meta: { stage: 'wait', title: 'Wait for\n  the bank' },
        on: { EVENT: { target: 'done' } },
        // Written longest first: delays are listed by length.
        after: { '86400000': 'failed', '1500': [{ target: 'ask', guard: { type: 'exists', params: { path: 'input.retry' } } }, 'hold'] },
      },
      done: { type: 'final', meta: { outcome: 'success' } },
      failed: { type: 'final', meta: { outcome: 'error' } },
    },
  };

  it('is a machine the loader accepts', () => {
    expect(validateFlowMachine(machine)).toEqual([]);
  });

  it('labels delays, guards and escapes the text Mermaid cannot take', () => {
    expect(toMermaid(machine)).toBe(
      lines(
        'stateDiagram-v2',
        '[*] --> ask',
        'ask : Step 1#58; #quot;Name#quot;#59; #35;1 (input)',
        'id_check : id-check (provider)',
        'hold : Wait for the bank (wait)',
        'done : success',
        'failed : error',
        'ask --> id_check : SUBMIT [equals input.kind = #quot;a#58;b#quot;]',
        'ask --> hold : SUBMIT [exists input.later]',
        'ask --> done : SUBMIT',
        'id_check --> done : DONE',
        'id_check --> failed : ERROR',
        'hold --> done : EVENT',
        'hold --> ask : after 1500 ms [exists input.retry]',
        'hold --> hold : after 1500 ms',
        'hold --> failed : after 86400000 ms',
        'done --> [*]',
        'failed --> [*]',
      ),
    );
  });

  it('gives states Mermaid would misread a safe id, without clashing with real names', () => {
    const keywords: FlowMachine = {
      id: 'keywords',
      initial: 'note',
      states: {
        note: { meta: { stage: 'input', schema: { type: 'object' } }, on: { SUBMIT: 'a-b' } },
        'a-b': { meta: { stage: 'wait' }, on: { EVENT: 'a_b' } },
        a_b: { meta: { stage: 'wait' }, on: { EVENT: 'defaultEnd' } },
        defaultEnd: { type: 'final', meta: { outcome: 'skipped' } },
      },
    };
    expect(validateFlowMachine(keywords)).toEqual([]);
    expect(toMermaid(keywords)).toBe(
      lines(
        'stateDiagram-v2',
        '[*] --> s_note',
        's_note : note (input)',
        'a_b_2 : a-b (wait)',
        'a_b : a_b (wait)',
        's_defaultEnd : skipped',
        's_note --> a_b_2 : SUBMIT',
        'a_b_2 --> a_b : EVENT',
        'a_b --> s_defaultEnd : EVENT',
        's_defaultEnd --> [*]',
      ),
    );
  });
});

describe('mermaidLabel', () => {
  it('escapes label breakers as Mermaid entities and folds whitespace', () => {
    expect(mermaidLabel('a: b; "c" #d')).toBe('a#58; b#59; #quot;c#quot; #35;d');
    expect(mermaidLabel('  one\r\n\ttwo  ')).toBe('one two');
    expect(mermaidLabel('<b>&amp; 100%</b>')).toBe('#lt;b#gt;#amp;amp#59; 100#37;#lt;/b#gt;');
    expect(mermaidLabel('{"a":[1,"x"]}')).toBe('{#quot;a#quot;#58;[1,#quot;x#quot;]}');
  });

  it('keeps "direction TB" in a label from reading as a direction statement', () => {
    expect(mermaidLabel('Pick a direction  lr please')).toBe('Pick a direction#32;lr please');
    expect(mermaidLabel('directions tb')).toBe('directions tb');
  });
});
