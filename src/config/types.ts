/**
 * The shape of the configuration, and the slice each part is handed: a part imports only the
 * type of its slice (a type-only import), never the loader, so no part depends on src/config at
 * run time and src/config depends on no part.
 */
/** The SDK's TLSConfig (both Connection and NativeConnection take it as it is). */
export interface TemporalTlsConfig {
  /** The name the server's certificate is checked against, when not the address's host. */
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** `false` for plaintext (the dev server); an object (possibly empty) for TLS. */
  tls: TemporalTlsConfig | false;
  apiKey?: string;
  /**
   * The workflow task timeout the api sets on every workflow it starts (WORKFLOW_TASK_TIMEOUT_SECONDS;
   * a continued run keeps it): how long Temporal waits on a worker that took a task before it gives
   * the task to another worker, the wait a step pays when its worker dies mid-task.
   */
  workflowTaskTimeoutMs: number;
}

export interface ProviderEndpoint {
  baseUrl: string;
  clientId: string;
  secret: string;
  /**
   * The most calls a second all workers together start at this provider: the rate of its own
   * activity task queue, enforced by the Temporal server (see src/worker/session-worker.ts). Unlimited when absent.
   */
  maxCallsPerSecond?: number;
}

/** What a backend event of a type does (POST /v1/events). */
/** What a backend event rule does with its events (SESSIONFLOW_EVENT_RULES). */
export const EVENT_ACTIONS = ['start', 'deliver', 'archive'] as const;

export type EventRule =
  | { type: string; action: 'start'; /** The config's `flow`. */ flowId: string; snapshot: string | null; webhook?: boolean }
  | { type: string; action: 'deliver' }
  | { type: string; action: 'archive' };

