/**
 * The real parts a test needs: a Temporal client on the run's dev server, the provider
 * sandboxes on a free loopback port, and session workers (in this process, or as separate
 * processes a test can kill). Each test file gets its own task queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TenantClient } from '../../src/tenants/registry';
import { loadConfig, type Config } from '../../src/config';
import { SessionGateway } from '../../src/api/session-gateway';
import { SessionSecret } from '../../src/session-secret';
import { ReviewSecret } from '../../src/review-secret';
import { FlowCatalog } from '../../src/flows/catalog';
import type { FlowDefinition } from '../../src/flows/core/types';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server';
import { openEncryption, type Encryption } from '../../src/keys/encryption';
import { initialiseKeyStore, initSettings } from '../../src/keys/init';
import { createSessionWorker, installRuntime, type SessionWorker } from '../../src/worker';
import { sessionWorkflowId } from '../../src/session-secret';
import { SessionStatusKey } from '../../src/contract/session-search';

export const SANDBOX_CREDENTIALS = {
  attestr: { clientId: 'test-attestr-client', secret: 'test-attestr-secret' },
  finqware: { clientId: 'test-finqware-client', appKey: 'test-finqware-key' },
};

/** SESSION_SECRET of every test api and worker (worker processes get it in their environment). */
export const TEST_SESSION_SECRET = 'test-session-secret-0123456789abcdef';
export const sessionSecret = new SessionSecret(TEST_SESSION_SECRET);
/** REVIEW_SECRET of every test worker and codec server's review routes. */
export const TEST_REVIEW_SECRET = 'test-review-secret-0123456789abcdefgh';
export const reviewSecret = new ReviewSecret(TEST_REVIEW_SECRET);

export interface Stack {
  config: Config;
  /** The environment the stack's config was loaded from (worker processes get it too). */
  env: Record<string, string | undefined>;
  taskQueue: string;
  client: Client;
  encryption: Encryption;
  gateway: SessionGateway;
  sandbox: RunningSandbox;
  catalog: FlowCatalog;
  /** A worker in this process, running until stop(); `clients` are those it sends webhooks for. */
  startWorker(clients?: TenantClient[]): Promise<SessionWorker>;
  /** A worker as its own OS process (tsx src/worker.ts), for crash tests; `env` adds to the stack's. */
  spawnWorker(env?: Record<string, string>): Promise<ChildProcess>;
  definition(flowId: string, snapshotId?: string | null): FlowDefinition;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * Tests set their own per-address limits: every test talks from 127.0.0.1, so the production
 * defaults (a person never meets them, a script does) would trip over the suite itself.
 * test/api-address-limits.test.ts sets low ones to test them.
 */
export const TEST_ADDRESS_LIMITS = {
  ADDRESS_DEVICE_CLIENTS_PER_MINUTE: '1000000',
  ADDRESS_LAUNCHES_PER_MINUTE: '1000000',
  ADDRESS_AUTH_FAILURES_PER_MINUTE: '1000000',
  ADDRESS_SESSION_REQUESTS_PER_MINUTE: '1000000',
  ADDRESS_SESSION_FAILURES_PER_MINUTE: '1000000',
};

export function testEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, LOG_LEVEL: 'error', ...TEST_ADDRESS_LIMITS, ...extra };
}

