/**
 * The api on a free loopback port, in front of a test Stack, with two tenant clients, and a
 * small HTTP caller that checks every answer against the api's own /openapi.json; or the api
 * as its own OS process (src/api/main.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Ajv from 'ajv';
import { request } from 'undici';
import { freePort } from '../../scripts/dev-server';
import { buildApp } from '../../src/api/app';
import type { AuditTrail } from '../../src/audit/trail';
import type { TenantClient } from '../../src/tenants/registry';
import { FlowCatalog } from '../../src/flows/catalog';
import { sessionSecret, type Stack } from './stack';

export const DEVICE_TOKEN_SECRET = 'test-device-token-secret-0123456789abcdef';
export const TENANT_A: TenantClient = { id: 'tenant-a', secret: 'tenant-a-secret-0123456789', perSecond: 1000, perDay: 1_000_000 };
export const TENANT_B: TenantClient = { id: 'tenant-b', secret: 'tenant-b-secret-0123456789', perSecond: 1000, perDay: 1_000_000 };

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface Api {
  url: string;
  call(method: string, path: string, options?: { body?: unknown; raw?: string; headers?: Record<string, string>; as?: TenantClient | null }): Promise<Answer>;
  close(): Promise<void>;
}

export function basic(client: TenantClient): string {
  return `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
}

type OpenApi = { paths: Record<string, Record<string, { responses: Record<string, { content?: { 'application/json': { schema: object } } }> }>> };

/** The OpenAPI path template an actual path matches, e.g. /v1/sessions/{id}/steps. */
function templateOf(spec: OpenApi, path: string): string | undefined {
  const bare = path.split('?')[0];
  return Object.keys(spec.paths).find((template) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare));
}

/** The repo's flows plus `paused-flow`, an inactive copy of consent-only. */
export function catalogWithInactiveFlow(): FlowCatalog {
  const dir = join(__dirname, '..', '..', 'flows');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') }));
  const paused = { ...JSON.parse(readFileSync(join(dir, 'consent-only.json'), 'utf8')), id: 'paused-flow', active: false };
  return FlowCatalog.fromFiles([...files, { file: 'paused-flow.json', text: JSON.stringify(paused) }]);
}

export async function startApi(
  stack: Stack,
  clients: TenantClient[] = [TENANT_A, TENANT_B],
  catalog: FlowCatalog = stack.catalog,
  port = 0,
  audit?: AuditTrail,
): Promise<Api> {
  const app = buildApp({ config: stack.config, temporal: stack.client, keys: stack.encryption.keys, clients, catalog, deviceTokenSecret: DEVICE_TOKEN_SECRET, sessionSecret, ...(audit ? { audit } : {}) });
  await app.listen({ host: '127.0.0.1', port });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  let spec: OpenApi | null = null;
  const ajv = new Ajv({ strict: false, allErrors: true });

  const call: Api['call'] = async (method, path, options = {}) => {
    const as = options.as === undefined ? TENANT_A : options.as;
    const backend = path.startsWith('/api/') || path.startsWith('/v1/events');
    const headers: Record<string, string> = { ...(as && backend ? { authorization: basic(as) } : {}), ...options.headers };
    const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const answer = await request(`${url}${path}`, { method: method as 'GET', headers, ...(payload === undefined ? {} : { body: payload }) });
    const text = await answer.body.text();
    const body = text === '' ? null : JSON.parse(text);
    // Every answer of a documented route must match the document.
    spec ??= (await (await request(`${url}/openapi.json`)).body.json()) as OpenApi;
    const template = templateOf(spec, path);
    const operation = template ? spec.paths[template][method.toLowerCase()] : undefined;
    if (operation) {
      const documented = operation.responses[String(answer.statusCode)];
      if (!documented) throw new Error(`${method} ${path} answered ${answer.statusCode}, which /openapi.json does not document`);
      if (!documented.content) {
        if (text !== '') throw new Error(`${method} ${path} ${answer.statusCode} has a body, which /openapi.json says it has not`);
        return { status: answer.statusCode, headers: answer.headers, body, text };
      }
      const validate = ajv.compile(documented.content['application/json'].schema);
      if (!validate(body)) throw new Error(`${method} ${path} ${answer.statusCode} does not match /openapi.json: ${ajv.errorsText(validate.errors)}`);
    }
    return { status: answer.statusCode, headers: answer.headers, body, text };
  };
  return { url, call, close: () => app.close() };
}

/**
 * Raw HTTP to `baseUrl`, without the document check of `Api.call`: for paths and methods that
 * are not in the document by design. A JSON body is parsed; `text` keeps what came.
 */
export async function rawCall(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const answer = await request(`${baseUrl}${path}`, { method: method as 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await answer.body.text();
  return { status: answer.statusCode, headers: answer.headers, text, body: text ? JSON.parse(text) : null };
}

export interface RunningApi {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs src/api/main.ts with `env` on a free port, resolved once it logged that it is ready (LOG_LEVEL info or lower). */
export async function spawnApi(env: NodeJS.ProcessEnv): Promise<RunningApi> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!output.includes('api ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`api did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
}
