/**
 * Provider stages end to end: kyc-basic against the Attestr and Finqware sandboxes on
 * loopback, through a real worker on the real dev server; the error path; history budgets;
 * and the recording of the histories the replay test guards.
 */
import { BANK, completeAttestr, IDENTITY, recordHistory, runConsentOnly, runKycBasic, sandboxCall } from './helpers/flows';
import { sessionClosed } from './helpers/stack';
import { useStack } from './helpers/use-stack';
import { sessionWorkflowId } from '../src/session-secret';

const { stack } = useStack('providers');

async function historyEvents(sessionId: string) {
  return (await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory()).events ?? [];
}


test('kyc-basic completes end to end against the sandboxes', async () => {
  const { sessionId, answers } = await runKycBasic(stack, 'REF-kyc-e2e');
  const [identity, aadhaar, bank] = answers;
  expect(identity.data).toMatchObject({ step: 'aadhaar', kind: 'provider', handshakeId: expect.stringMatching(/^DS/) });
  expect(aadhaar.data).toMatchObject({ step: 'bank', kind: 'provider' });
  expect(aadhaar.data.schema).toMatchObject({ required: ['accountNumber', 'ifsc'] });
  expect(bank).toMatchObject({ status: 'SESSION_COMPLETED', nonce: null, data: { step: null, outcome: 'success' } });

  const { result, outcome, status } = await stack.gateway.result(sessionId);
  expect({ status, outcome }).toEqual({ status: 'consumed', outcome: 'success' });
  expect(Object.keys(result!)).toEqual(['identity', 'aadhaar', 'bank']);
  expect(result!.identity).toEqual({ input: IDENTITY, output: {} });
  expect(result!.aadhaar.output).toMatchObject({ handshakeId: identity.data.handshakeId, verified: true });
  expect(result!.bank).toMatchObject({ input: BANK, output: { status: 'SESSION_COMPLETED', data: { verified: true } } });

  // The sandboxes saw exactly the calls the flow needs, each once.
  const attestrCalls = (await sandboxCall(stack, 'GET', '/attestr/_calls')) as Array<{ method: string; path: string; status: number }>;
  expect(attestrCalls.filter((c) => c.method === 'POST').map((c) => c.status)).toEqual([200]);
  const finqwareCalls = (await sandboxCall(stack, 'GET', '/finqware/_calls')) as Array<{ path: string; status: number }>;
  expect(finqwareCalls.map((c) => c.status)).toEqual([200, 200]);

  const archived = await stack.gateway.archive(sessionId);
  expect(archived.status).toBe('archived');
  await sessionClosed(stack, sessionId);
  recordHistory(stack, 'kyc-basic', sessionId);
});

test('an Attestr result that lags behind the device is polled until it arrives', async () => {
  const { sessionId } = await stack.gateway.create({ clientId: 'tenant-a', tag: 'REF-kyc-lag', definition: stack.definition('kyc-basic') });
  const launch = await stack.gateway.launch(sessionId);
  const identity = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
  const submitted = stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await completeAttestr(stack, String(identity.data.handshakeId));
  const aadhaar = await submitted;
  expect(aadhaar.data.step).toBe('bank');
  const pending = (await historyEvents(sessionId)).filter(
    (e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1,
  );
  expect(pending.length).toBeGreaterThan(0); // the first fetch found no result and was retried
});

test('a provider rejection takes the flow to its error outcome and records the error', async () => {
  await sandboxCall(stack, 'POST', '/attestr/_faults', { status: 403, code: 4035, count: 1 });
  const { sessionId } = await stack.gateway.create({ clientId: 'tenant-a', tag: 'REF-kyc-rejected', definition: stack.definition('kyc-basic') });
  const launch = await stack.gateway.launch(sessionId);
  const answer = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
  expect(answer).toMatchObject({ status: 'SESSION_COMPLETED', data: { step: null, outcome: 'error' } });
  const { result, outcome } = await stack.gateway.result(sessionId);
  expect(outcome).toBe('error');
  expect(result!.aadhaar.output).toEqual({
    error: { type: 'ProviderRejected', message: expect.stringContaining('403'), provider: 'attestr', status: 403, code: '4035' },
  });
  // Permanent errors are not retried: one attempt reached the provider.
  const calls = (await sandboxCall(stack, 'GET', '/attestr/_calls')) as Array<{ status: number }>;
  expect(calls.filter((c) => c.status === 403)).toHaveLength(1);
  await stack.gateway.archive(sessionId);
  await sessionClosed(stack, sessionId);
  recordHistory(stack, 'kyc-basic-provider-error', sessionId);
});

test('history budget: completed consent-only and kyc-basic sessions stay small', async () => {
  const consent = await runConsentOnly(stack, 'REF-budget-consent');
  const consentEvents = (await historyEvents(consent)).length;
  const { sessionId: kyc } = await runKycBasic(stack, 'REF-budget-kyc');
  const kycEvents = (await historyEvents(kyc)).length;
  // Measured: consent-only 21 (18, then the retention timer and its patch marker), kyc-basic 52
  // events once consumed; the bounds leave a little room.
  expect(consentEvents).toBeLessThanOrEqual(23);
  expect(kycEvents).toBeLessThanOrEqual(56);

  await stack.gateway.archive(consent);
  await sessionClosed(stack, consent);
  recordHistory(stack, 'consent-only', consent);
});
