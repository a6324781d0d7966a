/**
 * For the drill and bench-cluster: a Standard Webhooks receiver that counts each webhook-id it is
 * sent (duplicates included), and the one tenant client their sessions run as.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

export function startReceiver(): Promise<{ url: string; received: Map<string, number>; close: () => void }> {
  const received = new Map<string, number>();
  const server = createServer((request, response) => {
    const id = request.headers['webhook-id'];
    request.resume();
    request.on('end', () => {
      if (typeof id === 'string') received.set(id, (received.get(id) ?? 0) + 1);
      response.statusCode = 204;
      response.end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}/webhooks`, received, close: () => server.close() });
    }),
  );
}

/** A tenant client for a load run on loopback: webhooks to `webhookUrl`, limits far above the run's. */
export function loadClient(id: string, webhookUrl: string, extra: { retentionSeconds?: number } = {}) {
  return {
    id,
    secret: randomBytes(24).toString('hex'),
    webhookUrl,
    webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
    perSecond: 100_000,
    perDay: 100_000_000,
    ...extra,
  };
}

/** The cluster's environment for a load run with that one client. */
export function loadEnv(dataDir: string, client: ReturnType<typeof loadClient>): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    SESSIONFLOW_CLIENTS: JSON.stringify([client]),
    DEVICE_TOKEN_SECRET: randomBytes(32).toString('hex'),
    // Every device of a load run is 127.0.0.1: the per-address defaults would refuse its launches.
    ADDRESS_DEVICE_CLIENTS_PER_MINUTE: '1000000',
    ADDRESS_LAUNCHES_PER_MINUTE: '1000000',
    ADDRESS_AUTH_FAILURES_PER_MINUTE: '1000000',
    ADDRESS_SESSION_REQUESTS_PER_MINUTE: '1000000',
    ADDRESS_SESSION_FAILURES_PER_MINUTE: '1000000',
  };
}
