/**
 * The Restate peer's processes for `make bench`: the Restate server (the binary npm installs
 * with @restatedev/restate-server, run directly so /proc counts its own CPU) on free loopback
 * ports with its own data directory under the system's temporary folder, the service endpoint
 * (restate-peer.ts) registered with it as a deployment, and the HTTP front (restate-front.ts).
 *
 * The server runs with Restate's defaults but for ports, directory and logging: its durable log
 * is on disk and fsynced (see bench/README.md), as a user would run it.
 */
import { execFileSync } from 'node:child_process';
import { arch, platform } from 'node:os';
import { freePort } from '../scripts/dev-server';
import { startCommand, startService, type LineSink, type Service } from '../scripts/services';

const RESTATE_SERVER = 'restate';

/** The binary inside the platform package that @restatedev/restate-server's launcher would run. */
function serverBinary(): string {
  return require.resolve(`@restatedev/restate-server-${platform()}-${arch()}/bin/restate-server`);
}

/** `restate-server 1.7.12`, or unknown. */
export function restateServerVersion(): string {
  try {
    return execFileSync(serverBinary(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'restate-server (version unknown)';
  }
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`${what} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Starts the three processes, the server on `dataDir` (a fresh directory the caller removes once
 * the server stopped), appending each to `services` as it starts (so a failure halfway still
 * stops what started), and registers the service with the server. Answers the front's URL.
 */
export async function startRestatePeer(env: NodeJS.ProcessEnv, sink: LineSink, services: Service[], dataDir: string): Promise<string> {
  const [ingressPort, adminPort, nodePort, servicePort, frontPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const serverEnv: NodeJS.ProcessEnv = {
    ...env,
    RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingressPort}`,
    RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${adminPort}`,
    RESTATE_BIND_ADDRESS: `127.0.0.1:${nodePort}`,
    RESTATE_DISABLE_TELEMETRY: 'true',
    RESTATE_LOG_FORMAT: 'compact',
    RESTATE_LOG_DISABLE_ANSI_CODES: 'true',
  };
  const args = ['--base-dir', dataDir, '--node-name', 'bench', '--listen-mode', 'tcp', '--no-logo'];
  services.push(await startCommand(RESTATE_SERVER, serverBinary(), args, serverEnv, /Ingress HTTP listening/, sink));
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitFor('the Restate admin API did not answer', async () => (await fetch(`${admin}/health`)).ok);

  services.push(await startService('restate-service', 'bench/restate-peer.ts', { ...env, RESTATE_SERVICE_PORT: String(servicePort) }, /restate service listening/, sink));
  // Registration makes the server discover the service's handlers (a deployment, in Restate's words).
  await waitFor('the Restate server did not register the bench service', async () => {
    const answer = await fetch(`${admin}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${servicePort}`, force: true }),
    });
    return answer.ok;
  });

  const front = { ...env, PORT: String(frontPort), RESTATE_INGRESS_URL: `http://127.0.0.1:${ingressPort}` };
  services.push(await startService('restate-front', 'bench/restate-front.ts', front, /restate front listening/, sink));
  return `http://127.0.0.1:${frontPort}`;
}
