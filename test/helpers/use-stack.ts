/**
 * One stack per test file, the way most files need it: started before the file's tests (with a
 * worker in this process, and the api in front of it when `api` is given), stopped after them.
 * The returned objects are filled in by beforeAll, so tests use them as they are.
 */
import type { FlowCatalog } from '../../src/flows/catalog';
import type { TenantClient } from '../../src/tenants/registry';
import { startApi, type Api } from './api';
import { startStack, type Stack } from './stack';

export interface StackOptions {
  /** Where the Attestr sandbox posts its completion webhooks. */
  webhookUrl?: string;
  /** Environment the stack's config adds. */
  env?: Record<string, string>;
  /** Start a worker in this process (default true). */
  worker?: boolean;
  /** Start the api in front of the stack, for these tenant clients. */
  api?: { clients?: TenantClient[]; catalog?: () => FlowCatalog };
}

export function useStack(name: string, options: StackOptions = {}): { stack: Stack; api: Api } {
  const used = { stack: {} as Stack, api: {} as Api };
  let started: Stack | undefined;
  let api: Api | undefined;
  beforeAll(async () => {
    started = await startStack(name, { webhookUrl: options.webhookUrl }, options.env);
    Object.assign(used.stack, started);
    if (options.worker ?? true) await started.startWorker();
    if (options.api) {
      api = await startApi(started, options.api.clients, options.api.catalog?.());
      Object.assign(used.api, api);
    }
  });
  afterAll(async () => {
    await api?.close();
    await started?.stop();
  });
  return used;
}
