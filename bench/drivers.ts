/**
 * What the benchmark's simulated devices and backends do: whole sessions through sessionflow's
 * HTTP API or the naive peer's, and the raw Temporal calls the baselines are made of. Every
 * answer is checked; a wrong one counts as an error, never as a sample.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Pool } from 'undici';
import { nonceHash, sessionWorkflowId } from '../src/session-secret';
import { submitStepUpdate, type StepAnswer, type StepArgs } from '../src/contract/session';
import type { Recorder } from './stats';
import { emptyWorkflow, finishSignal, noopUpdate } from './workflows';

export const BENCH_FLOW = 'bench-kyc';
export const DIRECT_INPUT_STEP = 'input step, Temporal client only';
/** kyc-basic's Attestr submission: it fetches the result, one provider call. */
export const ATTESTR_PROVIDER_STEP = 'provider step: Attestr (fetches the result: one call)';
export const BENCH_TASK_QUEUE = 'sessionflow-bench';

/** The bench flow's three steps, in order, with valid input for each. */
export const STEPS = [
  { op: 'input step', step: 'details', data: { name: 'Bench Person', birthDate: '01-01-1990' } },
  { op: 'provider step', step: 'bank', data: { accountNumber: '123456789012', ifsc: 'HDFC0001234' } },
  { op: 'final step', step: 'consent', data: { accepted: true } },
] as const;

export class HttpJson {
  private readonly pool: Pool;

  constructor(baseUrl: string) {
    // Enough keep-alive connections for the highest concurrency: no request waits for a socket.
    this.pool = new Pool(baseUrl, { connections: 128 });
  }

