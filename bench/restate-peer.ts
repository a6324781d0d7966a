/**
 * The Restate peer's service: the bench flow as a Restate virtual object keyed by the session,
 * written the way Restate's TypeScript SDK is meant to be used. Each call is one handler
 * invocation; the object's state (the view below, the flow id) is Restate's durable K/V state,
 * written with the invocation's journal; each provider call is a durable side effect
 * (`ctx.run`), journaled before the handler goes on, as Temporal records an activity's result.
 * Exclusive handlers run one at a time per session, as a workflow's updates do.
 *
 * The same flow engine, schema checks and Finqware connector as sessionflow and the naive peer,
 * against the same sandbox. Only `make bench` runs it (bench/restate-stack.ts), behind
 * restate-front.ts.
 */
import * as restate from '@restatedev/restate-sdk';
import { loadConfigOrExit } from '../src/config';
import { FlowCatalog } from '../src/flows/catalog';
import { CompiledFlow, stageInfo, type FlowEvent, type StageInfo } from '../src/flows/core/engine';
import { validateAgainstSchema } from '../src/flows/core/schema';
import { FinqwareConnector } from '../src/providers/finqware';
import { ProviderError } from '../src/providers/errors';
import type { PeerView } from './workflows';

export const RESTATE_OBJECT = 'benchSession';

/**
 * The SDK calls Promise.withResolvers (ES2024), which Node 22 has and this project's Node 20 does
 * not: the standard's behaviour, for this process only.
 */
function provideWithResolvers(): void {
  const promise = Promise as unknown as { withResolvers?: () => unknown };
  promise.withResolvers ??= () => {
    let resolve: (value: unknown) => void = () => undefined;
    let reject: (reason: unknown) => void = () => undefined;
    const created = new Promise((yes, no) => {
      resolve = yes;
      reject = no;
    });
    return { promise: created, resolve, reject };
  };
}

export interface RestateSubmission {
  step: string;
  data: Record<string, unknown>;
  /** Submissions the device made before: one already handled is answered, not run again. */
  seq: number;
  /**
   * When the front received the step: the schema checks' "now". It comes in with the durable
   * request, so a retried invocation checks against the same time (Date.now() in a handler
   * would not replay; ctx.date.now() would cost a journal entry of its own).
   */
  receivedAt: number;
}

/** Provider calls, retried by Restate as Temporal retries the activities (src/workflows/providers.ts). */
const PROVIDER_RETRY = { initialRetryInterval: 1_000, retryIntervalFactor: 2, maxRetryInterval: 60_000, maxRetryAttempts: 12 };

/**
 * One provider call inside ctx.run: ProviderError's classes decide, as they do for Temporal,
 * whether Restate retries (at the provider's Retry-After when it gave one) or stops at once.
 */
async function providerCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    if (err.type === 'ProviderRejected' || err.type === 'ProviderSignatureInvalid') throw new restate.TerminalError(err.message);
    throw new restate.RetryableError(err.message, err.retryAfterMs === undefined ? {} : { retryAfter: err.retryAfterMs });
  }
}

function param(stage: StageInfo, name: string): string {
  const value = stage.params?.[name];
  if (typeof value !== 'string') throw new restate.TerminalError(`stage ${stage.id} needs params.${name}`);
  return value;
}

