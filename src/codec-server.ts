/**
 * The codec server process (see src/keys/codec-server.ts): `CODEC_HOST`:`CODEC_PORT`, keys
 * straight from the configured store, operators from src/operators, every decode audited in
 * the configured trail (src/audit), and the reviewers' routes (src/operator-api/reviews.ts)
 * with a Temporal client of their own and REVIEW_SECRET, and the operator console (src/console/routes.ts)
 * on the same port, its Funnel page reading the configured funnel store (src/funnel).
 */
import { exitOnConfigError } from './config';
import { buildCodecServer } from './keys/codec-server';
import { auditOperatorConfig } from './keys/operator-config';
import { openKeyStore } from './keys/open-store';
import { configuredAuditTrail } from './audit/trail';
import { loadCodecSettings } from './settings';
import { OidcVerifier } from './operators/oidc';
import { openEncryption } from './keys/encryption';
import { ReviewDesk, serveReviews } from './operator-api/reviews';
import { serveConsole } from './console/routes';
import { openFunnelSource } from './funnel/open';
import { loadReviewSecret } from './review-secret';
import type { Client } from '@temporalio/client';
import { connectClient } from './temporal';

async function main(): Promise<void> {
  const { config, operators, sessionKey, oidc } = exitOnConfigError(() => loadCodecSettings(process.env));
  const keys = openKeyStore({ dataDir: config.dataDir, ...config.keys });
  const audit = configuredAuditTrail(config);
  // Fail closed: a change of who may do what that cannot be recorded stops the codec server.
  await auditOperatorConfig(audit, operators.registry).catch((err: unknown) => {
    throw new Error(`the audit trail could not record the operators' configuration (${err instanceof Error ? err.name : 'error'})`);
  });
  const reviewSecret = exitOnConfigError(() => loadReviewSecret(process.env, config.dataDir));
  // The console's Funnel page reads the store the workers write, read-only (src/funnel/open.ts).
  const funnel = openFunnelSource(config);
  // Decisions go to sessions encrypted, as every payload: a session refuses an unencrypted one.
  // Connected on the first review request (and again after a failure), with the codec server's
  // own TEMPORAL_* settings (under mTLS its own certificate, docs/security/trust-model.md), so
  // decoding never depends on Temporal: while Temporal is out of reach, only reviews answer 503.
  const { dataConverter } = openEncryption(config);
  let connecting: Promise<Client> | null = null;
  const client = () =>
    (connecting ??= connectClient(config.temporal, dataConverter).catch((err: unknown) => {
      connecting = null;
      throw err;
    }));
  const app = buildCodecServer({
    keys,
    audit,
    uiOrigin: config.codec.uiOrigin,
    operators: operators.registry,
    sessionKey,
    ...(oidc ? { oidc: new OidcVerifier(oidc) } : {}),
    allowedHosts: config.codec.allowedHosts,
    trustedProxies: config.codec.trustedProxies,
    ...(config.codec.uiCapability ? { uiCapability: config.codec.uiCapability } : {}),
    defaultNamespace: config.temporal.namespace,
    logger: { level: config.logLevel },
    routes: (server, context) => {
      const reviews = { ...context, client, reviewSecret };
      const desk = new ReviewDesk(reviews);
      serveReviews(server, reviews, desk);
      // The console (src/console): the same desk, so a decision from a page is the JSON route's.
      serveConsole(server, { ...context, client, reviews: desk, funnel, temporalUiUrl: config.codec.uiOrigin, namespace: config.temporal.namespace });
    },
  });
  await app.listen({ host: config.codec.host, port: config.codec.port });
  process.stdout.write(`codec server listening on ${config.codec.host}:${config.codec.port}\n`);
  const shutdown = () => void app.close().then(() => keys.close()).then(() => audit.close()).then(() => funnel.close()).then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`codec server failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
