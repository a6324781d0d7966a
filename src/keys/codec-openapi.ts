/**
 * The operator API's OpenAPI document, GET /openapi.json on the codec server's port: built from
 * the routes' own schemas (as the api's src/api/openapi.ts is), with the permission each route
 * wants (`x-permission`, and the least role allowed it), so it cannot drift from what the server
 * does. Routes added later (the review routes) appear once they carry a schema.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { PERMISSIONS, type Permission } from '../operators/roles';

type Schema = Record<string, unknown>;

const errorBody = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['message'] };
const errors = {
  '401': { description: 'No operator credential, or a refused one (code operator_credential_required)', content: { 'application/json': { schema: errorBody } } },
  '403': { description: "The operator's role is not allowed this (code operator_role_refused)", content: { 'application/json': { schema: errorBody } } },
};

/** Registers the hook that gathers the routes; call before any route is added. */
export function collectOperatorRoutes(app: FastifyInstance): RouteOptions[] {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    if (route.schema && route.method !== 'HEAD') routes.push(route as RouteOptions);
  });
  return routes;
}

function parameters(location: 'query' | 'path', object: Schema | undefined): Schema[] {
  return Object.entries((object?.properties as Record<string, Schema>) ?? {}).map(([name, schema]) => ({ name, in: location, required: location === 'path', schema }));
}

export function operatorOpenApi(routes: readonly RouteOptions[]): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const route of routes) {
    const schema = route.schema as Schema & { body?: Schema; querystring?: Schema; params?: Schema; summary?: string };
    const permission = (route.config as { permission?: Permission } | undefined)?.permission;
    const operation: Schema = {
      ...(schema.summary ? { summary: schema.summary } : {}),
      tags: [route.url.split('/')[1] || 'operator'],
      ...(permission ? { 'x-permission': permission, description: `Wants the ${permission} permission (role ${PERMISSIONS[permission]} or above).`, security: [{ operatorBearer: [] }, { operatorCookie: [] }] } : { security: [] }),
      parameters: [...parameters('path', schema.params), ...parameters('query', schema.querystring)],
      ...(schema.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema.body } } } } : {}),
      responses: { '200': { description: 'OK' }, ...(permission ? errors : {}) },
    };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) (paths[route.url.replace(/:([A-Za-z_]+)/g, '{$1}')] ??= {})[method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'sessionflow operator API', version: '1', description: "The codec server's port: Temporal's codec protocol, sign-in, the audit trail and reviews, for named operators (docs/security/operators-and-audit.md)." },
    components: {
      securitySchemes: {
        operatorBearer: { type: 'http', scheme: 'bearer', description: "An operator's CLI token (sfo_...), or an OIDC access token from the configured issuer." },
        operatorCookie: { type: 'apiKey', in: 'cookie', name: 'sessionflow_codec', description: 'The signed session POST /auth sets.' },
      },
    },
    paths,
  };
}

export function serveOperatorOpenApi(app: FastifyInstance, routes: readonly RouteOptions[]): void {
  app.get('/openapi.json', async () => operatorOpenApi(routes));
}
