/**
 * The Temporal connection: address, namespace, task queue, TLS and API key, named as the
 * Temporal CLI and SDKs name them.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ConfigError } from '../util/config-error';
import { fileContents, flag, positiveInteger, text, type Env } from './read';
import type { TemporalConfig } from './types';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The certificates of a PEM file (a CA file may hold several); refused when there is none. */
function pemCertificates(name: string, bytes: Buffer): X509Certificate[] {
  const blocks = bytes.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  const certificates = blocks.flatMap((block) => {
    try {
      return [new X509Certificate(block)];
    } catch {
      return [];
    }
  });
  if (certificates.length === 0 || certificates.length !== blocks.length) throw new ConfigError(name, 'must name a file of PEM certificates');
  return certificates;
}

/**
 * mTLS files, checked here so a wrong one stops the process with one line instead of a refused
 * TLS handshake later: the client certificate must be readable and not expired, the key must be
 * its own, the CA file must hold certificates. Messages never repeat a path or a file's content.
 */
function clientCertPair(env: Env): { crt: Buffer; key: Buffer } | undefined {
  const crt = fileContents(env, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
  const key = fileContents(env, 'TEMPORAL_TLS_CLIENT_KEY_PATH');
  if (!crt && !key) return undefined;
  if (!crt || !key) {
    throw new ConfigError(crt ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'must be set together with its pair (client certificate and key)');
  }
  const [certificate] = pemCertificates('TEMPORAL_TLS_CLIENT_CERT_PATH', crt);
  const expiry = new Date(certificate.validTo);
  if (expiry.getTime() < Date.now()) throw new ConfigError('TEMPORAL_TLS_CLIENT_CERT_PATH', `names a certificate that expired on ${expiry.toISOString().slice(0, 10)}`);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError('TEMPORAL_TLS_CLIENT_KEY_PATH', 'must name a PEM private key without a passphrase');
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new ConfigError('TEMPORAL_TLS_CLIENT_KEY_PATH', 'is not the key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH');
  return { crt, key };
}

export function temporalConfig(env: Env): TemporalConfig {
  const address = text(env, 'TEMPORAL_ADDRESS', 'localhost:7233');
  const parts = /^(?:[^\s:/[\]]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(address);
  if (!parts || Number(parts[1]) < 1 || Number(parts[1]) > 65535) {
    throw new ConfigError('TEMPORAL_ADDRESS', `must be host:port with a port from 1 to 65535 (got "${address}")`);
  }
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const clientCert = clientCertPair(env);
  const ca = fileContents(env, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  if (ca) pemCertificates('TEMPORAL_TLS_SERVER_CA_CERT_PATH', ca);
  const serverName = text(env, 'TEMPORAL_TLS_SERVER_NAME', '') || undefined;
  const tlsFlag = flag(env, 'TEMPORAL_TLS');
  if (tlsFlag === false) {
    // An API key may go without TLS (a local proxy); certificates and a server name cannot.
    const tlsOnly = (['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_NAME'] as const).find((name) => env[name]);
    if (tlsOnly) throw new ConfigError('TEMPORAL_TLS', `is false, but ${tlsOnly} is set: it needs TLS`);
  }
  // TLS is on when asked for, or implied by an API key, certificates or a server name (Temporal Cloud, mTLS).
  const tlsWanted = tlsFlag ?? Boolean(apiKey || clientCert || ca || serverName);
  const tls: TemporalConfig['tls'] = tlsWanted
    ? {
        ...(serverName ? { serverNameOverride: serverName } : {}),
        ...(ca ? { serverRootCACertificate: ca } : {}),
        ...(clientCert ? { clientCertPair: clientCert } : {}),
      }
    : false;
  return {
    address,
    namespace: text(env, 'TEMPORAL_NAMESPACE', 'default'),
    taskQueue: text(env, 'TEMPORAL_TASK_QUEUE', 'sessionflow'),
    tls,
    ...(apiKey ? { apiKey } : {}),
    // Temporal's own default is 10 s and its maximum 120 s (docs/guides/benchmark-and-drill.md#timeouts-after-a-fault).
    workflowTaskTimeoutMs: positiveInteger(env, 'WORKFLOW_TASK_TIMEOUT_SECONDS', 5, 120) * 1000,
  };
}
