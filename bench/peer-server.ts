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
import { WorkflowNotFoundError } from '@temporalio/client';
import { loadConfigOrExit } from '../src/config';
import { FlowCatalog } from '../src/flows/catalog';
import { connectClient } from '../src/temporal';
import { openEncryption } from '../src/keys/encryption';
import { servePeer, type PeerBackend } from './peer-http';
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

  const handle = (id: string) => temporal.workflow.getHandle(`peer-${id}`);
  const viewOf = (id: string) => handle(id).query(peerViewQuery);
  async function pollUntil(id: string, done: (view: PeerView) => boolean): Promise<PeerView> {
    const deadline = Date.now() + PEER_WAIT_LIMIT_MS;
    for (;;) {
      const view = await viewOf(id);
      if (done(view)) return view;
      if (Date.now() > deadline) throw new Error(`peer session ${id} did not move within ${PEER_WAIT_LIMIT_MS} ms`);
      await sleep(PEER_POLL_INTERVAL_MS);
    }
  }

  const backend: PeerBackend = {
    async create(flow, id) {
      const resolved = catalog.resolve(flow, null);
      if (!resolved.ok) return resolved.reason;
      await temporal.workflow.start(peerSessionWorkflow, {
        workflowId: `peer-${id}`,
        taskQueue: config.temporal.taskQueue,
        args: [{ machine: resolved.definition.machine, tag: id }],
      });
      return null;
    },
    async launch(id) {
      await handle(id).signal(peerLaunchSignal);
      return pollUntil(id, (view) => view.launched);
    },
    async submit(id, { step, data, seq }) {
      await handle(id).signal(peerSubmitSignal, { step, input: data });
      return pollUntil(id, (view) => view.handled > seq);
    },
    view: viewOf,
    statusOf: (error) => (error instanceof WorkflowNotFoundError ? 404 : 500),
    close: () => temporal.connection.close(),
  };
  await servePeer('peer', backend, { port: config.api.port, logLevel: config.logLevel });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`peer failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