export async function startStack(
  name: string,
  options: { webhookUrl?: string } = {},
  env: Record<string, string> = {},
): Promise<Stack> {
  const sandbox = await startSandbox({ attestr: { ...SANDBOX_CREDENTIALS.attestr, webhookUrl: options.webhookUrl }, finqware: SANDBOX_CREDENTIALS.finqware });
  const taskQueue = `${name}-${randomUUID()}`;
  const stackEnv = testEnv({
    TEMPORAL_TASK_QUEUE: taskQueue,
    ATTESTR_BASE_URL: `${sandbox.url}/attestr`,
    ATTESTR_CLIENT_ID: SANDBOX_CREDENTIALS.attestr.clientId,
    ATTESTR_CLIENT_SECRET: SANDBOX_CREDENTIALS.attestr.secret,
    FINQWARE_BASE_URL: `${sandbox.url}/finqware`,
    FINQWARE_CLIENT_ID: SANDBOX_CREDENTIALS.finqware.clientId,
    FINQWARE_CLIENT_APP_KEY: SANDBOX_CREDENTIALS.finqware.appKey,
    SESSION_SECRET: TEST_SESSION_SECRET,
    REVIEW_SECRET: TEST_REVIEW_SECRET,
    ...env,
  });
  const config = loadConfig(stackEnv);
  if (!runtimeInstalled) {
    installRuntime(config);
    runtimeInstalled = true;
  }
  const connection = await Connection.connect({ address: config.temporal.address });
  // The key store's init step, as make start runs it; then encrypting, like every client of the project.
  await initialiseKeyStore(initSettings(config));
  const encryption = openEncryption(config);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: encryption.dataConverter });
  const catalog = FlowCatalog.load(join(__dirname, '..', '..', 'flows'));
  const workers: Array<{ worker: SessionWorker; running: Promise<void>; connection: NativeConnection }> = [];
  const children: ChildProcess[] = [];

  return {
    config,
    env: stackEnv,
    taskQueue,
    client,
    encryption,
    gateway: new SessionGateway(client, taskQueue, sessionSecret, encryption.keys, undefined, config.temporal.workflowTaskTimeoutMs),
    sandbox,
    catalog,
    async startWorker(clients: TenantClient[] = []) {
      const workerConnection = await NativeConnection.connect({ address: config.temporal.address });
      const worker = await createSessionWorker(config, { connection: workerConnection, clients, encryption, sessionSecret, reviewSecret });
      workers.push({ worker, running: worker.run(), connection: workerConnection });
      return worker;
    },
    spawnWorker(env = {}) {
      // node itself runs the worker (tsx as a loader, not as a wrapper process), so a kill hits the worker.
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
        env: { ...stackEnv, ...env } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      return new Promise((resolve, reject) => {
        let output = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('polling task queue')) resolve(child);
        });
        child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code) => reject(new Error(`worker process exited (${code}) before polling: ${output}`)));
      });
    },
    definition(flowId, snapshotId = null) {
      const resolved = catalog.resolve(flowId, snapshotId);
      if (!resolved.ok) throw new Error(`test flow ${flowId}: ${resolved.reason}`);
      return resolved.definition;
    },
    async stop() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const { worker, running, connection: c } of workers) {
        // A test may have stopped a worker itself (to queue work for the next one).
        if (worker.worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await worker.close();
        await c.close();
      }
      await connection.close();
      await encryption.close();
      await sandbox.close();
    },
  };
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Waits until the session's workflow has closed, and answers its search attributes' status.
 * Not `result()`: an archived session's result is encoded with its data key, which shredding
 * destroys right after the close.
 */
export async function sessionClosed(stack: Stack, sessionId: string, timeoutMs = 30_000): Promise<string | undefined> {
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  return eventually(async () => {
    const { status, typedSearchAttributes } = await handle.describe();
    return status.name === 'RUNNING' ? undefined : String(typedSearchAttributes.get(SessionStatusKey));
  }, timeoutMs, 'the session workflow to close');
}

/** Waits until the session's history shows `activity` scheduled. */
export async function activityScheduled(stack: Stack, sessionId: string, activity: string): Promise<void> {
  const handle = stack.client.workflow.getHandle(sessionWorkflowId(sessionId));
  await eventually(async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    return events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity) ? true : undefined;
  }, 20_000, `activity ${activity} to be scheduled`);
}

/** SIGKILL, the way a crash ends a worker: no shutdown, nothing finished. */
export function killWorker(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
