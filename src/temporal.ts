/**
 * Connections to Temporal for the api (client) and the worker, from one TemporalConfig, so both
 * processes reach the same server the same way (plaintext dev server, mTLS, or an API key).
 */
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { TemporalConfig } from './config';

/** gRPC status codes Temporal answers with (the numbers are gRPC's; grpc-js is not a dependency of ours). */
export const GRPC_STATUS = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, FAILED_PRECONDITION: 9, UNAVAILABLE: 14 } as const;

/** What both connections take: the address, TLS (mTLS with a client certificate) and an API key. */
export function connectionOptions(config: TemporalConfig) {
  return {
    address: config.address,
    tls: config.tls === false ? undefined : config.tls,
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  };
}

/**
 * Every client encrypts: `dataConverter` comes from openEncryption (src/keys/encryption.ts).
 * `traced`: each call is a span, and its trace context travels to the workflow in the call's
 * Temporal headers (src/tracing.ts; only when tracing is on).
 */
export async function connectClient(config: TemporalConfig, dataConverter: DataConverter, traced = false): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config));
  return new Client({ connection, namespace: config.namespace, dataConverter, ...(traced ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } } : {}) });
}

/** A plain client connection, for the operator calls the SDK's Client does not wrap (worker deployments). */
export function connectOperator(config: TemporalConfig): Promise<Connection> {
  return Connection.connect(connectionOptions(config));
}

export function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}
