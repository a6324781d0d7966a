/**
 * Provider webhooks coming in. Attestr posts a handshake's completion here. The payload only
 * wakes us up: its signature is checked first (cheap, and keeps strangers from making us call
 * Attestr), then the handshake is fetched from Attestr by id, because the signature covers the
 * result but not which handshake it belongs to. The session is found from the fetched tag,
 * which the connector set to `<ref>.<stage>.<entry>` (the session's ref, a hash of its id;
 * sessions from before: the id), and gets the result as a signal.
 */
import type { FastifyInstance } from 'fastify';
import { ProviderError, type ProviderFailureType } from '../../providers/errors';
import { verifyResultSignature } from '../../result-signature';
import { BackendError, retryAfterSeconds } from '../errors';
import { backendError, errorAnswers } from '../schemas/common';
import { attestrCompletion, received, type AttestrCompletion } from '../schemas/webhooks';
import { SessionNotFoundError } from '../session-gateway';
import type { ApiContext } from '../context';

const PROVIDER_BUSY: ReadonlySet<ProviderFailureType> = new Set(['ProviderRateLimited', 'ProviderQuotaExhausted', 'ProviderUnavailable']);

export function webhookRoutes(app: FastifyInstance, context: ApiContext): void {
  app.post<{ Body: AttestrCompletion }>(
    '/attestr',
    {
      schema: {
        summary: "Attestr's handshake completion webhook",
        body: attestrCompletion,
        response: { 202: received, ...errorAnswers(backendError, [400, 401, 403, 409, 413, 415, 429, 500, 503]) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!verifyResultSignature(body.result, body.resultSignature, context.config.providers.attestr.secret)) {
        throw new BackendError(4016, 'the resultSignature does not verify');
      }
      let verified;
      try {
        verified = await context.attestr.fetchVerifiedResult(body._id);
      } catch (err) {
        if (err instanceof ProviderError && err.type === 'ProviderRejected') throw new BackendError(4031, 'no session waits for this handshake');
        if (err instanceof ProviderError && err.type === 'ProviderSignatureInvalid') throw new BackendError(4016, 'the handshake result does not verify');
        if (err instanceof ProviderError && err.type === 'ProviderResultPending') {
          throw new BackendError(4001, 'Attestr has no result for this handshake', { status: 409 });
        }
        // Attestr itself refuses (rate limit, quota) or is down: it retries its webhook, after our Retry-After.
        if (err instanceof ProviderError && PROVIDER_BUSY.has(err.type)) {
          throw new BackendError(5033, 'Attestr could not be asked about this handshake yet', { retryAfterSeconds: retryAfterSeconds(err.retryAfterMs ?? 0) });
        }
        throw err; // 5001: Attestr retries its webhook
      }
      const ref = (verified.tag ?? '').split('.')[0];
      try {
        await context.gateway.deliverAttestrResult(ref, { handshakeId: verified.handshakeId, requestId: verified.requestId, result: verified.result });
      } catch (err) {
        if (err instanceof SessionNotFoundError) throw new BackendError(4031, 'no session waits for this handshake');
        throw err;
      }
      return reply.code(202).send({ received: true });
    },
  );
}
