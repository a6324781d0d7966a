/**
 * Per-address limits on what anyone can call without a tenant's secret: creating device
 * clients, launching sessions, the device routes that reach a session (steps, launch, open,
 * read, the hosted page), and failing authentication. A person never meets them; a script does, and gets the
 * documented 429 with Retry-After, before anything reaches Temporal. The client address is the
 * socket's, or X-Forwarded-For's only when the socket is a configured trusted proxy (Fastify's
 * trustProxy), since behind a proxy every user would otherwise share one address; IPv6
 * addresses count by their /64 (address-key.ts).
 *
 * Many phones can share one address behind carrier NAT, so the session routes have two limits:
 * a generous one on requests, which people make, and a strict one on failures (an unknown
 * session, a wrong nonce), which people rarely make and a flood of made-up ids is made of.
 *
 * Counters live in this api process's memory (rate-limiter-flexible's RateLimiterMemory): they
 * hold back floods from one address, they are not accounting, so N replicas allowing N times
 * the rate is accepted. Memory is bounded by the addresses seen in the last minute.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AddressLimitsConfig } from '../config';
import { addressKey } from './address-key';
import { BackendError, DeviceError, retryAfterSeconds, type DeviceErrorCode } from './errors';
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
  { methods: ['POST'], route: '/v1/sessions/:id/claim', limiter: 'launches', what: 'launches' },
];

/** The device routes anyone can call that reach a session in Temporal, by method and route. */
const SESSION_ROUTES = new Set([
  'POST /v1/sessions/:id/steps',
  'POST /v1/handshakes/:id/launch',
  'POST /v1/sessions/:id/open',
  'GET /v1/sessions/:id',
  'POST /v1/sessions/:id/attestr-sandbox',
  'POST /v1/sessions/:id/handoff',
  'POST /v1/sessions/:id/claim',
  // The hosted page reads its session to say what the link is.
  'GET /flow/:id',
]);

function isSessionRoute(request: FastifyRequest): boolean {
  return SESSION_ROUTES.has(`${request.method} ${routingPath(request)}`);
}

/**
 * Whether a session route's answer is a failure: any 4xx but 429 (already refused here), 409
 * (the session's own state: a second tab, a double click) and `invalid_data` (a person's typo).
 * What remains says the caller named a session, a nonce or a step it does not have.
 */
function isFailure(status: number, code: DeviceErrorCode | undefined): boolean {
  return status >= 400 && status < 500 && status !== 409 && status !== 429 && code !== 'invalid_data';
}

type LimiterName = 'deviceClients' | 'launches' | 'authFailures' | 'sessionRequests' | 'sessionFailures';

export class AddressLimits {
  private readonly limiters: Record<LimiterName, RateLimiterMemory>;

  constructor(
    private readonly limits: AddressLimitsConfig,
    /** Whether a request is on a device route (Finqware's error shape) rather than a backend one (Attestr's). */
    private readonly isDeviceRoute: (request: FastifyRequest) => boolean,
  ) {
    this.limiters = {
      deviceClients: new RateLimiterMemory({ keyPrefix: 'device-clients', points: limits.deviceClientsPerMinute, duration: WINDOW_SECONDS }),
      launches: new RateLimiterMemory({ keyPrefix: 'launches', points: limits.launchesPerMinute, duration: WINDOW_SECONDS }),
      authFailures: new RateLimiterMemory({ keyPrefix: 'auth-failures', points: limits.authFailuresPerMinute, duration: WINDOW_SECONDS }),
      sessionRequests: new RateLimiterMemory({ keyPrefix: 'session-requests', points: limits.sessionRequestsPerMinute, duration: WINDOW_SECONDS }),
      sessionFailures: new RateLimiterMemory({ keyPrefix: 'session-failures', points: limits.sessionFailuresPerMinute, duration: WINDOW_SECONDS }),
    };
  }

  /** Counts what this request's answer says about its address: a failed authentication, a failed session request. */
  async recordAnswer(request: FastifyRequest, status: number): Promise<void> {
    const address = addressKey(request.ip);
    const handshakeRefused = status === 403 && routingPath(request) === '/v1/client/handshake';
    if (status === 401 || handshakeRefused || request.authFailed) await this.limiters.authFailures.penalty(address);
    if (isSessionRoute(request) && isFailure(status, request.deviceErrorCode)) await this.limiters.sessionFailures.penalty(address);
  }

  /** Counts the request where it is counted, and refuses it when its address is over a limit. */
  async admit(request: FastifyRequest): Promise<void> {
    const address = addressKey(request.ip);
    // An address that failed authentication too often is refused everything for the window.
    await this.refuseWhenSpent(request, 'authFailures', this.limits.authFailuresPerMinute, 'failed authentications', address);
    if (isSessionRoute(request)) {
      // Checked before the request counts: a flood of failures is cut off without spending the requests' limit.
      await this.refuseWhenSpent(request, 'sessionFailures', this.limits.sessionFailuresPerMinute, 'failed session requests', address);
      await this.consume(request, 'sessionRequests', 'session requests', address);
    }
    const route = routingPath(request);
    const counted = COUNTED.find((entry) => entry.methods.includes(request.method) && entry.route === route);
    if (counted) await this.consume(request, counted.limiter, counted.what, address);
  }

  /** 429 when a counter that answers record (failures) is at its limit; counts nothing. */
  private async refuseWhenSpent(request: FastifyRequest, limiter: LimiterName, limit: number, what: string, address: string): Promise<void> {
    const spent = await this.limiters[limiter].get(address);
    if (spent && spent.consumedPoints >= limit) throw tooMany(this.isDeviceRoute(request), what, retryAfter(spent));
  }

  private async consume(request: FastifyRequest, limiter: LimiterName, what: string, address: string): Promise<void> {
    try {
      await this.limiters[limiter].consume(address);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooMany(this.isDeviceRoute(request), what, retryAfter(err));
      throw err;
    }
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a route that refused a claimed identity without answering 401 (a step's unknown client_id). */
    authFailed?: boolean;
    /** The device error code the request was answered with, if any (set by the app's error handler). */
    deviceErrorCode?: DeviceErrorCode;
  }
}

/**
 * Hooks on the root app: admission before anything else (authentication included), and each
 * answer counted once sent: a failed authentication (a 401, the credential handshake's 403, or a
 * route's own `authFailed`), a session route's failure.
 */
export function installAddressLimits(app: FastifyInstance, limits: AddressLimits): void {
  app.addHook('onRequest', async (request) => limits.admit(request));
  app.addHook('onResponse', async (request, reply) => limits.recordAnswer(request, reply.statusCode));
}
