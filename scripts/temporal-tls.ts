/**
 * mTLS to the Temporal server of `make cluster` (docs/security/mtls.md): where
 * scripts/temporal-certs.sh puts the certificates, and the variables that give them to the server
 * and to each client. docker-compose.yml sets the same variables (test/docker-compose.test.ts
 * checks it against these lists).
 */
import { join } from 'node:path';

/** The name in the server's certificate that every client checks. */
export const TEMPORAL_SERVER_NAME = 'temporal';

/**
 * The clients of the Temporal frontend, each with a certificate of its own (cli: the Temporal CLI
 * and scripts/deploy.ts; operator: the codec server, which sends reviewers' decisions).
 */
export const TEMPORAL_CLIENTS = ['worker', 'api', 'ui', 'cli', 'operator'] as const;
export type TemporalClient = (typeof TEMPORAL_CLIENTS)[number];

/**
 * Where scripts/temporal-certs.sh puts the server's files, the clients' shared folder, and the
 * operator's folder of its own: the codec server is given that folder alone, none of the api's or
 * worker's keys (docs/security/trust-model.md).
 */
export const certsFolders = (certsDir: string) => ({ server: join(certsDir, 'server'), clients: join(certsDir, 'clients'), operator: join(certsDir, 'operator') });

/**
 * A client's certificate in the standard variables, which src/config/ and the Temporal CLI
 * read alike; `clientsDir` is the folder holding it (certsFolders). The sandbox does not talk to
 * Temporal and gets none.
 */
export function clientTlsEnv(clientsDir: string, client: TemporalClient): Record<string, string> {
  const file = (name: string) => join(clientsDir, name);
  return {
    TEMPORAL_TLS_CLIENT_CERT_PATH: file(`${client}.pem`),
    TEMPORAL_TLS_CLIENT_KEY_PATH: file(`${client}.key`),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: TEMPORAL_SERVER_NAME,
  };
}

/** The server's TLS, in the variables of its config template (config/docker.yaml in the server module). */
export function serverTlsEnv(serverDir: string): Record<string, string> {
  const file = (name: string) => join(serverDir, name);
  return {
    // Frontend and internode alike: no connection without a certificate from the local CA.
    TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
    // Internode (frontend, history, matching, worker services): the server's certificate both ways.
    TEMPORAL_TLS_SERVER_CERT: file('server.pem'),
    TEMPORAL_TLS_SERVER_KEY: file('server.key'),
    TEMPORAL_TLS_SERVER_CA_CERT: file('ca.pem'),
    TEMPORAL_TLS_INTERNODE_SERVER_NAME: TEMPORAL_SERVER_NAME,
    // The frontend, and the CA its clients' certificates must come from (the template has two slots).
    TEMPORAL_TLS_FRONTEND_CERT: file('server.pem'),
    TEMPORAL_TLS_FRONTEND_KEY: file('server.key'),
    TEMPORAL_TLS_CLIENT1_CA_CERT: file('ca.pem'),
    TEMPORAL_TLS_CLIENT2_CA_CERT: file('ca.pem'),
    // tls.frontend.client: the server's own internal client (its system workflows) presents the
    // server's certificate to the frontend and checks the frontend's against this name.
    TEMPORAL_TLS_FRONTEND_SERVER_NAME: TEMPORAL_SERVER_NAME,
    // A warning in the server's log 30 days before a certificate expires, an error 7 days before.
    TEMPORAL_TLS_EXPIRATION_CHECKS_WARNING_WINDOW: '720h',
    TEMPORAL_TLS_EXPIRATION_CHECKS_ERROR_WINDOW: '168h',
    TEMPORAL_TLS_EXPIRATION_CHECKS_CHECK_INTERVAL: '24h',
  };
}

/** The environment a cluster process inherits, without Temporal credentials meant for another server. */
export function withoutTemporalCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('TEMPORAL_TLS') && name !== 'TEMPORAL_API_KEY'));
}
