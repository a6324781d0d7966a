/**
 * The HTTP shape the benchmark drives for each peer (bench/drivers.ts, peerSession): create a
 * session, launch it, submit a step, read it. Each peer puts its own engine behind the same
 * routes: the naive peer (peer-server.ts) Temporal signals and a polled query, the Restate peer
 * (restate-front.ts) calls to a Restate virtual object. Only `make bench` runs them.
 */
import Fastify from 'fastify';
import type { PeerView } from './workflows';

export interface PeerSubmissionRequest {
  step: string;
  data: Record<string, unknown>;
  /** How many submissions the device made before this one: the peer need not read it first. */
  seq: number;
}

/** One engine behind the routes. */
export interface PeerBackend {
  /** Starts session `id` of `flow`; answers why not (a 400) or null. */
  create(flow: string, id: string): Promise<string | null>;
  launch(id: string): Promise<PeerView>;
  submit(id: string, submission: PeerSubmissionRequest): Promise<PeerView>;
  view(id: string): Promise<PeerView>;
  /** The HTTP status for a failure of the engine: 404 for a session it does not know. */
  statusOf(error: unknown): number;
  close(): Promise<void>;
}

/**
 * Serves `backend` on loopback, logged like the api (a line per request and per answer at
 * `info`: the same cost for every peer), and stops it on SIGINT or SIGTERM.
 */
export async function servePeer(name: string, backend: PeerBackend, settings: { port: number; logLevel: string }): Promise<void> {
  const app = Fastify({ logger: { level: settings.logLevel } });
  app.setErrorHandler((error, _request, reply) => {
    void reply.status(backend.statusOf(error)).send({ message: error instanceof Error ? error.message : String(error) });
  });

  app.post<{ Body: { flow: string; tag: string } }>('/peer/sessions', async (request, reply) => {
    const id = request.body.tag;
    const refused = await backend.create(request.body.flow, id);
    if (refused) return reply.status(400).send({ message: refused });
    return { id };
  });
  app.post<{ Params: { id: string } }>('/peer/sessions/:id/launch', (request) => backend.launch(request.params.id));
  app.post<{ Params: { id: string }; Body: PeerSubmissionRequest }>('/peer/sessions/:id/steps', (request) => backend.submit(request.params.id, request.body));
  app.get<{ Params: { id: string } }>('/peer/sessions/:id', (request) => backend.view(request.params.id));

  await app.listen({ host: '127.0.0.1', port: settings.port });
  process.stdout.write(`${name} listening on ${settings.port}\n`);
  const stop = () => void app.close().then(() => backend.close()).then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
