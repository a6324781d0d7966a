/**
 * The "sessionflow is running" block `make start` and `make cluster` print once everything
 * answers: URLs, the credentials of the first client and a first `curl`.
 */
import { join } from 'node:path';
import { loadClients } from '../src/tenants/registry';
import type { Config } from '../src/config';

export interface RunningBlock {
  config: Config;
  /** One api URL for `make start`, one per replica for `make cluster`. */
  apiUrls: string[];
  uiUrl: string | null;
  temporalAddress: string;
  sandboxUrl: string;
  /** The first line: how to stop it and what is kept. */
  headline: string;
  /** Extra lines after the sandboxes (e.g. where PostgreSQL runs). */
  extra?: string[];
  /** The hosted page of a consent-only session made for the reader to open in a browser. */
  hostedUrl?: string;
}

export function runningBlock(options: RunningBlock): string {
  const { config, apiUrls } = options;
  const { clients, source } = loadClients(process.env, config.dataDir);
  const [client] = clients;
  const credentials =
    source === 'dev'
      ? [`  dev client   id ${client.id}  secret ${client.secret}  (kept in ${join(config.dataDir, 'clients.json')})`]
      : [`  clients      ${clients.length} from ${source === 'env' ? 'SESSIONFLOW_CLIENTS' : 'SESSIONFLOW_CLIENTS_FILE'}`];
  const apiLines = apiUrls.map((url, i) => `  ${apiUrls.length > 1 ? `api ${i + 1}      ` : 'api          '}${url}   (OpenAPI: ${url}/openapi.json)`);
  const [apiUrl] = apiUrls;
  return [
    '',
    options.headline,
    ...apiLines,
    ...(options.uiUrl ? [`  Temporal UI  ${options.uiUrl.replace('127.0.0.1', 'localhost')}`] : []),
    `  Temporal     ${options.temporalAddress} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
    `  sandboxes    ${options.sandboxUrl}/attestr  ${options.sandboxUrl}/finqware`,
    ...(options.extra ?? []),
    ...credentials,
    '',
    'Try:',
    ...(options.hostedUrl ? [`  open         ${options.hostedUrl}   (a consent-only session's hosted page, made for you)`] : []),
    `  curl ${apiUrl}/readyz`,
    `  curl -u '${client.id}:${source === 'dev' ? client.secret : '<secret>'}' -H 'content-type: application/json' \\`,
    `    -d '{"flow":"consent-only","snapshot":null,"tag":"REF-1"}' ${apiUrl}/api/v1/public/flowx/handshake`,
    '',
  ].join('\n');
}
