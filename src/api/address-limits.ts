/**
 * Per-address limits on what anyone can call without a tenant's secret: creating device
 * clients, launching sessions, and failing authentication. A person never meets them; a script
 * does, and gets the documented 429 with Retry-After. The client address is the socket's, or
 * X-Forwarded-For's only when the socket is a configured trusted proxy (Fastify's trustProxy),
 * since behind a proxy every user would otherwise share one address.
 *
 * Counters live in this api process's memory (rate-limiter-flexible's RateLimiterMemory): they
 * hold back floods from one address, they are not accounting, so N replicas allowing N times
 * the rate is accepted. Memory is bounded by the addresses seen in the last minute.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AddressLimitsConfig } from '../config';
import { BackendError, DeviceError, retryAfterSeconds } from './errors';
import { routingPath } from './request-guards';

const WINDOW_SECONDS = 60;

/** Answered with the route family's 429. */
function tooMany(device: boolean, what: string, retryAfterSeconds: number): Error {
  const message = `too many ${what} from this address; retry after ${retryAfterSeconds} s`;
  return device
    ? new DeviceError(429, 'rate_limit_error', 'rate_limit_exceeded', message, retryAfterSeconds)
    : new BackendError(4291, message, { retryAfterSeconds });
}

function retryAfter(res: RateLimiterRes): number {
  return retryAfterSeconds(res.msBeforeNext);
}

/**
 * Routes whose every call counts, by the route the router matched (never the raw URL: the
 * router decodes percent-encoding, so `/v1/%63lient` is `/v1/client` and must count the same).
 */
const COUNTED: Array<{ methods: string[]; route: string; limiter: 'deviceClients' | 'launches'; what: string }> = [
  { methods: ['POST', 'PUT'], route: '/v1/client', limiter: 'deviceClients', what: 'device clients created' },
  { methods: ['POST'], route: '/v1/handshakes/:id/launch', limiter: 'launches', what: 'launches' },
  // The hosted page's launch may also create a device client.
  { methods: ['POST'], route: '/v1/sessions/:id/open', limiter: 'launches', what: 'launches' },
];

export class AddressLimits {
  private readonly limiters: Record<'deviceClients' | 'launches' | 'authFailures', RateLimiterMemory>;

  constructor(
    private readonly limits: AddressLimitsConfig,
    /** Whether a request is on a device route (Finqware's error shape) rather than a backend one (Attestr's). */
    private readonly isDeviceRoute: (request: FastifyRequest) => boolean,
  ) {
    this.limiters = {
      deviceClients: new RateLimiterMemory({ keyPrefix: 'device-clients', points: limits.deviceClientsPerMinute, duration: WINDOW_SECONDS }),
      launches: new RateLimiterMemory({ keyPrefix: 'launches', points: limits.launchesPerMinute, duration: WINDOW_SECONDS }),
      authFailures: new RateLimiterMemory({ keyPrefix: 'auth-failures', points: limits.authFailuresPerMinute, duration: WINDOW_SECONDS }),
    };
  }

  /** A failed authentication from this request's address (a 401, an unknown client id). */
  async recordAuthFailure(request: FastifyRequest): Promise<void> {
    await this.limiters.authFailures.penalty(request.ip);
  }

  /** Counts the request where it is counted, and refuses it when its address is over a limit. */
  async admit(request: FastifyRequest): Promise<void> {
    // An address that failed authentication too often is refused everything for the window.
    const failures = await this.limiters.authFailures.get(request.ip);
    if (failures && failures.consumedPoints >= this.limits.authFailuresPerMinute) {
      throw tooMany(this.isDeviceRoute(request), 'failed authentications', retryAfter(failures));
    }
    const route = routingPath(request);
    const counted = COUNTED.find((entry) => entry.methods.includes(request.method) && entry.route === route);
    if (!counted) return;
    try {
      await this.limiters[counted.limiter].consume(request.ip);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooMany(this.isDeviceRoute(request), counted.what, retryAfter(err));
      throw err;
    }
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a route that refused a claimed identity without answering 401 (a step's unknown client_id). */
    authFailed?: boolean;
  }
}

/**
 * Hooks on the root app: admission before anything else (authentication included), and each
 * failed authentication counted once answered: a 401, the credential handshake's 403, or a
 * route's own `authFailed`.
 */
export function installAddressLimits(app: FastifyInstance, limits: AddressLimits): void {
  app.addHook('onRequest', async (request) => limits.admit(request));
  app.addHook('onResponse', async (request, reply) => {
    const handshakeRefused = reply.statusCode === 403 && routingPath(request) === '/v1/client/handshake';
    if (reply.statusCode === 401 || handshakeRefused || request.authFailed) await limits.recordAuthFailure(request);
  });
}