  async call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const answer = await this.pool.request({
      method,
      path,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.body.text();
    if (answer.statusCode !== 200) throw new Error(`${method} ${path.replace(/DS\w+/, 'DS…')} answered ${answer.statusCode}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function expectField(answer: Record<string, unknown>, field: string, expected: unknown, what: string): void {
  if (answer[field] !== expected) throw new Error(`${what}: expected ${field} ${JSON.stringify(expected)}, got ${JSON.stringify(answer[field])}`);
}

/** A check for Recorder.time: the answer's `field` must be `expected`. */
const expecting =
  (field: string, expected: unknown, what: string) =>
  (answer: Record<string, unknown>): void =>
    expectField(answer, field, expected, what);

/** One whole session, each call timed under its operation's name. */
export type SessionRun = (recorder: Recorder, tag: string) => Promise<string>;

/** Called after each timed call of a session (untimed), with the call's answer. */
export type Observer = (op: string, answer: Record<string, unknown>) => Promise<void>;

export function basicAuth(clientId: string, clientSecret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` };
}

export function sessionflowSession(http: HttpJson, clientId: string, clientSecret: string, observe?: Observer): SessionRun {
  const auth = basicAuth(clientId, clientSecret);
  type Answer = Record<string, unknown>;
  const timed = async (recorder: Recorder, op: string, call: () => Promise<Answer>, check?: (answer: Answer) => void) => {
    const answer = await recorder.time(op, call, check);
    await observe?.(op, answer);
    return answer;
  };
  const signed = (result: Answer) => {
    expectField(result, 'outcome', 'success', 'result');
    if (typeof result.resultSignature !== 'string') throw new Error('result: no signature');
  };
  return async (recorder, tag) => {
    const created = await timed(recorder, 'create', () => http.call('POST', '/api/v1/public/flowx/handshake', { flow: BENCH_FLOW, snapshot: null, tag }, auth));
    const id = String(created._id);
    const launched = await timed(recorder, 'launch', () => http.call('POST', `/v1/handshakes/${id}/launch`), expecting('step', STEPS[0].step, 'launch'));
    let nonce = launched.nonce;
    for (const [index, { op, step, data }] of STEPS.entries()) {
      const status = index === STEPS.length - 1 ? 'SESSION_COMPLETED' : 'SESSION_IN_PROGRESS';
      const body = { client_id: clientId, skill: BENCH_FLOW, nonce, step, data };
      const answer = await timed(recorder, op, () => http.call('POST', `/v1/sessions/${id}/steps`, body), expecting('status', status, op));
      nonce = answer.nonce;
    }
    await timed(recorder, 'result', () => http.call('GET', `/api/v1/public/flowx/handshake/${id}`, undefined, auth), signed);
    return id;
  };
}

/** Creates and launches a bench-flow session over HTTP, untimed: its id and first nonce. */
export async function openSession(http: HttpJson, clientId: string, clientSecret: string, tag: string): Promise<{ id: string; nonce: string }> {
  const created = await http.call('POST', '/api/v1/public/flowx/handshake', { flow: BENCH_FLOW, snapshot: null, tag }, basicAuth(clientId, clientSecret));
  const id = String(created._id);
  const launched = await http.call('POST', `/v1/handshakes/${id}/launch`);
  return { id, nonce: String(launched.nonce) };
}

/**
 * A session's input step sent straight through a Temporal client, as the api sends it (after
 * an untimed create and launch over HTTP): the workflow's share of a step, without the api.
 */
export function directInputStep(http: HttpJson, client: Client, clientId: string, clientSecret: string): SessionRun {
  return async (recorder, tag) => {
    const { id, nonce } = await openSession(http, clientId, clientSecret, tag);
    const { step, data } = STEPS[0];
    // As the api sends it: this nonce (the proof the session checks) and its hash, the next one's hash.
    const args: StepArgs = { nonce, nonceHash: nonceHash(nonce), step, input: data, clientId, flowId: BENCH_FLOW, nextNonceHash: nonceHash(randomUUID()) };
    const handle = client.workflow.getHandle(sessionWorkflowId(id));
    const check = (answer: StepAnswer) => expectField({ ...answer }, 'status', 'SESSION_IN_PROGRESS', DIRECT_INPUT_STEP);
    await recorder.time(DIRECT_INPUT_STEP, () => handle.executeUpdate(submitStepUpdate, { args: [args], updateId: randomUUID() }), check);
    return id;
  };
}

export function peerSession(http: HttpJson): SessionRun {
  return async (recorder, tag) => {
    const { id } = await recorder.time('create', () => http.call('POST', '/peer/sessions', { flow: BENCH_FLOW, tag }));
    await recorder.time('launch', () => http.call('POST', `/peer/sessions/${String(id)}/launch`), expecting('state', STEPS[0].step, 'launch'));
    for (const [seq, { op, step, data }] of STEPS.entries()) {
      await recorder.time(op, () => http.call('POST', `/peer/sessions/${String(id)}/steps`, { step, data, seq }), expecting('lastError', null, op));
    }
    const finished = (view: Record<string, unknown>) => {
      expectField(view, 'done', true, 'result');
      expectField(view, 'state', 'verified', 'result');
    };
    await recorder.time('result', () => http.call('GET', `/peer/sessions/${String(id)}`), finished);
    return String(id);
  };
}

/**
 * Runs `total` units of work across `concurrency` parallel loops, each taking the next index;
 * a failure is counted and the loop goes on. Resolves with the wall time in ms.
 */
export async function runConcurrently(concurrency: number, total: number, recorder: Recorder, unit: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const loop = async () => {
    while (next < total) {
      const index = next;
      next += 1;
      try {
        await unit(index);
      } catch (err) {
        recorder.fail(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return performance.now() - started;
}

/**
 * Baseline: `workflow.start` of a workflow that does nothing. They are left open, like the
 * sessions: finishing them would load the server while the next measurement runs.
 */
export async function rawStarts(client: Client, recorder: Recorder, concurrency: number, total: number): Promise<void> {
  await runConcurrently(concurrency, total, recorder, () =>
    recorder.time('raw start', () => client.workflow.start(emptyWorkflow, { taskQueue: BENCH_TASK_QUEUE, workflowId: `bench-empty-${randomUUID()}` })),
  );
}

/**
 * Baseline: `executeUpdate` on a no-op handler. One running workflow per concurrent caller,
 * as each device has its own session; they are finished afterwards.
 */
export async function rawUpdates(client: Client, recorder: Recorder, concurrency: number, total: number): Promise<void> {
  const handles = await Promise.all(
    Array.from({ length: concurrency }, () => client.workflow.start(emptyWorkflow, { taskQueue: BENCH_TASK_QUEUE, workflowId: `bench-noop-${randomUUID()}` })),
  );
  // The first update of each waits for the workflow's first task: not part of the floor.
  await Promise.all(handles.map((handle) => handle.executeUpdate(noopUpdate)));
  let next = 0;
  await Promise.all(
    handles.map(async (handle) => {
      while (next < total) {
        next += 1;
        try {
          await recorder.time('raw update', () => handle.executeUpdate(noopUpdate));
        } catch (err) {
          recorder.fail(err);
        }
      }
    }),
  );
  await Promise.all(handles.map((handle) => handle.signal(finishSignal)));
}

/** A pause between two measurements, so that work one leaves behind is not timed in the next. */
export function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2_000));
}
