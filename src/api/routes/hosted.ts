/**
 * The hosted flow page (GET /flow/:id), its files (GET /hosted/*), and the two device routes
 * it needs beyond the step API: the browser's launch-or-resume (POST /v1/sessions/:id/open)
 * and, against the Attestr sandbox only, the stand-in for Attestr's own flow on the device.
 *
 * Opening the page is a GET that reads the session and changes nothing, to show at once what
 * the link is (hosted/page-state.ts); the session launches only on the POST the user's first
 * action sends, so link previewers and mail scanners cannot use it up. The launch
 * binds the session to a device key minted for it, set as the browser's cookie for that one
 * session (never to a credential the browser brought along: docs/security/device-binding.md);
 * that browser may come back (a reload, another tab) and gets the current stage and nonce; any
 * other browser is told the session is open on another device.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { request as httpRequest } from 'undici';
import { DEVICE_STATUS, REFUSALS, type LaunchAnswer } from '../../contract/session';
import { deviceKeyBinding } from '../../session-secret';
import type { ApiContext } from '../context';
import { requestDevice } from '../device-auth';
import { DeviceError } from '../errors';
import { holdsBinding, setSessionKeyCookie } from '../hosted/credential';
import { hostedAssets } from '../hosted/assets';
import { BRAND_FILE_HEADERS, BRAND_PATH, brandFiles, pageBrand, stageLinks } from '../hosted/brand';
import { HOSTED_HEADERS, hostedPageHtml, type HostedPageOptions } from '../hosted/page';
import { hostedPageState, pageStatus } from '../hosted/page-state';
import { stageProgress } from '../hosted/progress';
import { answerLanguage, pageLanguage } from '../language';
import { localizePrompt } from '../localize';
import { HOSTED_ASSETS, HOSTED_PREFIX } from '../hosted/urls';
import { SessionNotFoundError, SessionRefusedError } from '../session-errors';
import type { StatusView } from '../session-handles';
import { deviceCredentialOptional, deviceError, errorAnswers } from '../schemas/common';
import { attestrSandboxBody, attestrSandboxResponse, openSessionResponse, sessionParams, type AttestrSandboxBody, type SessionParams } from '../schemas/device';

const errors = errorAnswers(deviceError, [400, 401, 404, 409, 413, 415, 429, 500, 503]);

function sessionNotFound(): DeviceError {
  return new DeviceError(404, 'not_found', 'session_not_found', 'No session with this id is visible to this client');
}

function openElsewhere(): DeviceError {
  return new DeviceError(409, 'conflict', 'session_open_elsewhere', 'The session was started on another device and continues only there');
}

async function statusOf(context: ApiContext, sessionId: string): Promise<StatusView> {
  try {
    return await context.gateway.status(sessionId);
  } catch (err) {
    if (err instanceof SessionNotFoundError) throw sessionNotFound();
    throw err;
  }
}

/** Launch and resume refusals, as the page's errors: a race with another device reads as that device's. */
function openFailure(err: unknown): never {
  if (err instanceof SessionNotFoundError) throw sessionNotFound();
  if (err instanceof SessionRefusedError) {
    if (err.type === REFUSALS.BUSY) throw new DeviceError(409, 'conflict', 'step_in_progress', err.message);
    if (err.type === REFUSALS.WRONG_STATUS || err.type === REFUSALS.WRONG_CLIENT || err.type === REFUSALS.INVALID_PROOF) throw openElsewhere();
  }
  throw err;
}

async function open(context: ApiContext, request: FastifyRequest<{ Params: SessionParams }>, reply: FastifyReply) {
  const sessionId = request.params.id;
  const lang = answerLanguage(request, reply);
  const status = await statusOf(context, sessionId);
  const tenant = context.clients.get(status.clientId);
  if (!tenant) throw sessionNotFound();
  const answer = (launched: LaunchAnswer) => ({
    session_id: sessionId,
    client_id: tenant.id,
    skill: status.flowId,
    nonce: launched.nonce,
    status: launched.status,
    step: launched.step,
    data: localizePrompt(launched.data, lang),
    return_url: status.returnUrl ?? null,
  });
  const ended = () => answer({ nonce: null, status: DEVICE_STATUS[status.status], step: null, data: { step: null, ...(status.outcome ? { outcome: status.outcome } : {}) } });
  try {
    if (status.status === 'created') {
      // A key minted for this launch; its cookie is set only once the launch succeeded.
      const key = context.gateway.newDeviceKey(sessionId);
      const launched = await context.gateway.launch(sessionId, { deviceClientId: deviceKeyBinding(key), tenantId: tenant.id });
      setSessionKeyCookie(request, reply, context, sessionId, key, status.expiry);
      return answer(launched);
    }
    const bound = status.deviceClientId;
    // Never launched in a browser and ended (expired unopened): anyone with the link may see that.
    if (bound === null && status.status !== 'in_progress') return ended();
    if (bound === null) throw openElsewhere();
    const holdsKey = await holdsBinding(request, reply, context, sessionId, tenant.id, bound);
    if (!holdsKey) throw openElsewhere();
    if (status.status !== 'in_progress') return ended();
    // A session with proofs names where its current nonce comes from; one from before is resumed.
    if (!status.pickUp) return answer(await context.gateway.resume(sessionId, bound));
    const { nonceSource, prompt } = status.pickUp;
    if (nonceSource === null) throw new DeviceError(409, 'conflict', 'step_in_progress', 'a step is still running');
    return answer({ nonce: context.gateway.currentNonce(sessionId, nonceSource), status: DEVICE_STATUS.in_progress, step: prompt.step, data: prompt });
  } catch (err) {
    return openFailure(err);
  }
}