export function benchSessionObject(catalog: FlowCatalog, finqware: FinqwareConnector) {
  // Built once per flow, as the naive peer's workflow builds its flow once per cached session.
  const compiled = new Map<string, CompiledFlow>();
  const flowOf = (id: string): CompiledFlow => {
    const known = compiled.get(id);
    if (known) return known;
    const resolved = catalog.resolve(id, null);
    if (!resolved.ok) throw new restate.TerminalError(resolved.reason, { errorCode: 400 });
    const flow = new CompiledFlow(resolved.definition.machine);
    compiled.set(id, flow);
    return flow;
  };
  const stored = async (ctx: restate.ObjectSharedContext): Promise<{ flow: string; view: PeerView }> => {
    const [flow, view] = await Promise.all([ctx.get<string>('flow'), ctx.get<PeerView>('view')]);
    if (flow === null || view === null) throw new restate.TerminalError(`no session ${ctx.key}`, { errorCode: 404 });
    return { flow, view };
  };

  /** Finqware's two calls, each journaled: a retried invocation does not call again. */
  async function finqwareStage(ctx: restate.ObjectContext, stage: StageInfo, input: Record<string, unknown>, handled: number): Promise<FlowEvent> {
    const skill = param(stage, 'skill');
    try {
      const session = await ctx.run('finqware create session', () => providerCall(() => finqware.createSession({ tenantUserId: `${ctx.key}-${handled}`, skill })), PROVIDER_RETRY);
      const step = await ctx.run(
        'finqware submit step',
        () => providerCall(() => finqware.submitStep({ sessionId: session.sessionId, nonce: session.nonce, skill, step: param(stage, 'step'), data: input })),
        PROVIDER_RETRY,
      );
      return { type: 'DONE', output: { sessionId: session.sessionId, stepId: step.stepId, status: step.status, data: step.data } };
    } catch (err) {
      // Retries spent or a permanent refusal: the flow routes along its ERROR transition.
      if (err instanceof restate.TerminalError) return { type: 'ERROR', error: { type: 'ProviderFailure', message: err.message } };
      throw err;
    }
  }

  return restate.object({
    name: RESTATE_OBJECT,
    handlers: {
      async create(ctx: restate.ObjectContext, request: { flow: string }): Promise<{ id: string }> {
        if ((await ctx.get<PeerView>('view')) !== null) throw new restate.TerminalError(`session ${ctx.key} exists`, { errorCode: 409 });
        const position = flowOf(request.flow).start();
        ctx.set('flow', request.flow);
        ctx.set<PeerView>('view', { launched: false, handled: 0, state: position.state, done: position.done, lastError: null, results: {} });
        return { id: ctx.key };
      },
      async launch(ctx: restate.ObjectContext): Promise<PeerView> {
        const { view } = await stored(ctx);
        const launched = { ...view, launched: true };
        ctx.set('view', launched);
        return launched;
      },
      async submit(ctx: restate.ObjectContext, submission: RestateSubmission): Promise<PeerView> {
        const { flow: flowId, view } = await stored(ctx);
        if (submission.seq < view.handled) return view;
        const flow = flowOf(flowId);
        const stage = stageInfo(flow.machine, view.state);
        const problems = stage ? validateAgainstSchema(stage.schema, submission.data, { now: submission.receivedAt }) : [];
        const next: PeerView = { ...view, handled: view.handled + 1 };
        if (!stage || submission.step !== stage.id || problems.length > 0) {
          next.lastError = stage && submission.step === stage.id ? 'invalid_data' : 'invalid_step';
        } else {
          let event: FlowEvent = { type: 'SUBMIT', input: submission.data };
          if (stage.kind === 'provider') {
            if (stage.provider !== 'finqware') throw new restate.TerminalError(`the Restate peer runs Finqware stages only, not ${String(stage.provider)}`);
            event = await finqwareStage(ctx, stage, submission.data, view.handled);
            if (event.type === 'DONE') next.results = { ...view.results, [stage.id]: event.output };
          }
          const position = flow.advance(view.state, event);
          if (position) Object.assign(next, { state: position.state, done: position.done });
          next.lastError = null;
        }
        ctx.set('view', next);
        return next;
      },
      view: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext): Promise<PeerView> => (await stored(ctx)).view),
    },
  });
}

async function main(): Promise<void> {
  provideWithResolvers();
  const config = loadConfigOrExit();
  const port = Number(process.env.RESTATE_SERVICE_PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('RESTATE_SERVICE_PORT must name the port to serve on');
  const finqware = new FinqwareConnector(config.providers.finqware);
  const object = benchSessionObject(FlowCatalog.load(config.flowsDir), finqware);
  // Restate's own HTTP/2 endpoint (the server calls it, as Temporal's workers poll).
  await restate.serve({ services: [object], port });
  process.stdout.write(`restate service listening on ${port}\n`);
  const stop = () => void finqware.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`restate service failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
