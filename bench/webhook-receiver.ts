/** A Standard Webhooks receiver for the drill and bench-cluster: counts each webhook-id it is sent (duplicates included). */
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
