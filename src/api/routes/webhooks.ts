/**
 * Provider webhooks coming in. Attestr posts a handshake's completion here, and it only wakes the
 * session: nothing in it is taken as a fact. Its signature is checked first (cheap, and keeps
 * strangers out), the session is found from the tag (`<ref>.<stage>.<entry>`, the session's ref,
 * a hash of its id; sessions from before: the id), and gets an attestrResult signal carrying
 * nothing. The session then fetches the result from Attestr and checks its signature itself, a
 * bounded number of times (docs/security/outside-data.md), so the api never calls Attestr here
 * and repeated posts cannot spend the tenant's Attestr quota.
 */
import type { FastifyInstance } from 'fastify';
import { verifyResultSignature } from '../../util/result-signature';
import { BackendError } from '../errors';
import { backendError, errorAnswers } from '../schemas/common';
import { attestrCompletion, received, type AttestrCompletion } from '../schemas/webhooks';
import { SessionNotFoundError } from '../session-errors';
import type { ApiContext } from '../context';

export function webhookRoutes(app: FastifyInstance, context: ApiContext): void {
  app.post<{ Body: AttestrCompletion }>(
    '/attestr',
    {
      schema: {
        summary: "Attestr's handshake completion webhook",
        body: attestrCompletion,
        response: { 202: received, ...errorAnswers(backendError, [400, 401, 403, 413, 415, 429, 500, 503]) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!verifyResultSignature(body.result, body.resultSignature, context.config.providers.attestr.secret)) {
        throw new BackendError(4016, 'the resultSignature does not verify');
      }
      try {
        await context.gateway.wakeForAttestr(body.tag.split('.')[0]);
      } catch (err) {
        if (err instanceof SessionNotFoundError) throw new BackendError(4031, 'no session waits for this handshake');
        throw err;
      }
      return reply.code(202).send({ received: true });
    },
  );
}
