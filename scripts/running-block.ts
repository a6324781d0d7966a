/**
 * The "sessionflow is running" block `make start` and `make cluster` print once everything
 * answers: URLs, the credentials of the first client, a first `curl`, and the Temporal CLI
 * command an operator runs to see a session decoded.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedClients } from '../src/tenants/registry';
import type { Config } from '../src/config';
import { INBOX_PATH, tenantPageUrls } from '../src/util/tenant-pages';
import { SessionOutcomeKey, SessionReviewKey, SessionStageSinceKey } from '../src/contract/session-search';
import { DEFAULT_STUCK_MINUTES } from '../src/console/queries';

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
  /** The Temporal CLI command an operator runs through the codec server. */
  operatorCommand?: OperatorCommand;
  /** The clients as the services load them. */
  clients: LoadedClients;
}

export interface OperatorCommand {
  codecUrl: string;
  /** The file holding the operator's token (the development operator's, 0600); never printed itself. */
  tokenFile: string | null;
  /** A session workflow to show; `workflow list` without one. */
  workflowId?: string;
}

/** Where scripts/install-temporal.sh links the CLI it found: a short path that stays the same. */
export const TEMPORAL_CLI_LINK = '.tools/bin/temporal';

/** A word the shell reads as is: quoted when it holds anything special. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The Temporal CLI command, runnable as printed from the repository: the CLI at its link, the
 * stack's own address and namespace (not whatever owns localhost:7233), and the codec server
 * with the operator's token read from its file by the shell.
 */
export function operatorCommandLine(config: Config, temporalAddress: string, command: OperatorCommand): string {
  const cli = existsSync(TEMPORAL_CLI_LINK) ? TEMPORAL_CLI_LINK : (process.env.TEMPORAL_CLI ?? 'temporal');
  // --detailed: the table leaves payloads out; the sections show them, decoded.
  const what = command.workflowId ? ['workflow', 'show', '--workflow-id', command.workflowId, '--detailed'] : ['workflow', 'list', '--limit', '5'];
  const token = command.tokenFile ? shellWord(command.tokenFile) : '<your operator token file>';
  return [
    shellWord(cli),
    ...what,
    '--address',
    temporalAddress,
    '--namespace',
    shellWord(config.temporal.namespace),
    '--codec-endpoint',
    command.codecUrl,
    '--codec-auth',
    `"Bearer $(cat ${token})"`,
  ].join(' ');
}

/**
 * What the Try block's session and `curl` add to a create: a webhook to the sandbox's inbox and
 * a return to its page, when the first client is the development client pointed at them (never
 * a configured client's real endpoints).
 */
export function tryExtras(loaded: LoadedClients, sandboxPort: number): { webhook: true; returnUrl: string } | null {
  const [client] = loaded.clients;
  const pages = tenantPageUrls(sandboxPort);
  const [returnUrl] = pages.redirectUrls;
  const pointed = client.webhookUrl === pages.webhookUrl && client.webhookSecret !== undefined && client.redirectUrls?.includes(returnUrl);
  return loaded.source === 'dev' && pointed ? { webhook: true, returnUrl } : null;
}

const SESSIONS = `WorkflowType = 'sessionWorkflow'`;

/**
 * The Temporal UI's saved queries operators need most, as links (the UI reads `?query=`):
 * failed sessions, stuck ones (in one stage longer than the console's default threshold, as of
 * `now`: a visibility query has no clock of its own) and those waiting in review.
 */
export function temporalUiQueries(uiUrl: string, namespace: string, now: number): Array<{ name: string; query: string; url: string }> {
  const stuckSince = new Date(now - DEFAULT_STUCK_MINUTES * 60_000).toISOString();
  const queries = [
    { name: 'failures', query: `${SESSIONS} AND ${SessionOutcomeKey.name} = 'error'` },
    { name: 'stuck', query: `${SESSIONS} AND ExecutionStatus = 'Running' AND ${SessionStageSinceKey.name} < '${stuckSince}'` },
    { name: 'in review', query: `${SESSIONS} AND ExecutionStatus = 'Running' AND ${SessionReviewKey.name} IS NOT NULL` },
  ];
  const base = uiUrl.replace('127.0.0.1', 'localhost');
  return queries.map((q) => ({ ...q, url: `${base}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(q.query)}` }));
}

