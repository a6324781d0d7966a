/**
 * Finqware sessions sandbox: nonce-chained onboarding sessions with one skill,
 * `bank_account_verification` (one step, `account_details`). Register with `{ prefix: '/finqware' }`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import { canonicalJson, isObject } from '../util/json';
import { installFaults } from './faults';

export interface FinqwareSandboxOptions {
  clientId: string;
  appKey: string;
}

type ErrorType = 'invalid_request' | 'authentication_error' | 'rate_limit_error' | 'api_error';
type SessionStatus = 'SESSION_CREATED' | 'SESSION_IN_PROGRESS' | 'SESSION_COMPLETED';

interface StepAnswer {
  step_id: string;
  nonce: string;
  status: SessionStatus;
  data: Record<string, unknown>;
}

interface Session {
  id: string;
  tenantUserId: string;
  skill: string;
  nonce: string;
  status: SessionStatus;
  nextStep: number;
  /** The last accepted submission, kept to answer an exact replay of it. */
  last?: { nonce: string; step: string; data: string; answer: StepAnswer };
}

interface Skill {
  steps: {
    name: string;
    check(data: Record<string, unknown>): string | undefined;
    /** What the bank refuses of well-formed data: a 400 with its code, as Finqware answers (the step can be sent again). */
    refuse?(data: Record<string, unknown>): { code: string; message: string } | undefined;
    answer(data: Record<string, unknown>): Record<string, unknown>;
  }[];
}

/**
 * The sandbox's test account that no bank has (docs/guides/providers.md): its step is refused
 * with 400 `account_not_found`, with any IFSC code.
 */
const ACCOUNT_NOT_FOUND = '000000000000';

const SKILLS: Record<string, Skill> = {
  bank_account_verification: {
    steps: [
      {
        name: 'account_details',
        check: (data) => {
          const unknown = Object.keys(data).filter((key) => key !== 'accountNumber' && key !== 'ifsc');
          if (unknown.length > 0) return `unknown fields: ${unknown.join(', ')}`;
          if (typeof data.accountNumber !== 'string' || !/^\d{6,18}$/.test(data.accountNumber)) {
            return 'accountNumber must be a string of 6 to 18 digits';
          }
          if (typeof data.ifsc !== 'string' || !/^[A-Z]{4}0[A-Z0-9]{6}$/.test(data.ifsc)) {
            return 'ifsc must be 4 capital letters, 0, then 6 letters or digits';
          }
          return undefined;
        },
        refuse: (data) => (data.accountNumber === ACCOUNT_NOT_FOUND ? { code: 'account_not_found', message: 'No account with this number at this branch' } : undefined),
        answer: (data) => ({ account_id: randomUUID(), ifsc: data.ifsc, verified: true, holder_name: 'Sandbox Account Holder' }),
      },
    ],
  },
};

const TYPE_BY_STATUS: Record<number, ErrorType> = { 401: 'authentication_error', 403: 'authentication_error', 429: 'rate_limit_error' };
const CODE_BY_STATUS: Record<number, string> = { 401: 'invalid_client_id', 429: 'rate_limit_exceeded' };

function errorBody(http: number, code: string, message: string) {
  const type = TYPE_BY_STATUS[http] ?? (http >= 500 ? 'api_error' : 'invalid_request');
  return { id: randomUUID(), type, http, code, message };
}

/** Returns a problem when `body` is not an object whose `fields` are all non-empty strings and nothing else. */
function stringFieldsProblem(body: unknown, fields: string[], extra: string[] = []): string | undefined {
  if (!isObject(body)) return 'body must be a JSON object';
  const unknown = Object.keys(body).filter((key) => !fields.includes(key) && !extra.includes(key));
  if (unknown.length > 0) return `unknown fields: ${unknown.join(', ')}`;
  const bad = fields.filter((field) => typeof body[field] !== 'string' || body[field] === '');
  return bad.length > 0 ? `${bad.join(', ')} must be non-empty strings` : undefined;
}

const newNonce = (): string => randomBytes(32).toString('base64url');

type CreateBody = Record<'tenant_user_id' | 'client_id' | 'client_app_key' | 'skill', string>;

