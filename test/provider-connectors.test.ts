/**
 * Provider connectors beyond retries: Attestr's completion webhook into the session, a
 * tampered result signature, the Finqware nonce chain across a worker crash, and the generic
 * http stage with secrets kept out of workflow history.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signResult } from '../src/util/result-signature';
import { freePort } from '../scripts/dev-server';
import { startApi, type Api } from './helpers/api';
import { BANK, completeAttestr, IDENTITY, inlineFlow, kycAtAadhaar, sandboxCall } from './helpers/flows';
import { activityScheduled, eventually, killWorker, SANDBOX_CREDENTIALS, startStack, type Stack } from './helpers/stack';
import { sessionRef, sessionWorkflowId } from '../src/session-secret';

const HTTP_SECRET = 'http-stage-secret-value-0123';

let stack: Stack;
let api: Api;

beforeAll(async () => {
  const apiPort = await freePort();
  stack = await startStack('connectors', { webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/attestr` }, {
    HTTP_STAGE_SECRETS: JSON.stringify({ PARTNER_TOKEN: HTTP_SECRET }),
  });
  await stack.startWorker();
  api = await startApi(stack, undefined, undefined, apiPort);
});

afterAll(async () => {
  await api?.close();
  await stack?.stop();
});

async function activityNames(sessionId: string): Promise<string[]> {
  const events = (await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory()).events ?? [];
  return events.flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
}

describe("Attestr's completion webhook", () => {
  test('wakes the session, which fetches and verifies the result once; the stage then uses it without asking Attestr again', async () => {
    const { sessionId, identity, handshakeId } = await kycAtAadhaar(stack, 'REF-webhook');
    await completeAttestr(stack, handshakeId);
    const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
    await eventually(async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const fetch = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'attestrFetchVerifiedResult');
      return fetch && events.some((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(fetch.eventId)) ? true : undefined;
    }, 10_000, 'the wake-up fetch to complete');
    const signals = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'attestrResult');
    // The signal carries nothing: the session takes no fact from it.
    expect(signals.map((e) => e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? [])).toEqual([[]]);
    const aadhaar = await stack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
    expect(aadhaar.data.step).toBe('bank');
    expect((await activityNames(sessionId)).filter((name) => name === 'attestrFetchVerifiedResult')).toHaveLength(1);
    // One fetch by id, the session's own; the api asked Attestr nothing.
    const calls = (await sandboxCall(stack, 'GET', '/attestr/_calls')) as Array<{ method: string; path: string }>;
    expect(calls.filter((c) => c.method === 'GET' && c.path.includes(handshakeId))).toHaveLength(1);
  });

  test('a webhook whose signature does not verify, or that names no session, is refused and changes nothing', async () => {
    const { sessionId, handshakeId } = await kycAtAadhaar(stack, 'REF-webhook-forged');
    const result = { FSforged: { input: {}, output: { name: 'Forged' } } };
    const forged = await api.call('POST', '/webhooks/attestr', {
      body: { event: 'handshake.completed', _id: handshakeId, tag: `${sessionRef(sessionId)}.aadhaar.2`, result, resultSignature: signResult(result, 'not-the-secret') },
      as: null,
    });
    expect(forged).toMatchObject({ status: 401, body: { code: 4016 } });
    const events = (await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory()).events ?? [];
    expect(events.some((e) => e.workflowExecutionSignaledEventAttributes)).toBe(false);

    const signed = { result, resultSignature: signResult(result, SANDBOX_CREDENTIALS.attestr.secret) };
    for (const tag of ['x', 'device-client-x.aadhaar.2', `${'0'.repeat(32)}.aadhaar.2`]) {
      const unknown = await api.call('POST', '/webhooks/attestr', { body: { _id: 'DSnosuchhandshake', tag, ...signed }, as: null });
      expect(unknown).toMatchObject({ status: 403, body: { code: 4031 } });
    }
  });

  test("a validly signed result replayed under this session's tag only wakes it: Attestr, asked, has no result, and nothing changes", async () => {
    const { sessionId, handshakeId } = await kycAtAadhaar(stack, 'REF-webhook-replayed');
    const result = { FSreplayed: { input: {}, output: { name: 'Replayed' } } };
    const body = { _id: handshakeId, tag: `${sessionRef(sessionId)}.aadhaar.2`, result, resultSignature: signResult(result, SANDBOX_CREDENTIALS.attestr.secret) };
    const replayed = await api.call('POST', '/webhooks/attestr', { body, as: null });
    expect(replayed).toMatchObject({ status: 202, body: { received: true } });
    await eventually(async () => ((await activityNames(sessionId)).includes('attestrFetchVerifiedResult') ? true : undefined), 10_000, 'the wake-up fetch');
    await eventually(async () => ((await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).describe()).raw.pendingActivities?.length ? undefined : true));
    const view = await stack.gateway.view(sessionId);
    expect(view.status).toMatchObject({ status: 'in_progress', stage: 'aadhaar' });
    expect(JSON.stringify(view.result)).not.toContain('Replayed');
  });
});

describe('without a webhook', () => {
  let quiet: Stack;

  beforeAll(async () => {
    quiet = await startStack('connectors-quiet');
    await quiet.startWorker();
  });

  afterAll(async () => {
    await quiet?.stop();
  });

  test('a tampered resultSignature fails the stage clearly; the session stays in progress and a retry can succeed', async () => {
    const { sessionId } = await quiet.gateway.create({ tenantId: 'tenant-a', tag: 'REF-tampered', definition: quiet.definition('kyc-basic') });
    const launch = await quiet.gateway.launch(sessionId);
    const identity = await quiet.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
    await completeAttestr(quiet, String(identity.data.handshakeId));
    await sandboxCall(quiet, 'POST', '/attestr/_faults', { badSignature: true, count: 1 });

    const failed = await quiet.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });
    expect(failed).toMatchObject({
      status: 'SESSION_IN_PROGRESS',
      data: { step: 'aadhaar', error: { type: 'ProviderSignatureInvalid', provider: 'attestr', message: 'attestr result signature does not verify' } },
    });
    expect(failed.nonce).not.toBe(identity.nonce);
    const view = await quiet.gateway.view(sessionId);
    // The failed try counts against the flow's step budget (it cost provider calls), nothing else moved.
    expect(view.status).toMatchObject({ status: 'in_progress', stage: 'aadhaar', stepCount: 2 });
    expect(view.result.result).toBeNull();

    const retried = await quiet.gateway.submitStep(sessionId, { nonce: failed.nonce!, step: 'aadhaar', input: {} });
    expect(retried.data.step).toBe('bank');
  });

  test('the worker killed between a Finqware step call and its recording: the chain continues with the right nonce', async () => {
    const crashStack = await startStack('connectors-crash');
    try {
      const first = await crashStack.spawnWorker();
      const { sessionId } = await crashStack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-fq-crash', definition: crashStack.definition('kyc-basic') });
      const launch = await crashStack.gateway.launch(sessionId);
      const identity = await crashStack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'identity', input: IDENTITY });
      await completeAttestr(crashStack, String(identity.data.handshakeId));
      const aadhaar = await crashStack.gateway.submitStep(sessionId, { nonce: identity.nonce!, step: 'aadhaar', input: {} });

      // The session create answers at once; Finqware applies the step call, then holds its
      // answer 3 s, and the worker that sent it dies meanwhile: the nonce moved on at Finqware
      // but the workflow never recorded it.
      await sandboxCall(crashStack, 'POST', '/finqware/_faults', { delayMs: 1, count: 1 });
      await sandboxCall(crashStack, 'POST', '/finqware/_faults', { holdMs: 3_000, count: 1 });
      const submitted = crashStack.gateway.submitStep(sessionId, { nonce: aadhaar.nonce!, step: 'bank', input: BANK });
      await activityScheduled(crashStack, sessionId, 'finqwareSubmitStep');
      await new Promise((resolve) => setTimeout(resolve, 700));
      await killWorker(first);
      await crashStack.spawnWorker();

      const bank = await submitted;
      expect(bank).toMatchObject({ status: 'SESSION_COMPLETED', data: { outcome: 'success' } });
      type Call = { path: string; status: number; replayed?: true };
      const steps = ((await sandboxCall(crashStack, 'GET', '/finqware/_calls')) as Call[]).filter((c) => c.path.endsWith('/steps'));
      // The retry carried the nonce the workflow had recorded, and Finqware recognised it as the
      // repeat of the step it had already applied: the chain is intact, nothing applied twice.
      expect(steps.filter((c) => c.replayed)).toEqual([expect.objectContaining({ status: 200 })]);
      expect(steps.every((c) => c.status === 200)).toBe(true);
      const result = (await crashStack.gateway.result(sessionId)).result!;
      expect(result.bank.output).toMatchObject({ status: 'SESSION_COMPLETED', data: { verified: true } });
    } finally {
      await crashStack.stop();
    }
  });
});

describe('the generic http stage', () => {
  let server: Server;
  let seen: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string }>;
  let reply: { status: number; body: unknown };
  let url: string;

  beforeAll(async () => {
    seen = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.statusCode = reply.status;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function checkFlow() {
    return inlineFlow({
      id: 'partner-check',
      initial: 'check',
      states: {
        check: {
          meta: {
            stage: 'provider',
            provider: 'http',
            params: {
              method: 'POST',
              url: `${url}/checks/{{input.country}}?session={{session.ref}}`,
              headers: { authorization: 'Bearer {{secrets.PARTNER_TOKEN}}', 'x-tag': '{{session.tag}}' },
              body: { reference: '{{session.tag}}', amount: '{{input.amount}}', note: 'amount {{input.amount}}' },
              expectedStatuses: [201],
            },
            schema: {
              type: 'object',
              properties: { country: { type: 'string' }, amount: { type: 'integer' } },
              required: ['country', 'amount'],
              additionalProperties: false,
            },
          },
          on: { DONE: 'passed', ERROR: 'failed' },
        },
        passed: { type: 'final', meta: { outcome: 'success' } },
        failed: { type: 'final', meta: { outcome: 'error' } },
      },
    });
  }

  test('renders the request from the input, session and secrets, and records the answer', async () => {
    reply = { status: 201, body: { checked: true, score: 7 } };
    const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-http', definition: checkFlow() });
    const launch = await stack.gateway.launch(sessionId);
    const answer = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'check', input: { country: 'IN', amount: 250 } });
    expect(answer.data.outcome).toBe('success');

    const request = seen.at(-1)!;
    expect(request.method).toBe('POST');
    // The session's ref: the session id itself never enters history, activity inputs included.
    expect(request.url).toBe(`/checks/IN?session=${sessionRef(sessionId)}`);
    expect(request.headers.authorization).toBe(`Bearer ${HTTP_SECRET}`);
    expect(request.headers['x-tag']).toBe('REF-http');
    expect(JSON.parse(request.body)).toEqual({ reference: 'REF-http', amount: 250, note: 'amount 250' });
    expect((await stack.gateway.result(sessionId)).result!.check.output).toEqual({ status: 201, body: { checked: true, score: 7 } });

    // The secret was filled in by the activity: it is nowhere in the workflow's history.
    const history = await stack.client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory();
    expect(JSON.stringify(history)).not.toContain(HTTP_SECRET);
  });

  test('an unexpected answer takes the ERROR path with the status recorded', async () => {
    reply = { status: 422, body: { code: 'bad_country' } };
    const { sessionId } = await stack.gateway.create({ tenantId: 'tenant-a', tag: 'REF-http-bad', definition: checkFlow() });
    const launch = await stack.gateway.launch(sessionId);
    const answer = await stack.gateway.submitStep(sessionId, { nonce: launch.nonce!, step: 'check', input: { country: 'XX', amount: 1 } });
    expect(answer.data.outcome).toBe('error');
    expect((await stack.gateway.result(sessionId)).result!.check.output).toEqual({
      error: { type: 'ProviderRejected', message: expect.stringContaining('422'), provider: 'http', status: 422, code: 'bad_country' },
    });
  });
});