export interface Config {
  temporal: TemporalConfig;
  /** `metricsPort`: the api's Prometheus GET /metrics, apart from the public port; off when absent. */
  api: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    metricsPort?: number;
    /**
     * PostgreSQL where every api replica counts the per-client limits; in the process's memory
     * when absent (one api process).
     */
    limitsDatabaseUrl?: string;
    /** Per client address and minute, on the routes anyone can call (see src/api/address-limits.ts). */
    addressLimits: AddressLimitsConfig;
    /** Proxies whose X-Forwarded-For names the client address (IPs or CIDRs); none by default. */
    trustedProxies: string[];
    /** A device client that launched no session within this many ms ends (its credential with it). */
    deviceClientUnusedMs: number;
    /** How long a handoff or re-issued link works (HANDOFF_TTL_SECONDS), once. */
    handoffTtlMs: number;
    /**
     * The api's public base URL, where the hosted flow page's `url` points (PUBLIC_URL). Absent:
     * the origin the create request came to, right for local use only.
     */
    publicUrl?: string;
    /**
     * Unix ms until which a step may carry a nonce handed out before nonces were tagged with their
     * session (UNTAGGED_NONCES_UNTIL, for an upgrade with sessions in progress); absent: refused.
     */
    untaggedNoncesUntil?: number;
  };
  /**
   * `inboxWebhookSecret`: the Standard Webhooks secret the sandbox's webhook inbox verifies
   * deliveries with (`make start` passes the development client's); without it none verifies.
   */
  sandbox: { host: string; port: number; attestrWebhookUrl?: string; inboxWebhookSecret?: string };
  /** `make start` only: where its services' access lines go, a rotated file under dataDir or its own stdout. */
  accessLog: 'file' | 'stdout';
  /** The worker's Prometheus GET /metrics port (the Temporal SDK's exporter); off when absent. */
  workerMetricsPort?: number;
  /** The worker's GET /healthz port; no health server when absent. */
  workerHealthPort?: number;
  /** Where the worker's metrics and health servers listen: loopback unless set (compose scrapes them on 0.0.0.0). */
  workerMonitoringHost: string;
  /** How many sessions the worker keeps in memory between steps; the SDK's own default when absent. */
  workerMaxCachedWorkflows?: number;
  /**
   * How long a session's next task waits on its worker's sticky queue before any worker may take
   * it (WORKER_STICKY_QUEUE_TIMEOUT_SECONDS): the wait a step pays when the worker that ran its
   * last task died in between.
   */
  workerStickyQueueTimeoutMs: number;
  flowsDir: string;
  dataDir: string;
  eventRules: EventRule[];
  /**
   * Unix ms until which the api and the webhook activity still sign the result of a session
   * without a seal (UNSEALED_SESSIONS_UNTIL, for an upgrade with sessions in progress); absent: never.
   */
  unsealedSessionsUntil?: number;
  /** A workflow bundle built ahead (scripts/bundle-workflows.ts); the worker bundles at start without one. */
  workflowBundlePath?: string;
  /**
   * Worker Deployment Versioning (docs/guides/deploying.md); off when absent. `buildId`:
   * the bundle's hash when absent. `setCurrent`: the worker makes its build the deployment's
   * current one once it polls (one-build setups: make start, compose, make cluster).
   */
  workerDeployment?: { name: string; buildId?: string; setCurrent: boolean };
  /**
   * OpenTelemetry tracing (SESSIONFLOW_OTLP_ENDPOINT): where the api and the worker send their
   * spans, the endpoint's OTLP/HTTP traces path; off when absent.
   */
  tracing?: { otlpTracesUrl: string };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Data keys (see src/keys): the store and the KEKs that wrap them. */
  keys: {
    /** A postgres:// URL: the PostgreSQL key store; absent: files under `<dataDir>/keys/`. */
    keyStoreUrl?: string;
    /** From SESSIONFLOW_KEK or SESSIONFLOW_KEK_FILE, newest (wrapping) first; absent: a development KEK generated under devKekDir. */
    keks?: Buffer[];
    /** Where generated development KEKs live: outside DATA_DIR, so a copy of the data folder holds no KEK. */
    devKekDir: string;
    /** How long a process keeps a key it read (the longest it can decode a session after its key is destroyed). */
    cacheSeconds: number;
    /** SESSIONFLOW_KEY_STORE_ID: the store id (printed by `npm run keys:init`) every process and init insist on. */
    keyStoreId?: string;
  };
  /** The audit trail (src/audit, docs/security/operators-and-audit.md). */
  audit: {
    /** SESSIONFLOW_AUDIT_URL, postgres://: the PostgreSQL store; absent: `<dataDir>/audit/`. */
    url?: string;
    /** The chain's HMAC key (SESSIONFLOW_AUDIT_KEY or _FILE), kept outside the store; absent: a development key beside the development KEKs. */
    key?: Buffer;
    /** SESSIONFLOW_AUDIT_RETENTION_DAYS: how long `npm run audit -- prune` keeps records (default 400). */
    retentionDays: number;
  };
  /** Where users drop off: the store of session ends (src/funnel, docs/guides/funnel.md). */
  funnel: {
    /** SESSIONFLOW_FUNNEL_URL, postgres://: the PostgreSQL store; absent: `<dataDir>/funnel/`. */
    url?: string;
    /** SESSIONFLOW_FUNNEL_RETENTION_DAYS: how long session ends are kept (default 400, at least 90). */
    retentionDays: number;
  };
  /** The operator codec server (Temporal's /encode and /decode): its own port, never the public one. */
  codec: {
    host: string;
    port: number;
    uiOrigin: string;
    /** Host names it answers for (the Host header, port aside): any other is refused (DNS rebinding). */
    allowedHosts: string[];
    /** Proxies whose X-Forwarded-* headers it believes (IPs or CIDRs); none by default, loopback included. */
    trustedProxies: string[];
    /** The UI's capability URL: requests under `/ui/<secret>/` act as this operator (CODEC_UI_CAPABILITY). */
    uiCapability?: { operator: string; secret: string };
  };
  providers: {
    attestr: ProviderEndpoint;
    finqware: ProviderEndpoint;
    quotaWaitCapMs: number;
    /** How long a device step waits for a provider result still pending before answering pending. */
    pendingWaitSeconds: number;
    /** Values the `http` stage may put in headers as {{secrets.NAME}}. */
    httpStageSecrets: Record<string, string>;
  };
}

export interface AddressLimitsConfig {
  deviceClientsPerMinute: number;
  launchesPerMinute: number;
  authFailuresPerMinute: number;
  /** Requests to the device routes that reach a session (steps, launch, open, read). */
  sessionRequestsPerMinute: number;
  /** Failed answers of those routes (an unknown session, a wrong nonce...): far fewer than requests. */
  sessionFailuresPerMinute: number;
}

/** Each part's slice of the configuration. */
export type ApiConfig = Config['api'];
export type SandboxConfig = Config['sandbox'];
export type KeysConfig = Config['keys'];
export type CodecConfig = Config['codec'];
export type AuditConfigSlice = Config['audit'];
export type FunnelConfigSlice = Config['funnel'];
export type ProvidersConfig = Config['providers'];