/** The sandbox is the only Attestr on loopback: the real vendor never is. */
function attestrIsSandbox(context: ApiContext): boolean {
  const host = new URL(context.config.providers.attestr.baseUrl).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

async function completeSandboxHandshake(context: ApiContext, request: FastifyRequest<{ Params: SessionParams; Body: AttestrSandboxBody }>) {
  if (!attestrIsSandbox(context)) throw new DeviceError(404, 'not_found', 'route_not_found', 'Attestr is not the sandbox here: the user completes the handshake in Attestr');
  const status = await statusOf(context, request.params.id);
  const device = await requestDevice(request, context, request.params.id, status.clientId);
  if (device === undefined || status.deviceClientId !== device || status.status !== 'in_progress') throw sessionNotFound();
  const url = `${context.config.providers.attestr.baseUrl}/_device/handshakes/${encodeURIComponent(request.body.handshake_id)}/complete`;
  // No body: the sandbox answers with its sample person, whose name the sample flow compares with the typed one.
  const answer = await httpRequest(url, { method: 'POST' });
  await answer.body.dump();
  if (answer.statusCode === 409) throw new DeviceError(409, 'conflict', 'handshake_completed', 'The Attestr handshake is completed already');
  if (answer.statusCode !== 200) throw new DeviceError(404, 'not_found', 'handshake_not_found', 'No such Attestr handshake in the sandbox');
  return { completed: true as const };
}

const RETRY_AFTER_SECONDS = 1;

/**
 * The session's tenant's brand and its flow's steps, for the page. A link that is not valid gets
 * the defaults, so its brand tells nothing more. A draft may have changed since the session
 * began: a stage it no longer has gets no step count.
 */
function brandAndProgress(context: ApiContext, status: StatusView): Pick<HostedPageOptions, 'brand' | 'progress' | 'links'> {
  const flow = context.catalog.get(status.flowId);
  const machine = status.snapshotId === null ? flow?.draft : flow && Object.hasOwn(flow.snapshots, status.snapshotId) ? flow.snapshots[status.snapshotId] : undefined;
  const brand = pageBrand(context.clients.get(status.clientId));
  return machine ? { brand, progress: stageProgress(machine), links: stageLinks(machine) } : { brand };
}

/** What the page shows; Temporal or the key store not answering gives a page saying to try again, rather than a JSON error. */
async function pageOptions(context: ApiContext, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): Promise<Omit<HostedPageOptions, 'lang'>> {
  try {
    const status = await pageStatus(context, request.params.id);
    const state = await hostedPageState(context, request, reply, status);
    return status === null || state.page === 'invalid' ? { state } : { state, ...brandAndProgress(context, status) };
  } catch (err) {
    request.log.warn({ err: { name: err instanceof Error ? err.name : 'unknown' } }, 'hosted page: the session could not be read');
    return { state: { page: 'unavailable' } };
  }
}

async function sendAsset(reply: FastifyReply, file: string) {
  const asset = (await hostedAssets()).get(file);
  if (!asset) return reply.callNotFound();
  return reply.headers({ ...HOSTED_HEADERS, 'cache-control': 'no-cache' }).type(asset.type).send(asset.body);
}

export function hostedRoutes(app: FastifyInstance, context: ApiContext): void {
  // No schema: pages and files, not API operations, so they stay out of /openapi.json.
  app.get<{ Params: { id: string }; Querystring: { lang?: unknown } }>(`${HOSTED_PREFIX}/:id`, async (request, reply) => {
    const lang = pageLanguage(request, reply, context);
    const options = await pageOptions(context, request, reply);
    const { page } = options.state;
    // Not valid answers 404, so a flood of made-up ids counts against the per-address failure limit.
    const status = page === 'invalid' ? 404 : page === 'unavailable' ? 503 : 200;
    if (status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return reply
      .code(status)
      .headers({ ...HOSTED_HEADERS, 'content-language': lang, vary: 'accept-language, cookie' })
      .type('text/html; charset=utf-8')
      .send(hostedPageHtml({ ...options, lang }));
  });

  // Named by content hash (src/api/hosted/brand.ts): built once, from the clients loaded at start.
  const brand = brandFiles(context.clients.list());
  app.get<{ Params: { file: string } }>(`${BRAND_PATH}/:file`, async (request, reply) => {
    const file = brand.get(request.params.file);
    if (!file) return reply.callNotFound();
    return reply.headers(BRAND_FILE_HEADERS).type(file.type).send(file.body);
  });

  app.get<{ Params: { file: string } }>(`${HOSTED_ASSETS}/:file`, async (request, reply) => sendAsset(reply, request.params.file));
  // Where browsers ask for an icon by default (a JSON answer, a page without <link rel=icon>).
  app.get('/favicon.ico', async (_request, reply) => sendAsset(reply, 'favicon.svg'));

  app.post<{ Params: SessionParams }>(
    '/v1/sessions/:id/open',
    {
      schema: {
        summary: "Launch a session in this browser, or resume it in the browser that launched it (the hosted page's first action)",
        security: deviceCredentialOptional,
        params: sessionParams,
        response: { 200: openSessionResponse, ...errors },
      },
    },
    (request, reply) => open(context, request, reply),
  );

  app.post<{ Params: SessionParams; Body: AttestrSandboxBody }>(
    '/v1/sessions/:id/attestr-sandbox',
    {
      schema: {
        summary: "Sandbox only: completes the session's Attestr handshake, as the user would in Attestr's own flow",
        security: deviceCredentialOptional,
        params: sessionParams,
        body: attestrSandboxBody,
        response: { 200: attestrSandboxResponse, ...errors },
      },
    },
    (request) => completeSandboxHandshake(context, request),
  );
}
