/**
 * The naive peer's HTTP front: the same flow as a sessionflow session, built the way one
 * would without workflow updates. A step is a signal, then the server polls a query until the
 * workflow shows the submission handled. Only `make bench` runs it.
 *
 * It is kept generous to the peer: the device says how many submissions it made before, so no
 * query is spent reading the count first, and the first poll goes out at once after the
 * signal (Temporal answers a query only after the signal's workflow task, so an input step
 * usually needs one poll).
 */
import Fastify from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfigOrExit } from '../src/config';
import { FlowCatalog } from '../src/flows/catalog';
import { connectClient } from '../src/temporal';
import { openEncryption } from '../src/keys/encryption';
import { peerLaunchSignal, peerSessionWorkflow, peerSubmitSignal, peerViewQuery, type PeerView } from './workflows';

/** How long the server waits between two polls of the query. */
export const PEER_POLL_INTERVAL_MS = 25;
/** A poll loop gives up after this long (the benchmark counts it as an error). */
const PEER_WAIT_LIMIT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const catalog = FlowCatalog.load(config.flowsDir);
  const temporal = await connectClient(config.temporal, openEncryption(config).dataConverter);
  // Logged like the api (a line per request and per answer at `info`): the same cost for both.
  const app = Fastify({ logger: { level: config.logLevel } });

  const viewOf = (id: string) => temporal.workflow.getHandle(`peer-${id}`).query(peerViewQuery);
  async function pollUntil(id: string, done: (view: PeerView) => boolean): Promise<PeerView> {
    const deadline = Date.now() + PEER_WAIT_LIMIT_MS;
    for (;;) {
      const view = await viewOf(id);
      if (done(view)) return view;
      if (Date.now() > deadline) throw new Error(`peer session ${id} did not move within ${PEER_WAIT_LIMIT_MS} ms`);
      await sleep(PEER_POLL_INTERVAL_MS);
    }
  }

  app.setErrorHandler((error, _request, reply) => {
    void reply.status(error instanceof WorkflowNotFoundError ? 404 : 500).send({ message: error instanceof Error ? error.message : String(error) });
  });

  app.post<{ Body: { flow: string; tag: string } }>('/peer/sessions', async (request, reply) => {
    const resolved = catalog.resolve(request.body.flow, null);
    if (!resolved.ok) return reply.status(400).send({ message: resolved.reason });
    const id = request.body.tag;
    await temporal.workflow.start(peerSessionWorkflow, {
      workflowId: `peer-${id}`,
      taskQueue: config.temporal.taskQueue,
      args: [{ machine: resolved.definition.machine, tag: id }],
    });
    return { id };
  });

  app.post<{ Params: { id: string } }>('/peer/sessions/:id/launch', async (request) => {
    const { id } = request.params;
    await temporal.workflow.getHandle(`peer-${id}`).signal(peerLaunchSignal);
    return pollUntil(id, (view) => view.launched);
  });

  app.post<{ Params: { id: string }; Body: { step: string; data: Record<string, unknown>; seq: number } }>(
    '/peer/sessions/:id/steps',
    async (request) => {
      const { id } = request.params;
      const { step, data, seq } = request.body;
      await temporal.workflow.getHandle(`peer-${id}`).signal(peerSubmitSignal, { step, input: data });
      return pollUntil(id, (view) => view.handled > seq);
    },
  );

  app.get<{ Params: { id: string } }>('/peer/sessions/:id', async (request) => viewOf(request.params.id));

  await app.listen({ host: '127.0.0.1', port: config.api.port });
  process.stdout.write(`peer listening on ${config.api.port}\n`);
  const stop = () => void app.close().then(() => temporal.connection.close()).then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`peer failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
