/** What the api's routes share: built once per process by buildApp. */
import type { AttestrConnector } from '../providers/attestr';
import type { Config } from '../config';
import type { FlowCatalog } from '../flows/catalog';
import type { ClientDirectory, TenantClient } from '../tenants/registry';
import type { DeviceTokens } from './device-tokens';
import type { ApiMetrics } from './metrics';
import type { RateLimiter } from './rate-limit';
import type { SessionGateway } from './session-gateway';
import type { AuditTrail } from '../audit/trail';

export interface ApiContext {
  config: Config;
  gateway: SessionGateway;
  catalog: FlowCatalog;
  clients: ClientDirectory;
  limiter: RateLimiter;
  /** Fetches handshakes when Attestr's webhook says one completed. */
  attestr: AttestrConnector;
  /** Signs and checks device client credentials. */
  tokens: DeviceTokens;
  /** Limits for clients whose config sets none. */
  limits: { perSecond: number; perDay: number };
  metrics: ApiMetrics;
  /** Where tenants' result reads and archives are recorded before they happen (src/audit). */
  audit: AuditTrail;
}

declare module 'fastify' {
  interface FastifySchema {
    /** One line for /openapi.json. */
    summary?: string;
    /** OpenAPI security requirements of a route outside the backend API (which is all Basic). */
    security?: Array<Record<string, string[]>>;
  }
  interface FastifyRequest {
    /** The authenticated tenant client of a backend request. */
    tenant?: TenantClient;
  }
}