/** The saved queries' lines, and the console's, under the running block's URLs. */
function operatorLinks(options: RunningBlock): string[] {
  const consoleUrl = options.operatorCommand ? `${options.operatorCommand.codecUrl}/console` : null;
  const queries = options.uiUrl ? temporalUiQueries(options.uiUrl, options.config.temporal.namespace, Date.now()) : [];
  return [
    ...(consoleUrl ? [`  console      ${consoleUrl}   (find a session by its id, the review queue, the funnel: docs/guides/console.md)`] : []),
    ...(queries.length
      ? [
          `  Temporal UI saved queries (set the session columns once per browser: docs/guides/console.md#the-temporal-ui):`,
          ...queries.map((q) => `    ${q.name.padEnd(10)} ${q.url}${q.name === 'stuck' ? `   (over ${DEFAULT_STUCK_MINUTES} min in one stage as of this start; the console's is always current: ${consoleUrl ?? ''}/sessions?stuck=on)` : ''}`),
        ]
      : []),
  ];
}

export function runningBlock(options: RunningBlock): string {
  const { config, apiUrls } = options;
  const { clients, source } = options.clients;
  const [client] = clients;
  const dev = source === 'dev';
  const credentials = dev
    ? [`  dev client   id ${client.id}  secret ${client.secret}  (kept in ${join(config.dataDir, 'clients.json')})`]
    : [`  clients      ${clients.length} from ${source === 'env' ? 'SESSIONFLOW_CLIENTS' : 'SESSIONFLOW_CLIENTS_FILE'}`];
  const apiLines = apiUrls.map((url, i) => `  ${apiUrls.length > 1 ? `api ${i + 1}      ` : 'api          '}${url}   (OpenAPI: ${url}/openapi.json)`);
  const [apiUrl] = apiUrls;
  const sandboxPort = Number(new URL(options.sandboxUrl).port);
  const extras = tryExtras(options.clients, sandboxPort);
  const inbox = extras ? `${options.sandboxUrl}${INBOX_PATH}` : null;
  const body = JSON.stringify({ flow: 'consent-only', tag: 'REF-1', ...extras });
  return [
    '',
    options.headline,
    ...apiLines,
    ...(options.uiUrl ? [`  Temporal UI  ${options.uiUrl.replace('127.0.0.1', 'localhost')}`] : []),
    `  Temporal     ${options.temporalAddress} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
    `  sandboxes    ${options.sandboxUrl}/attestr  ${options.sandboxUrl}/finqware`,
    ...(inbox ? [`  inbox        ${inbox}   (the dev client's webhooks, each signature checked)`] : []),
    ...(options.extra ?? []),
    ...operatorLinks(options),
    ...credentials,
    '',
    'Try:',
    ...(options.hostedUrl
      ? [`  open         ${options.hostedUrl}   (a consent-only session made for you${extras ? `: finish it, it returns to ${extras.returnUrl} and sends its webhooks to the inbox` : ''})`]
      : []),
    `  curl ${apiUrl}/readyz`,
    `  curl -u '${client.id}:${dev ? client.secret : '<secret>'}' -H 'content-type: application/json' \\`,
    `    -d '${body}' ${apiUrl}/api/v1/public/flowx/handshake`,
    ...(options.operatorCommand
      ? [
          '',
          `Operators (the Temporal CLI is at ${TEMPORAL_CLI_LINK}; the token is read from its file, never shown):`,
          `  ${operatorCommandLine(config, options.temporalAddress, options.operatorCommand)}`,
        ]
      : []),
    '',
  ].join('\n');
}
