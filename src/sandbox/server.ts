/**
 * One HTTP server hosting the provider sandboxes: Attestr FlowX under `/attestr` and Finqware
 * under `/finqware`; and, for the development client, a webhook inbox (`/inbox`) and a page
 * users return to (`/returned`). Each call makes independent in-memory state.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { attestrSandbox } from './attestr';
import { finqwareSandbox } from './finqware';
import { tenantPages } from './tenant-pages';

export interface SandboxOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  attestr: { clientId: string; secret: string; webhookUrl?: string };
  finqware: { clientId: string; appKey: string };
  /** The webhook inbox's verifying secret (`whsec_...`); without it no delivery verifies. */
  inboxWebhookSecret?: string;
  logger?: boolean;
}

export interface RunningSandbox {
  /** e.g. `http://127.0.0.1:8090`; Attestr is at `${url}/attestr`, Finqware at `${url}/finqware`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const host = options.host ?? '127.0.0.1';
  const app = Fastify({ logger: options.logger ?? false });
  await app.register(attestrSandbox, { prefix: '/attestr', ...options.attestr });
  await app.register(finqwareSandbox, { prefix: '/finqware', ...options.finqware });
  await app.register(tenantPages, options.inboxWebhookSecret ? { webhookSecret: options.inboxWebhookSecret } : {});
  await app.listen({ host, port: options.port ?? 0 });
  const { port } = app.server.address() as AddressInfo;
  // A wildcard listen address is reachable on loopback; IPv6 literals need brackets in a URL.
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: async () => {
      await app.close();
    },
  };
}
