/**
 * The OpenAPI 3 document, built from the same schemas the routes validate and serialize with,
 * so the document cannot drift from what the api does. Served at /openapi.json.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

type Schema = Record<string, unknown>;

interface Operation {
  summary?: string;
  tags: string[];
  security?: Array<Record<string, string[]>>;
  parameters: Schema[];
  requestBody?: Schema;
  responses: Record<string, Schema>;
}

/** OpenAPI 3.1 takes JSON Schema as it is; only `$id` (ours, for Fastify) is left out. */
function clean(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(clean);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$id').map(([key, value]) => [key, clean(value)]));
}

/** The OpenAPI parameters of an object schema's properties (a route's querystring or headers). */
function namedParameters(location: 'query' | 'header', object: Schema | undefined): Schema[] {
  const required = (object?.required as string[] | undefined) ?? [];
  return Object.entries((object?.properties as Record<string, Schema>) ?? {}).map(([name, value]) => ({
    name,
    in: location,
    required: required.includes(name),
    ...(typeof value.description === 'string' ? { description: value.description } : {}),
    schema: clean(value),
  }));
}

function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, '{$1}');
}

export function collectRoutes(app: FastifyInstance): RouteOptions[] {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    if (route.schema) routes.push(route as RouteOptions);
  });
  return routes;
}

export function buildOpenApi(routes: RouteOptions[]): Schema {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of routes) {
    const schema = route.schema as Schema & { params?: Schema; querystring?: Schema; headers?: Schema; body?: Schema; response?: Record<string, Schema>; summary?: string; security?: Operation['security'] };
    const backend = route.url.startsWith('/api/') || route.url === '/v1/events';
    const operation: Operation = {
      ...(schema.summary ? { summary: schema.summary } : {}),
      tags: [backend ? 'backend' : route.url.startsWith('/webhooks/') ? 'webhooks' : 'device'],
      ...(backend ? { security: [{ basicAuth: [] }] } : schema.security ? { security: schema.security } : {}),
      parameters: [
        ...Object.entries((schema.params?.properties as Record<string, Schema>) ?? {}).map(([name, value]) => ({
          name,
          in: 'path',
          required: true,
          schema: clean(value),
        })),
        ...namedParameters('query', schema.querystring),
        ...namedParameters('header', schema.headers),
      ],
      responses: Object.fromEntries(
        Object.entries(schema.response ?? {}).map(([status, body]) => [
          status,
          body.type === 'null'
            ? { description: String(body.description ?? 'No body') }
            : { description: status.startsWith('2') ? 'OK' : 'Error', content: { 'application/json': { schema: clean(body) } } },
        ]),
      ),
    };
    if (backend && route.method === 'POST' && route.url.endsWith('/handshake')) {
      operation.parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'The same key and client get the first response again; the same key with another body is refused (4001).',
        schema: { type: 'string', maxLength: 255 },
      });
    }
    if (schema.body) operation.requestBody = { required: true, content: { 'application/json': { schema: clean(schema.body) } } };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      (paths[openApiPath(route.url)] ??= {})[method.toLowerCase()] = operation;
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sessionflow',
      version: '1',
      description: 'Backend API in the Attestr FlowX shape; device API in the Finqware Sessions shape. Every response carries an x-request-id header.',
    },
    components: {
      securitySchemes: {
        basicAuth: { type: 'http', scheme: 'basic', description: 'base64(clientId:secret)' },
        deviceBearer: { type: 'http', scheme: 'bearer', description: 'A device client credential (sfc1...), as native apps send it.' },
        deviceCookie: { type: 'apiKey', in: 'cookie', name: '__client', description: "A device credential, as browsers send it: `__client` (`__Host-client` over HTTPS), the /v1/client routes' device client credential; or the device key the hosted page's launch sets for one session, `session_<16 hex>` (`__Host-session_<16 hex>` over HTTPS). Cookies never bind a launch." },
      },
    },
    paths,
  };
}
