import { Webhook } from 'standardwebhooks';
import { standardWebhookSignature } from '../../src/activities/webhooks';
import { ConfigError, loadConfig } from '../../src/config';

test('the signature is what a Standard Webhooks library accepts, and only for that body', () => {
  const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ type: 'session.created', data: { sessionId: 'DS1' } });
  const headers = { 'webhook-id': 'DS1.1', 'webhook-timestamp': String(timestamp), 'webhook-signature': standardWebhookSignature(secret, 'DS1.1', timestamp, body) };
  expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  expect(() => new Webhook(secret).verify(body.replace('DS1', 'DS2'), headers)).toThrow();
});

describe('SESSIONFLOW_EVENT_RULES', () => {
  test('rules are read with their defaults', () => {
    const rules = [{ type: 'a', action: 'start', flow: 'consent-only' }, { type: 'b', action: 'deliver' }, { type: 'c', action: 'archive' }];
    expect(loadConfig({ SESSIONFLOW_EVENT_RULES: JSON.stringify(rules) }).eventRules).toEqual([
      { type: 'a', action: 'start', flowId: 'consent-only', snapshot: null },
      { type: 'b', action: 'deliver' },
      { type: 'c', action: 'archive' },
    ]);
    expect(loadConfig({}).eventRules).toEqual([]);
  });

  test.each([
    ['{', 'must be a JSON array of rules (it is not valid JSON)'],
    ['{}', 'must be a JSON array of rules'],
    ['[{"action":"deliver"}]', 'rule 1 needs a type'],
    ['[{"type":"a","action":"explode"}]', 'rule 1: action must be start, deliver or archive'],
    ['[{"type":"a","action":"start"}]', 'rule 1: a start rule needs a flow'],
    ['[{"type":"a","action":"deliver"},{"type":"a","action":"archive"}]', 'rule 2: type "a" has a rule already'],
    ['[{"type":"a","action":"start","flow":"f","webhook":"yes"}]', 'rule 1: webhook must be true or false'],
  ])('%s is refused', (value, problem) => {
    let error: unknown;
    try {
      loadConfig({ SESSIONFLOW_EVENT_RULES: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`SESSIONFLOW_EVENT_RULES ${problem}`);
  });
});
