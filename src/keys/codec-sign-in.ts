/**
 * The codec server's sign-in (`GET /auth`, the form; `POST /auth`, JSON or form): with an
 * operator's CLI token (`token`), or name and password (`name`, `password`: the one scrypt
 * check). Either gives the signed session cookie (src/operators/sessions.ts): HttpOnly,
 * SameSite=Strict (the UI and the codec server are one site: the same host, other ports),
 * Secure when the request came over TLS, 8 hours. Every sign-in and every refused one is audited
 * (`operator.sign_in` / `operator.sign_in_failed`, `detail.via`), never with the name typed or
 * the secret; no record, no cookie (503).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEntry, AuditTrail } from '../audit/trail';
import type { Operator, OperatorRegistry } from '../operators/registry';
import { MAX_PASSWORD_LENGTH } from '../operators/passwords';
import { signSession } from '../operators/sessions';

export const CODEC_COOKIE = 'sessionflow_codec';

/** Documented answers (docs/security/operators-and-audit.md, "Operator API"). */
export const OPERATOR_ERRORS = {
  credentialRequired: 'operator_credential_required',
  roleRefused: 'operator_role_refused',
  signInRefused: 'sign_in_refused',
  signInMalformed: 'sign_in_malformed',
} as const;

const FORM =
  '<!doctype html><title>sessionflow codec</title><form method="post" action="/auth">' +
  '<p><label>Operator <input name="name" autocomplete="username"></label> <label>Password <input name="password" type="password" autocomplete="current-password"></label></p>' +
  '<p>or <label>CLI token <input name="token" type="password" autocomplete="off"></label></p><button>Sign in</button></form>';

/** Where a console sign-in may send the browser back to: the console's own paths only. */
export const SIGN_IN_NEXT = /^\/console(\/[A-Za-z0-9/_?=&%.~+-]*)?$/;
/** The console's sign-in page, where a refused console sign-in goes back to. */
export const CONSOLE_SIGN_IN = '/console/sign-in';

export const signInBody = {
  type: 'object',
  properties: {
    token: { type: 'string', maxLength: 200, description: "An operator's CLI token (sfo_...)." },
    name: { type: 'string', maxLength: 64, description: "The operator's name, with password." },
    password: { type: 'string', maxLength: MAX_PASSWORD_LENGTH },
    next: { type: 'string', pattern: SIGN_IN_NEXT.source, description: "The console's page to go back to (a form of the console's sign-in page): the answer is then a redirect." },
  },
  additionalProperties: false,
} as const;

interface SignInBody {
  next?: string;
  token?: string;
  name?: string;
  password?: string;
}

export interface SignInOptions {
  operators: OperatorRegistry;
  audit: AuditTrail;
  sessionKey: Buffer;
  /** Who, from where, which request (the codec server's own auditEntry). */
  entry: (request: FastifyRequest, action: AuditEntry['action'], operator?: Operator) => AuditEntry;
}

export function serveSignIn(app: FastifyInstance, { operators, audit, sessionKey, entry }: SignInOptions): void {
  app.get('/auth', { schema: { summary: 'The sign-in form (HTML)' } }, async (_request, reply) => reply.type('text/html').send(FORM));
  // A browser sends every field of a form, empty ones too (this form has three): an empty field is one not filled in.
  const filledIn = (body: string) => Object.fromEntries([...new URLSearchParams(body)].filter(([, value]) => value !== ''));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, filledIn(body as string)));
  app.post<{ Body: SignInBody }>(
    '/auth',
    {
      schema: { summary: 'Sign in with a CLI token, or a name and password: sets the signed session cookie', body: signInBody },
      // The body's own 400 is this route's documented one, not the codec error handler's.
      attachValidation: true,
    },
    async (request, reply) => {
      const { token, name, password, next } = request.body ?? {};
      const byToken = token !== undefined && name === undefined && password === undefined;
      const byPassword = token === undefined && name !== undefined && password !== undefined;
      // The console's form goes back to the console: refusals as a page that says so, not JSON.
      const fromConsole = next !== undefined && !request.validationError;
      const backToSignIn = (problem: string) => reply.redirect(`${CONSOLE_SIGN_IN}?${new URLSearchParams({ problem, next: next! })}`, 303);
      if (fromConsole && !sameOrigin(request)) return reply.code(403).send({ code: OPERATOR_ERRORS.signInMalformed, message: 'a console sign-in must come from the console' });
      if (request.validationError || (!byToken && !byPassword)) {
        if (fromConsole) return backToSignIn('malformed');
        return reply.code(400).send({ code: OPERATOR_ERRORS.signInMalformed, message: 'send either token, or name and password' });
      }
      const via = byToken ? 'token' : 'password';
      const operator = byToken ? operators.byToken(token) : await operators.byPassword(name!, password!);
      if (!operator) {
        await audit.record({ ...entry(request, 'operator.sign_in_failed'), outcome: 'refused', detail: { via } }).catch(() => request.log.warn('a refused sign-in could not be audited'));
        if (fromConsole) return backToSignIn(via);
        return reply.code(401).send({ code: OPERATOR_ERRORS.signInRefused, message: byToken ? 'wrong operator token' : 'wrong operator name or password' });
      }
      // No record, no cookie: an unaudited sign-in answers 503 (the codec error handler).
      await audit.record({ ...entry(request, 'operator.sign_in', operator), detail: { via } });
      setSessionCookie(request, reply, signSession(sessionKey, operator, via));
      if (fromConsole) return reply.redirect(next!, 303);
      return reply.type('text/plain').send(`signed in as ${operator.name} (${operator.role}): the Temporal UI can now decode payloads through this codec server\n`);
    },
  );
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: { value: string; maxAge: number }): void {
  // Secure only over TLS (request.protocol believes X-Forwarded-Proto from trusted proxies only):
  // on plain http a Secure cookie would not come back.
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${CODEC_COOKIE}=${session.value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${session.maxAge}${secure}`);
}

/** A form posted from a page of this server: its Origin names this server's own origin. */
export function sameOrigin(request: FastifyRequest): boolean {
  return request.headers.origin === `${request.protocol}://${request.host}`;
}
