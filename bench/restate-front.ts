/**
 * The Restate peer's HTTP front: the routes the benchmark drives for every peer
 * (bench/peer-http.ts), each one call to the session's virtual object (bench/restate-peer.ts)
 * through Restate's HTTP ingress, answered when the handler has finished and its journal is
 * durable. It plays the part the api plays for sessionflow and peer-server.ts for the naive
 * peer: one process between the device and the engine. Only `make bench` runs it.
 */
import { Pool } from 'undici';
import { loadConfigOrExit } from '../src/config';
import { servePeer, type PeerBackend } from './peer-http';
import { RESTATE_OBJECT, type RestateSubmission } from './restate-peer';
import type { PeerView } from './workflows';

/** A failure the ingress answered, with its status (Restate's error code: 404, 400, 409...). */
class IngressError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const ingressUrl = process.env.RESTATE_INGRESS_URL;
  if (!ingressUrl) throw new Error('RESTATE_INGRESS_URL must name the Restate ingress');
  // Keep-alive connections enough for the bench's highest concurrency; one attempt per call.
  const ingress = new Pool(ingressUrl, { connections: 128 });
  const call = async <T>(id: string, handler: string, body?: unknown): Promise<T> => {
    const answer = await ingress.request({
      method: 'POST',
      path: `/${RESTATE_OBJECT}/${encodeURIComponent(id)}/${handler}`,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.body.text();
    if (answer.statusCode !== 200) throw new IngressError(answer.statusCode, `restate ${handler} answered ${answer.statusCode}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  };

  const backend: PeerBackend = {
    async create(flow, id) {
      try {
        await call(id, 'create', { flow });
        return null;
      } catch (err) {
        if (err instanceof IngressError && err.status === 400) return err.message;
        throw err;
      }
    },
    launch: (id) => call<PeerView>(id, 'launch'),
    submit: (id, submission) => call<PeerView>(id, 'submit', { ...submission, receivedAt: Date.now() } satisfies RestateSubmission),
    view: (id) => call<PeerView>(id, 'view'),
    statusOf: (error) => (error instanceof IngressError && error.status === 404 ? 404 : 500),
    close: () => ingress.close(),
  };
  await servePeer('restate front', backend, { port: config.api.port, logLevel: config.logLevel });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`restate front failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