function openSession(sessions: Map<string, Session>, openByUserAndSkill: Map<string, string>, body: CreateBody) {
  // Sandbox behaviour: creating a session for a tenant_user_id and skill that already have a
  // session not yet completed returns that session with its current nonce, so a connector that
  // retries a create after a lost answer keeps one session.
  const key = `${body.tenant_user_id}\u0000${body.skill}`;
  const open = sessions.get(openByUserAndSkill.get(key) ?? '');
  if (open && open.status !== 'SESSION_COMPLETED') return { nonce: open.nonce, session_id: open.id, status: open.status };

  const session: Session = {
    id: randomUUID(),
    tenantUserId: body.tenant_user_id,
    skill: body.skill,
    nonce: newNonce(),
    status: 'SESSION_CREATED',
    nextStep: 0,
  };
  sessions.set(session.id, session);
  openByUserAndSkill.set(key, session.id);
  return { nonce: session.nonce, session_id: session.id, status: session.status };
}

export const finqwareSandbox: FastifyPluginAsync<FinqwareSandboxOptions> = async (app, options) => {
  const sessions = new Map<string, Session>();
  const openByUserAndSkill = new Map<string, string>();

  const faults = installFaults(app, {
    errorBody: (status, code) =>
      errorBody(status, code !== undefined ? String(code) : (CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request')), 'Injected fault'),
    signsResults: false,
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(400).send(errorBody(400, 'invalid_data', error.message));
    return reply.code(500).send(errorBody(500, 'internal_error', 'Request could not be processed'));
  });

  const fail = (reply: FastifyReply, http: number, code: string, message: string) => reply.code(http).send(errorBody(http, code, message));

  app.post('/v1/sessions', async (request, reply) => {
    const problem = stringFieldsProblem(request.body, ['tenant_user_id', 'client_id', 'client_app_key', 'skill']);
    if (problem) return fail(reply, 400, 'invalid_data', problem);
    const body = request.body as CreateBody;
    if (body.client_id !== options.clientId) return fail(reply, 401, 'invalid_client_id', 'Unknown client_id');
    if (body.client_app_key !== options.appKey) return fail(reply, 401, 'invalid_client_app_key', 'Invalid client_app_key');
    if (!Object.hasOwn(SKILLS, body.skill)) return fail(reply, 400, 'invalid_skill', 'Unknown skill');

    return openSession(sessions, openByUserAndSkill, body);
  });

  app.post<{ Params: { id: string } }>('/v1/sessions/:id/steps', async (request, reply) => {
    const problem =
      stringFieldsProblem(request.body, ['client_id', 'nonce', 'skill', 'step'], ['data']) ??
      (isObject((request.body as Record<string, unknown>).data) ? undefined : 'data must be a JSON object');
    if (problem) return fail(reply, 400, 'invalid_data', problem);
    const body = request.body as { client_id: string; nonce: string; skill: string; step: string; data: Record<string, unknown> };
    if (body.client_id !== options.clientId) return fail(reply, 401, 'invalid_client_id', 'Unknown client_id');
    const session = sessions.get(request.params.id);
    if (!session) return fail(reply, 404, 'session_not_found', 'Session not found');
    if (body.skill !== session.skill) return fail(reply, 400, 'invalid_skill', 'The skill does not match the session');

    // Sandbox behaviour: repeating the last accepted (nonce, step, data) exactly returns the same
    // answer and changes nothing, so a worker that crashed before recording the answer can ask again.
    const last = session.last;
    if (last && last.nonce === body.nonce && last.step === body.step && last.data === canonicalJson(body.data)) {
      faults.markReplayed(request);
      return last.answer;
    }

    if (body.nonce !== session.nonce) return fail(reply, 400, 'invalid_nonce', 'The nonce is not the current one for this session');
    const steps = SKILLS[session.skill].steps;
    if (session.status === 'SESSION_COMPLETED') return fail(reply, 409, 'session_completed', 'The session is already completed');
    const step = steps[session.nextStep];
    if (body.step !== step.name) return fail(reply, 400, 'invalid_step', `The next step is ${step.name}`);
    const dataProblem = step.check(body.data);
    if (dataProblem) return fail(reply, 400, 'invalid_data', dataProblem);
    const refusal = step.refuse?.(body.data);
    if (refusal) return fail(reply, 400, refusal.code, refusal.message);

    session.nextStep += 1;
    session.status = session.nextStep === steps.length ? 'SESSION_COMPLETED' : 'SESSION_IN_PROGRESS';
    session.nonce = newNonce();
    const answer: StepAnswer = { step_id: randomUUID(), nonce: session.nonce, status: session.status, data: step.answer(body.data) };
    session.last = { nonce: body.nonce, step: body.step, data: canonicalJson(body.data), answer };
    return answer;
  });
};
