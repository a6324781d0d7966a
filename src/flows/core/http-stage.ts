/**
 * The generic `http` provider stage: a request described in the flow with templates. The
 * workflow renders `{{input.<path>}}` and `{{session.ref|tag}}` (pure, deterministic); the
 * activity renders `{{secrets.<NAME>}}` from the worker's configuration, so secrets never
 * enter workflow history. Secrets are allowed in headers only.
 */
import { isObject } from '../../util/json';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface HttpStageParams {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Statuses that count as success; default any 2xx. */
  expectedStatuses?: number[];
}

/** A header value as literal text and secret references; input never becomes a reference. */
export type HeaderPart = string | { secret: string };

export interface HttpRequestSpec {
  method: HttpMethod;
  url: string;
  headers: Record<string, HeaderPart[]>;
  body?: unknown;
  expectedStatuses: number[] | null;
}

/** Input that cannot go into the request as it stands (a path segment of dots). */
export class HttpStageInputError extends Error {
  override readonly name = 'HttpStageInputError';
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\.([A-Za-z0-9_.-]+)\s*\}\}/g;

function lookup(source: unknown, path: string): unknown {
  let value = source;
  for (const key of path.split('.')) {
    if (!isObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/** Problems of an http stage's params, for the flow loader. */
export function httpParamsProblems(params: unknown): string[] {
  if (!isObject(params)) return ['an http stage needs meta.params { method, url }'];
  const problems: string[] = [];
  if (!HTTP_METHODS.includes(params.method as HttpMethod)) problems.push(`params.method must be one of ${HTTP_METHODS.join(', ')}`);
  if (typeof params.url !== 'string' || !/^https?:\/\//.test(params.url)) problems.push('params.url must be an http(s) URL template');
  else if (params.url.includes('{{secrets.')) problems.push('params.url must not contain secrets (they belong in headers)');
  if (params.headers !== undefined && (!isObject(params.headers) || Object.values(params.headers).some((v) => typeof v !== 'string'))) {
    problems.push('params.headers must map names to string templates');
  }
  if (params.body !== undefined && JSON.stringify(params.body).includes('{{secrets.')) problems.push('params.body must not contain secrets');
  if (
    params.expectedStatuses !== undefined &&
    !(Array.isArray(params.expectedStatuses) && params.expectedStatuses.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))
  ) {
    problems.push('params.expectedStatuses must be a list of HTTP statuses');
  }
  return problems;
}

/**
 * Renders the input and session placeholders. A string that is exactly one placeholder takes
 * the value's own JSON type (so a body can carry numbers and objects); inside longer strings
 * values are stringified, and URL-encoded in the URL. In headers, secret placeholders become
 * references the activity fills in; anywhere else (where the loader refuses them) they vanish.
 */
export function renderHttpRequest(params: HttpStageParams, context: { input: unknown; session: { ref: string; tag: string } }): HttpRequestSpec {
  // `{{session.id}}` is the old name of `{{session.ref}}`: it always rendered the ref (the session
  // id is a launch credential and stays out of history). Running sessions carry their flow
  // definitions, so the old name keeps working.
  const session = { ...context.session, id: context.session.ref };
  const resolve = (scope: string, path: string): unknown => {
    if (scope === 'input') return lookup(context.input, path);
    if (scope === 'session') return lookup(session, path);
    return undefined;
  };
  const text = (scope: string, path: string): string => {
    const value = resolve(scope, path);
    return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  };
  const renderString = (template: string, encode: (text: string) => string): unknown => {
    const whole = /^\{\{\s*([A-Za-z]+)\.([A-Za-z0-9_.-]+)\s*\}\}$/.exec(template);
    if (whole && whole[1] !== 'secrets') return resolve(whole[1], whole[2]) ?? null;
    return template.replace(PLACEHOLDER, (match, scope: string, path: string) => (scope === 'secrets' ? '' : encode(text(scope, path))));
  };
  const urlSegment = (value: string): string => {
    // URL parsers resolve "." and ".." (encoded or not): they would move the request elsewhere.
    if (/^(\.|%2e){1,2}$/i.test(value)) throw new HttpStageInputError('an input value of "." or ".." cannot go into the URL');
    return encodeURIComponent(value);
  };
  const headerParts = (template: string): HeaderPart[] => {
    const parts: HeaderPart[] = [];
    let last = 0;
    for (const match of template.matchAll(PLACEHOLDER)) {
      parts.push(template.slice(last, match.index));
      parts.push(match[1] === 'secrets' ? { secret: match[2] } : text(match[1], match[2]));
      last = (match.index ?? 0) + match[0].length;
    }
    parts.push(template.slice(last));
    return parts.filter((part) => part !== '');
  };
  const renderValue = (value: unknown): unknown => {
    if (typeof value === 'string') return renderString(value, (text) => text);
    if (Array.isArray(value)) return value.map(renderValue);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item)]));
    return value;
  };
  return {
    method: params.method,
    url: String(renderString(params.url, urlSegment)),
    headers: Object.fromEntries(Object.entries(params.headers ?? {}).map(([name, value]) => [name, headerParts(value)])),
    ...(params.body !== undefined ? { body: renderValue(params.body) } : {}),
    expectedStatuses: params.expectedStatuses ?? null,
  };
}

/** Joins header parts, filling secret references; an unknown secret is an error naming it. */
export function fillSecrets(headers: Record<string, HeaderPart[]>, secrets: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, parts]) => [
      name,
      parts
        .map((part) => {
          if (typeof part === 'string') return part;
          if (!Object.hasOwn(secrets, part.secret)) {
            throw new Error(`the http stage needs the secret "${part.secret}", which HTTP_STAGE_SECRETS does not define`);
          }
          return secrets[part.secret];
        })
        .join(''),
    ]),
  );
}
