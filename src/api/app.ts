/**
 * The api as a Fastify app, built from its dependencies so tests can start it on any port
 * against any Temporal. The process entry (main.ts) adds config, listening and shutdown.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';

export interface ApiDeps {
  config: Config;
  temporal: Client;
  logger?: boolean | { level: string };
}

/** How long /healthz waits for Temporal before calling it unreachable. */
const HEALTH_TIMEOUT_MS = 2_000;

async function temporalReachable(client: Client): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + HEALTH_TIMEOUT_MS, () => client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}

export function buildApp(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: deps.config.api.bodyLimitBytes,
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false,
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.get('/healthz', async (_request, reply) => {
    const reachable = await temporalReachable(deps.temporal);
    return reply.code(reachable ? 200 : 503).send({
      status: reachable ? 'ok' : 'degraded',
      temporal: { reachable, namespace: deps.config.temporal.namespace },
    });
  });

  return app;
}
