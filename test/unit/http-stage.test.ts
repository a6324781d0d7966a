import { fillSecrets, httpParamsProblems, HttpStageInputError, renderHttpRequest, type HttpStageParams } from '../../src/flows/core/http-stage';
import { validateFlowMachine } from '../../src/flows/validate';

const session = { ref: '0123456789abcdef0123456789abcdef', tag: 'REF 1/2' };

describe('renderHttpRequest', () => {
  const params: HttpStageParams = {
    method: 'POST',
    url: 'https://partner.example/v1/{{input.country}}/check?tag={{session.tag}}',
    headers: { authorization: 'Bearer {{secrets.TOKEN}}', 'x-session': '{{session.ref}}' },
    body: { whole: '{{input.amount}}', nested: { list: ['{{input.country}}', 3] }, text: 'n={{input.amount}}', missing: '{{input.nope}}' },
    expectedStatuses: [201],
  };

  test('fills input and session values, URL-encoding them in the URL only, and keeps secrets for later', () => {
    const spec = renderHttpRequest(params, { input: { country: 'IN', amount: 250 }, session });
    expect(spec).toEqual({
      method: 'POST',
      url: 'https://partner.example/v1/IN/check?tag=REF%201%2F2',
      headers: { authorization: ['Bearer ', { secret: 'TOKEN' }], 'x-session': [session.ref] },
      body: { whole: 250, nested: { list: ['IN', 3] }, text: 'n=250', missing: null },
      expectedStatuses: [201],
    });
  });

  test('{{session.ref}} and its old name {{session.id}} both render the ref', () => {
    const both: HttpStageParams = { method: 'POST', url: 'https://x.example/{{session.ref}}/{{session.id}}', headers: { a: '{{session.ref}}', b: '{{session.id}}' }, body: { ref: '{{session.ref}}', id: '{{session.id}}' } };
    const spec = renderHttpRequest(both, { input: {}, session });
    expect(spec.url).toBe(`https://x.example/${session.ref}/${session.ref}`);
    expect(spec.headers).toEqual({ a: [session.ref], b: [session.ref] });
    expect(spec.body).toEqual({ ref: session.ref, id: session.ref });
  });

  test('does not read inherited properties as input', () => {
    const spec = renderHttpRequest({ method: 'GET', url: 'https://x.example/{{input.constructor}}' }, { input: {}, session });
    expect(spec.url).toBe('https://x.example/');
    expect(spec.expectedStatuses).toBeNull();
  });
});

describe('fillSecrets', () => {
  test('fills known secrets and names an unknown one without revealing any value', () => {
    expect(fillSecrets({ a: ['Bearer ', { secret: 'TOKEN' }], b: ['plain'] }, { TOKEN: 's3cret' })).toEqual({ a: 'Bearer s3cret', b: 'plain' });
    expect(() => fillSecrets({ a: [{ secret: 'OTHER' }] }, { TOKEN: 's3cret' })).toThrow('the http stage needs the secret "OTHER", which HTTP_STAGE_SECRETS does not define');
  });

  test('input that looks like a secret reference stays literal text', () => {
    const spec = renderHttpRequest({ method: 'GET', url: 'https://x.example', headers: { 'x-ref': 'ref {{input.ref}}' } }, { input: { ref: '{{secrets.TOKEN}}' }, session });
    expect(fillSecrets(spec.headers, { TOKEN: 's3cret' })).toEqual({ 'x-ref': 'ref {{secrets.TOKEN}}' });
  });

  test.each(['.', '..', '%2e%2E'])('an input of %s cannot go into the URL', (value) => {
    expect(() => renderHttpRequest({ method: 'GET', url: 'https://x.example/a/{{input.v}}/b' }, { input: { v: value }, session })).toThrow(HttpStageInputError);
  });
});

describe('httpParamsProblems', () => {
  test.each([
    [undefined, 'an http stage needs meta.params { method, url }'],
    [{ method: 'TRACE', url: 'https://x.example' }, 'params.method must be one of GET, POST, PUT, PATCH, DELETE'],
    [{ method: 'GET', url: 'ftp://x.example' }, 'params.url must be an http(s) URL template'],
    [{ method: 'GET', url: 'https://x.example/{{secrets.T}}' }, 'params.url must not contain secrets (they belong in headers)'],
    [{ method: 'GET', url: 'https://x.example', headers: { a: 1 } }, 'params.headers must map names to string templates'],
    [{ method: 'POST', url: 'https://x.example', body: { t: '{{secrets.T}}' } }, 'params.body must not contain secrets'],
    [{ method: 'GET', url: 'https://x.example', expectedStatuses: [99] }, 'params.expectedStatuses must be a list of HTTP statuses'],
  ])('%j', (value, problem) => {
    expect(httpParamsProblems(value)).toEqual([problem]);
  });

  test('the flow loader reports them on the stage', () => {
    const machine = {
      id: 'h',
      initial: 'call',
      states: {
        call: { meta: { stage: 'provider', provider: 'http', params: { method: 'GET' } }, on: { DONE: 'ok', ERROR: 'ok' } },
        ok: { type: 'final', meta: { outcome: 'success' } },
      },
    };
    expect(validateFlowMachine(machine)).toEqual(['state "call" params.url must be an http(s) URL template']);
  });
});
