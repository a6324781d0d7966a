/**
 * docker-compose.yml cannot be started here (no Docker engine), so its wiring is checked by
 * reading it. Each check returns the problems it finds; the second block breaks a copy of the
 * file in one way or more per check and expects that check to notice, so none passes vacuously.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../src/config';
import { SESSION_SEARCH_ATTRIBUTES } from '../src/readiness';
import { clientTlsEnv, serverTlsEnv, TEMPORAL_CLIENTS, type TemporalClient } from '../scripts/temporal-tls';

const ROOT = resolve(__dirname, '..');

/** Read outside src/config/, by the secret loaders: the client and operator registries, the device token key, the session and review secrets. */
const VARIABLES_READ_ELSEWHERE = ['SESSIONFLOW_CLIENTS_FILE', 'SESSIONFLOW_CLIENTS', 'SESSIONFLOW_OPERATORS_FILE', 'SESSIONFLOW_OPERATORS', 'DEVICE_TOKEN_SECRET', 'SESSION_SECRET', 'REVIEW_SECRET'];
const APP_VARIABLES = new Set<string>([...CONFIG_VARIABLES, ...VARIABLES_READ_ELSEWHERE]);

const APP_ENTRIES: Record<string, string> = {
  api: 'node dist/api/main.js',
  worker: 'node dist/worker.js',
  sandbox: 'node dist/sandbox/main.js',
  codec: 'node dist/codec-server.js',
  'key-store-init': 'node dist/key-store-init.js',
};
const ONE_SHOT_JOBS = ['temporal-admin-tools', 'temporal-certs', 'temporal-setup', 'key-store-init'];
/** The services that read session data keys: the key store's init job runs before each. */
const KEY_READERS = ['api', 'worker', 'codec'];
const SERVICES = ['postgresql', 'temporal', 'temporal-ui', ...ONE_SHOT_JOBS, ...Object.keys(APP_ENTRIES)];
const SECRET_NAME = /(SECRET|_KEY|PWD|PASSWORD|TOKEN)$/;
/** `${NAME}`, `${NAME?message}` or `${NAME:?message}`: from the host, with no default to leak. */
const HOST_SUBSTITUTION = /^\$\{[A-Z][A-Z0-9_]*(:?\?[^}]*)?\}$/;

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  ports?: (string | number | { target?: number })[];
  profiles?: string[];
  secrets?: (string | { source: string; target?: string })[];
  volumes?: (string | { target?: string; read_only?: boolean })[];
  container_name?: string;
  configs?: (string | { source: string; target?: string })[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
  configs?: Record<string, { file?: string; content?: string }>;
}
type Check = (compose: Compose) => string[];

function environment(service: Service | undefined): Record<string, string | null> {
  const env = service?.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((item) => {
        const at = item.indexOf('=');
        return at < 0 ? [item, null] : [item.slice(0, at), item.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value === null ? null : String(value)]));
}

function dependencies(service: Service | undefined): Record<string, string> {
  const deps = service?.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep?.condition ?? 'service_started']));
}

function transitiveDependencies(compose: Compose, name: string, seen = new Set<string>()): Set<string> {
  for (const dep of Object.keys(dependencies(compose.services[name]))) {
    if (!seen.has(dep)) {
      seen.add(dep);
      transitiveDependencies(compose, dep, seen);
    }
  }
  return seen;
}

function text(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(' ') : (value ?? '');
}

function hasHealthcheck(service: Service | undefined): boolean {
  const check = service?.healthcheck;
  return Boolean(check && !check.disable && text(check.test).trim() !== '');
}

function containerPorts(service: Service | undefined): number[] {
  return (service?.ports ?? []).map((port) =>
    typeof port === 'object' ? Number(port.target) : Number(String(port).split(':').pop()?.split('/')[0]),
  );
}

/** The address api, worker, UI and setup must use: the temporal service's frontend port. */
function temporalFrontend(compose: Compose): string | undefined {
  const temporal = compose.services.temporal;
  const isServer = temporal?.image?.startsWith('temporalio/server:');
  return isServer && containerPorts(temporal).includes(7233) ? 'temporal:7233' : undefined;
}

/** Where a service sees the files it mounts read-only: secrets, and volumes marked `ro`. */
function readOnlyMounts(compose: Compose, service: Service): string[] {
  const secrets = (service.secrets ?? [])
    .map((secret) => (typeof secret === 'string' ? { source: secret } : secret))
    .filter((secret) => compose.secrets?.[secret.source]?.file)
    .map(({ source, target }) => (target?.startsWith('/') ? target : `/run/secrets/${target ?? source}`));
  const volumes = (service.volumes ?? []).flatMap((volume) => {
    if (typeof volume === 'string') {
      const [, target, mode] = volume.split(':');
      return target && mode?.split(',').includes('ro') ? [target] : [];
    }
    return volume.read_only && volume.target ? [volume.target] : [];
  });
  return [...secrets, ...volumes];
}

/** A service's named volumes: which volume, where, and whether read-only. */
function namedVolumes(service: Service | undefined): { source: string; target: string; readOnly: boolean }[] {
  return (service?.volumes ?? []).flatMap((volume) => {
    if (typeof volume === 'string') {
      const [source, target, mode] = volume.split(':');
      return target ? [{ source, target, readOnly: Boolean(mode?.split(',').includes('ro')) }] : [];
    }
    const long = volume as { source?: string; target?: string; read_only?: boolean };
    return long.source && long.target ? [{ source: long.source, target: long.target, readOnly: Boolean(long.read_only) }] : [];
  });
}

/** The volumes temporal-certs writes, by the folder of scripts/temporal-certs.sh each holds: the server's files, the clients', the codec server's. */
const CERT_VOLUMES = { server: 'temporal-server-certs', clients: 'temporal-client-certs', operator: 'temporal-operator-certs' };
/** Clients whose certificate is in a volume of its own (the script's own_folder_clients): the codec server's. */
const OWN_VOLUME_CLIENTS: Partial<Record<TemporalClient, string>> = { operator: CERT_VOLUMES.operator };
const clientVolume = (client: TemporalClient) => OWN_VOLUME_CLIENTS[client] ?? CERT_VOLUMES.clients;

/** Where a service mounts a certificate volume read-only; undefined when it does not. */
function certsMount(service: Service | undefined, volume: string): string | undefined {
  return namedVolumes(service).find((mount) => mount.source === volume && mount.readOnly)?.target;
}

/** Entries of `wanted` the environment lacks or sets otherwise. */
function missingEnv(env: Record<string, string | null>, wanted: Record<string, string>): string[] {
  return Object.entries(wanted)
    .filter(([name, value]) => env[name] !== value)
    .map(([name, value]) => `${name}=${value} (has ${env[name] ?? 'nothing'})`);
}

/** The Temporal clients and the certificate each presents; the UI image spells the variables its own way. */
const TEMPORAL_CLIENT_SERVICES: Record<string, TemporalClient> = { api: 'api', worker: 'worker', 'temporal-setup': 'cli', 'temporal-ui': 'ui', codec: 'operator' };
const UI_TLS_VARIABLES: Record<string, string> = {
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'TEMPORAL_TLS_CA',
  TEMPORAL_TLS_CLIENT_CERT_PATH: 'TEMPORAL_TLS_CERT',
  TEMPORAL_TLS_CLIENT_KEY_PATH: 'TEMPORAL_TLS_KEY',
  TEMPORAL_TLS_SERVER_NAME: 'TEMPORAL_TLS_SERVER_NAME',
};

/**
 * What a job runs: its command, and the text of each config file it mounts that the command
 * names (the schema and namespace scripts live in scripts/, shared with `make cluster`).
 */
function jobScript(compose: Compose, name: string): string {
  const service = compose.services[name];
  const command = text(service?.command);
  const mounted = (service?.configs ?? [])
    .map((config) => (typeof config === 'string' ? { source: config, target: `/${config}` } : config))
    .filter(({ target }) => target && command.includes(target))
    .map(({ source }) => compose.configs?.[source])
    .map((config) => (config?.file ? readFileSync(join(ROOT, config.file), 'utf8') : (config?.content ?? '')));
  return [command, ...mounted].join('\n');
}

/** The version tag of a temporalio image, e.g. `${TEMPORAL_VERSION:-1.32.2}`. */
function imageTag(service: Service | undefined): string | undefined {
  const image = service?.image ?? '';
  return image.includes(':') ? image.slice(image.indexOf(':') + 1) : undefined;
}

const checks: Record<string, Check> = {
  'defines every service of the stack': (c) =>
    SERVICES.filter((name) => !c.services[name]).map((name) => `no service ${name}`),

  'names only existing services in depends_on': (c) =>
    Object.entries(c.services).flatMap(([name, service]) =>
      Object.keys(dependencies(service))
        .filter((dep) => !c.services[dep])
        .map((dep) => `${name} depends on unknown service ${dep}`),
    ),

  'starts api and worker after PostgreSQL and Temporal, which have healthchecks': (c) => [
    ...['api', 'worker'].flatMap((app) =>
      ['postgresql', 'temporal']
        .filter((server) => !transitiveDependencies(c, app).has(server))
        .map((server) => `${app} does not wait for ${server}`),
    ),
    ...['postgresql', 'temporal']
      .filter((server) => !hasHealthcheck(c.services[server]))
      .map((server) => `${server} has no healthcheck`),
  ],

  'waits for jobs to complete and for servers to be healthy': (c) =>
    Object.entries(c.services).flatMap(([name, service]) =>
      Object.entries(dependencies(service)).flatMap(([dep, condition]) => {
        if (ONE_SHOT_JOBS.includes(dep)) {
          return condition === 'service_completed_successfully' ? [] : [`${name} must wait for ${dep} to complete`];
        }
        const healthchecked = hasHealthcheck(c.services[dep]);
        if (healthchecked !== (condition === 'service_healthy')) {
          return [`${name} waits for ${dep} with ${condition}, but ${dep} has ${healthchecked ? 'a' : 'no'} healthcheck`];
        }
        return [];
      }),
    ),

  'restarts servers unless stopped and retries jobs on failure': (c) =>
    Object.entries(c.services).flatMap(([name, service]) => {
      const wanted = ONE_SHOT_JOBS.includes(name) ? 'on-failure' : 'unless-stopped';
      return service.restart === wanted ? [] : [`${name} has restart ${service.restart}, expected ${wanted}`];
    }),

  'sets up the schemas with temporal-sql-tool and runs Temporal on PostgreSQL': (c) => {
    const job = c.services['temporal-admin-tools'];
    const [jobEnv, server, database] = [job, c.services.temporal, c.services.postgresql].map(environment);
    const script = jobScript(c, 'temporal-admin-tools');
    const problems = [
      'temporal-sql-tool',
      'postgres12',
      'setup-schema',
      'update-schema',
      'temporal_visibility',
      'postgresql/v12',
      'temporal/versioned',
      'visibility/versioned',
    ]
      .filter((part) => !script.includes(part))
      .map((part) => `the schema job does not mention ${part}`);
    if (!c.services.postgresql?.image?.startsWith('postgres:')) problems.push('postgresql is not a postgres image');
    if (server.DB !== 'postgres12') problems.push(`temporal has DB=${server.DB}`);
    if (server.POSTGRES_SEEDS !== 'postgresql') problems.push('temporal does not use the postgresql service');
    if (jobEnv.SQL_HOST !== 'postgresql') problems.push('the schema job does not use the postgresql service');
    const users = new Set([database.POSTGRES_USER, server.POSTGRES_USER, jobEnv.SQL_USER]);
    const passwords = [database.POSTGRES_PASSWORD, server.POSTGRES_PWD, jobEnv.SQL_PASSWORD];
    if (users.size !== 1 || new Set(passwords).size !== 1) problems.push('PostgreSQL credentials differ between services');
    // A development default is accepted here, as long as the host can override it.
    if (!/^\$\{POSTGRES_PASSWORD(:-[^}]*)?\}$/.test(passwords[0] ?? '')) {
      problems.push('the PostgreSQL password is not taken from POSTGRES_PASSWORD');
    }
    return problems;
  },

  'uses pinned images and not the deprecated auto-setup one': (c) =>
    Object.entries(c.services).flatMap(([name, service]) => {
      if (!service.image || service.build) return [];
      if (service.image.includes('temporalio/auto-setup')) return [`${name} uses the deprecated temporalio/auto-setup`];
      const lastSegment = service.image.split('/').pop() ?? '';
      const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
      const pinned = tag.startsWith('${') ? /^\$\{\w+:-[^}]+\}$/.test(tag) : tag !== '' && tag !== 'latest';
      return pinned ? [] : [`${name} image ${service.image} has no pinned tag`];
    }),

  'builds api, worker and sandbox from the repo Dockerfile with their entry points': (c) =>
    Object.entries(APP_ENTRIES).flatMap(([name, entry]) => {
      const service = c.services[name];
      const build = typeof service?.build === 'string' ? { context: service.build } : service?.build;
      const problems: string[] = [];
      if (!build || resolve(ROOT, build.context ?? '.') !== ROOT) {
        problems.push(`${name} is not built from the repo`);
      } else if (!existsSync(join(ROOT, build.dockerfile ?? 'Dockerfile'))) {
        problems.push(`${name}'s Dockerfile does not exist`);
      }
      const command = text(service?.command);
      if (command !== entry) problems.push(`${name} runs "${command}", expected "${entry}"`);
      return problems;
    }),

  'sets on app services only variables the app reads': (c) =>
    Object.keys(APP_ENTRIES).flatMap((name) =>
      Object.keys(environment(c.services[name]))
        .filter((variable) => !APP_VARIABLES.has(variable))
        .map((variable) => `${name} sets ${variable}, which the app does not read`),
    ),

  'points api, worker and codec at the temporal service, on one namespace, api and worker on one task queue': (c) => {
    const frontend = temporalFrontend(c);
    const [api, worker, codec] = [environment(c.services.api), environment(c.services.worker), environment(c.services.codec)];
    const problems = Object.entries({ api, worker, codec })
      .filter(([, env]) => !frontend || env.TEMPORAL_ADDRESS !== frontend)
      .map(([name, env]) => `${name} has TEMPORAL_ADDRESS=${env.TEMPORAL_ADDRESS}, not ${frontend}`);
    for (const variable of ['TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE']) {
      if (!api[variable] || api[variable] !== worker[variable]) problems.push(`api and worker disagree on ${variable}`);
    }
    // The codec server's decisions go to the sessions the apis started.
    if (!api.TEMPORAL_NAMESPACE || codec.TEMPORAL_NAMESPACE !== api.TEMPORAL_NAMESPACE) problems.push('the codec server uses another namespace than the api');
    return problems;
  },

  'points the UI at temporal': (c) => {
    const ui = c.services['temporal-ui'];
    const frontend = temporalFrontend(c);
    const problems: string[] = [];
    if (!frontend || environment(ui).TEMPORAL_ADDRESS !== frontend) problems.push('temporal-ui does not point at temporal');
    if (!ui?.image?.startsWith('temporalio/ui:')) problems.push('temporal-ui is not a temporalio/ui image');
    if (!containerPorts(ui).includes(8080)) problems.push('temporal-ui does not publish its port 8080');
    return problems;
  },

  'creates the namespace and the search attributes the app uses': (c) => {
    const setup = c.services['temporal-setup'];
    const script = jobScript(c, 'temporal-setup');
    const env = environment(setup);
    // Each as name:Type in the setup's loop, the type spelled as the CLI's --type wants it.
    const typed = SESSION_SEARCH_ATTRIBUTES.map(({ name, type }) => `${name}:${type === 'DATETIME' ? 'Datetime' : 'Keyword'}`);
    const problems = ['namespace create', 'search-attribute create', '--type "$type"', ...typed]
      .filter((part) => !script.includes(part))
      .map((part) => `temporal-setup does not run ${part}`);
    if (env.NAMESPACE !== environment(c.services.api).TEMPORAL_NAMESPACE) {
      problems.push('temporal-setup creates another namespace than the app uses');
    }
    if (!temporalFrontend(c) || env.TEMPORAL_ADDRESS !== temporalFrontend(c)) problems.push('temporal-setup does not use temporal');
    return problems;
  },

  'runs one Temporal version, the one scripts/install-temporal-server.sh builds': (c) => {
    const version = execFileSync('bash', [join(ROOT, 'scripts/temporal-version.sh')], { encoding: 'utf8' }).trim();
    return ['temporal', 'temporal-admin-tools', 'temporal-setup']
      .filter((name) => imageTag(c.services[name]) !== `\${TEMPORAL_VERSION:-${version}}`)
      .map((name) => `${name} runs ${imageTag(c.services[name])}, not \${TEMPORAL_VERSION:-${version}}`);
  },

  'keeps secrets out of the file': (c) =>
    Object.keys(APP_ENTRIES).flatMap((name) =>
      Object.entries(environment(c.services[name]))
        .filter(([variable, value]) => SECRET_NAME.test(variable) && !HOST_SUBSTITUTION.test(value ?? ''))
        .map(([variable]) => `${name} sets ${variable} to something other than a host variable without default`),
    ),

  'mounts the clients file read-only where SESSIONFLOW_CLIENTS_FILE points': (c) =>
    ['api', 'worker'].flatMap((name) => {
      const service = c.services[name];
      const path = environment(service).SESSIONFLOW_CLIENTS_FILE;
      if (!service || !path) return [`${name} has no SESSIONFLOW_CLIENTS_FILE`];
      return readOnlyMounts(c, service).includes(path) ? [] : [`${name} does not mount ${path} read-only`];
    }),

  'health-checks api and worker on /healthz and publishes the api port': (c) => {
    const problems = ['api', 'worker']
      .filter((name) => !text(c.services[name]?.healthcheck?.test).includes('/healthz'))
      .map((name) => `${name} has no /healthz healthcheck`);
    const api = c.services.api;
    if (!containerPorts(api).includes(Number(environment(api).PORT))) problems.push('api does not publish its PORT');
    return problems;
  },

  'lets api and worker scale out': (c) =>
    ['api', 'worker'].flatMap((name) => {
      const service = c.services[name];
      if (service?.container_name) return [`${name} has a fixed container_name`];
      return name === 'worker' && service?.ports?.length ? ['worker publishes host ports'] : [];
    }),

  'keeps the sandbox behind the sandbox profile': (c) =>
    Object.entries(c.services).flatMap(([name, service]) => {
      const profiles = service.profiles ?? [];
      if (name === 'sandbox') return profiles.includes('sandbox') ? [] : ['sandbox is not under the sandbox profile'];
      return profiles.length ? [`${name} only runs under a profile`] : [];
    }),

  'points api, worker and codec at one key store in the PostgreSQL service, with the KEK as a secret file': (c) =>
    [...KEY_READERS, 'key-store-init'].flatMap((name) => {
      const env = environment(c.services[name]);
      const problems: string[] = [];
      if (!/^postgres(ql)?:\/\/[^@]+@postgresql:5432\//.test(env.SESSIONFLOW_KEY_STORE_URL ?? '')) problems.push(`${name} does not keep keys in the postgresql service`);
      if (env.SESSIONFLOW_KEY_STORE_URL !== environment(c.services.api).SESSIONFLOW_KEY_STORE_URL) problems.push(`${name} uses another key store than the api`);
      if ('SESSIONFLOW_KEK' in env) problems.push(`${name} sets SESSIONFLOW_KEK in the file`);
      if (!env.SESSIONFLOW_KEK_FILE || !readOnlyMounts(c, c.services[name]).includes(env.SESSIONFLOW_KEK_FILE)) problems.push(`${name} has no KEK file mounted at SESSIONFLOW_KEK_FILE`);
      if (!Object.keys(dependencies(c.services[name])).includes('postgresql') && !transitiveDependencies(c, name).has('postgresql')) problems.push(`${name} does not wait for postgresql`);
      return problems;
    }),

  'keeps one audit chain for api, worker and codec in the PostgreSQL service, with the audit key as a secret file': (c) =>
    KEY_READERS.flatMap((name) => {
      const env = environment(c.services[name]);
      const problems: string[] = [];
      if (!/^postgres(ql)?:\/\/[^@]+@postgresql:5432\//.test(env.SESSIONFLOW_AUDIT_URL ?? '')) problems.push(`${name} does not keep its audit trail in the postgresql service`);
      if (env.SESSIONFLOW_AUDIT_URL !== environment(c.services.api).SESSIONFLOW_AUDIT_URL) problems.push(`${name} writes another audit trail than the api`);
      if ('SESSIONFLOW_AUDIT_KEY' in env) problems.push(`${name} sets SESSIONFLOW_AUDIT_KEY in the file`);
      const keyFile = env.SESSIONFLOW_AUDIT_KEY_FILE;
      if (!keyFile || !readOnlyMounts(c, c.services[name]).includes(keyFile)) problems.push(`${name} has no audit key file mounted at SESSIONFLOW_AUDIT_KEY_FILE`);
      if (keyFile !== environment(c.services.api).SESSIONFLOW_AUDIT_KEY_FILE) problems.push(`${name} chains under another audit key than the api`);
      return problems;
    }),

  'keeps the funnel in the PostgreSQL service: the worker writes where the codec server (the console) reads': (c) => {
    const url = environment(c.services.worker).SESSIONFLOW_FUNNEL_URL ?? '';
    const problems = /^postgres(ql)?:\/\/[^@]+@postgresql:5432\//.test(url) ? [] : ['the worker does not keep the funnel in the postgresql service'];
    if (environment(c.services.codec).SESSIONFLOW_FUNNEL_URL !== url) problems.push('the codec server reads another funnel than the worker writes');
    return problems;
  },

  'makes the key store in one init job that api, worker and codec wait for, all insisting on one store id': (c) => {
    const job = c.services['key-store-init'];
    if (!job) return ['no key-store-init job'];
    const problems = KEY_READERS.filter((name) => dependencies(c.services[name])['key-store-init'] !== 'service_completed_successfully').map(
      (name) => `${name} does not wait for key-store-init to complete`,
    );
    const jobEnv = environment(job);
    if (jobEnv.TEMPORAL_NAMESPACE !== environment(c.services.api).TEMPORAL_NAMESPACE) problems.push('key-store-init makes the key of another namespace than the app uses');
    for (const name of [...KEY_READERS, 'key-store-init']) {
      if (environment(c.services[name]).SESSIONFLOW_KEY_STORE_ID !== '${SESSIONFLOW_KEY_STORE_ID:-}') problems.push(`${name} does not take SESSIONFLOW_KEY_STORE_ID from the host`);
    }
    // One init job: no other service runs the init step.
    const others = Object.entries(c.services).filter(([name, service]) => name !== 'key-store-init' && text(service.command).includes('key-store-init'));
    return [...problems, ...others.map(([name]) => `${name} also runs the init step`)];
  },

  'gives the UI the codec server as its codec endpoint, with credentials': (c) => {
    const ui = environment(c.services['temporal-ui']);
    const codec = c.services.codec;
    const problems: string[] = [];
    if (!codec) return ['no codec service'];
    const port = environment(codec).CODEC_PORT;
    if (!(ui.TEMPORAL_CODEC_ENDPOINT ?? '').includes(`:${port}`)) problems.push('the UI codec endpoint is not the codec port');
    if (ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS !== 'true') problems.push('the UI sends no credentials to the codec server');
    const operatorsFile = environment(codec).SESSIONFLOW_OPERATORS_FILE;
    if (!operatorsFile || !readOnlyMounts(c, codec).includes(operatorsFile)) problems.push('the codec server has no operators file mounted at SESSIONFLOW_OPERATORS_FILE');
    // The default endpoint's host must be one the codec server answers for (its Host check).
    const endpointHost = /\/\/([^:/]+)/.exec(/:-([^}]*)\}/.exec(ui.TEMPORAL_CODEC_ENDPOINT ?? '')?.[1] ?? ui.TEMPORAL_CODEC_ENDPOINT ?? '')?.[1];
    const allowedHosts = /:-([^}]*)\}/.exec(environment(codec).CODEC_ALLOWED_HOSTS ?? '')?.[1] ?? environment(codec).CODEC_ALLOWED_HOSTS ?? '';
    if (!endpointHost || !allowedHosts.split(',').includes(endpointHost)) problems.push("the codec server does not answer for the UI's codec endpoint host");
    if (port === environment(c.services.api).PORT) problems.push('the codec server shares the public port');
    return problems;
  },

  'serves worker metrics and health on every interface, for the scraper and the healthcheck': (c) => {
    const env = environment(c.services.worker);
    return env.WORKER_METRICS_PORT && env.WORKER_MONITORING_HOST !== '0.0.0.0' ? ['the worker listens for metrics and health on loopback only (set WORKER_MONITORING_HOST)'] : [];
  },

  'makes the certificates with scripts/temporal-certs.sh into its volumes before Temporal starts': (c) => {
    const job = c.services['temporal-certs'];
    if (!job) return ['no temporal-certs job'];
    const script = jobScript(c, 'temporal-certs');
    const problems = ['openssl', 'server.pem'].filter((part) => !script.includes(part)).map((part) => `the certificate job does not mention ${part}`);
    // Shared clients in clients/; a client with a volume of its own in a folder of its own.
    const listed = (variable: string) => new RegExp(`^${variable}="([^"]*)"`, 'm').exec(script)?.[1].split(' ') ?? [];
    const [shared, alone] = [listed('clients'), listed('own_folder_clients')];
    problems.push(
      ...TEMPORAL_CLIENTS.filter((client) => !(OWN_VOLUME_CLIENTS[client] ? alone : shared).includes(client)).map(
        (client) => `the certificate job makes no certificate for ${client} in ${OWN_VOLUME_CLIENTS[client] ? 'a folder of its own' : 'clients/'}`,
      ),
    );
    const mounts = namedVolumes(job);
    for (const [folder, volume] of Object.entries(CERT_VOLUMES)) {
      if (!mounts.some((mount) => mount.source === volume && !mount.readOnly && mount.target.endsWith(`/${folder}`))) problems.push(`temporal-certs does not write ${volume} as ${folder}/`);
      if (!c.volumes || !(volume in c.volumes)) problems.push(`the volume ${volume} is not declared`);
    }
    if (dependencies(c.services.temporal)['temporal-certs'] !== 'service_completed_successfully') problems.push('temporal does not wait for temporal-certs');
    return problems;
  },

  'runs Temporal with mTLS required on the frontend and internode, its own internal client included': (c) => {
    const temporal = c.services.temporal;
    const serverDir = certsMount(temporal, CERT_VOLUMES.server);
    if (!serverDir) return ['temporal does not mount the server certificates read-only'];
    const env = environment(temporal);
    const problems = missingEnv(env, serverTlsEnv(serverDir)).map((entry) => `temporal lacks ${entry}`);
    if (certsMount(temporal, CERT_VOLUMES.clients) || certsMount(temporal, CERT_VOLUMES.operator)) problems.push('temporal mounts the client keys');
    return problems;
  },

  'gives every Temporal client its own certificate, read-only, checked against the server name': (c) =>
    Object.entries(TEMPORAL_CLIENT_SERVICES).flatMap(([name, client]) => {
      const service = c.services[name];
      const clientsDir = certsMount(service, clientVolume(client));
      if (!clientsDir) return [`${name} does not mount its client certificate's volume read-only`];
      const problems: string[] = [];
      let wanted = clientTlsEnv(clientsDir, client);
      if (name === 'temporal-ui') {
        wanted = { ...Object.fromEntries(Object.entries(wanted).map(([variable, value]) => [UI_TLS_VARIABLES[variable], value])), TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: 'true' };
      }
      problems.push(...missingEnv(environment(service), wanted).map((entry) => `${name} lacks ${entry}`));
      if (certsMount(service, CERT_VOLUMES.server) || namedVolumes(service).some((mount) => mount.source === CERT_VOLUMES.server)) problems.push(`${name} mounts the server's key`);
      return problems;
    }),

  // Whoever takes a client gets what it mounts: the codec server (the operator API) holds its own
  // certificate and no other, so its Temporal identity can be told apart and withdrawn alone.
  "mounts into each Temporal client no certificate volume but its own: the codec server gets its own, not the api's or worker's": (c) =>
    Object.entries(TEMPORAL_CLIENT_SERVICES).flatMap(([name, client]) => {
      const own = clientVolume(client);
      const problems = namedVolumes(c.services[name])
        .filter((mount) => Object.values(CERT_VOLUMES).includes(mount.source) && mount.source !== own)
        .map((mount) => `${name} mounts ${mount.source}`);
      const env = environment(c.services[name]);
      const presented = env.TEMPORAL_TLS_CLIENT_CERT_PATH ?? env.TEMPORAL_TLS_CERT ?? '';
      if (!presented.endsWith(`/${client}.pem`)) problems.push(`${name} presents ${presented || 'no certificate'}, not ${client}.pem`);
      if (OWN_VOLUME_CLIENTS[client] && dependencies(c.services[name])['temporal-certs'] !== 'service_completed_successfully') problems.push(`${name} does not wait for its certificate (temporal-certs)`);
      return problems;
    }),

  'keeps certificates from services that do not talk to Temporal': (c) =>
    Object.entries(c.services)
      .filter(([name]) => !['temporal', 'temporal-certs', ...Object.keys(TEMPORAL_CLIENT_SERVICES)].includes(name))
      .flatMap(([name, service]) => [
        ...namedVolumes(service)
          .filter((mount) => Object.values(CERT_VOLUMES).includes(mount.source))
          .map((mount) => `${name} mounts ${mount.source}`),
        ...Object.keys(environment(service))
          .filter((variable) => variable.startsWith('TEMPORAL_TLS'))
          .map((variable) => `${name} sets ${variable}`),
      ]),

  'publishes the UI, which has no login of its own, on this host only': (c) =>
    (c.services['temporal-ui']?.ports ?? [])
      .filter((port) => !(typeof port === 'string' && port.startsWith('127.0.0.1:')))
      .map((port) => `temporal-ui publishes ${JSON.stringify(port)} beyond this host`),

  'escapes shell variables from compose interpolation in job scripts': (c) =>
    ONE_SHOT_JOBS.filter((name) => text(c.services[name]?.command).replaceAll('$$', '').includes('$')).map(
      (name) => `${name}'s script has a single $, which compose would interpolate`,
    ),
};

function dockerfileProblems(dockerfile: string): string[] {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stageStarts = lines.flatMap((line, i) => (/^FROM\s/i.test(line) ? [i] : []));
  if (stageStarts.length < 2) return ['the Dockerfile is not multi-stage'];
  const first = lines.slice(0, stageStarts[1]);
  const final = lines.slice(stageStarts[stageStarts.length - 1]);
  const expectations: [string, boolean][] = [
    ['every stage is node:20-bookworm-slim', stageStarts.every((i) => /^FROM\s+node:20-bookworm-slim(\s|$)/i.test(lines[i]))],
    ['the build stage runs npm ci', first.some((line) => /^RUN\s+npm ci(\s|$)/.test(line))],
    ['the build stage runs npm run build', first.some((line) => /^RUN\s.*npm run build/.test(line))],
    ['the final stage installs production dependencies only', final.some((line) => /^RUN\s+npm ci\s.*--omit=dev/.test(line))],
    ['the final stage copies dist from the build', final.some((line) => /^COPY\s+--from=\S+\s+\S*dist\/?\s/.test(line))],
    ['the final stage copies flows', final.some((line) => /^COPY\s+(?!--from)\S*flows\/?\s/.test(line))],
    ['the final stage sets NODE_ENV=production', final.some((line) => /^ENV\s(.*\s)?NODE_ENV=production(\s|$)/.test(line))],
    ['the final stage runs as a non-root user', final.some((line) => /^USER\s+(?!root\b|0\b)\S+/.test(line))],
    ['the default command runs the api', final.some((line) => line === 'CMD ["node", "dist/api/main.js"]')],
  ];
  return expectations.filter(([, met]) => !met).map(([expectation]) => `expected: ${expectation}`);
}

const dockerfileText = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Compose;

describe('docker-compose.yml', () => {
  it('parses to a compose file with services', () => {
    expect(typeof compose.services).toBe('object');
    expect(Object.keys(compose.services).length).toBeGreaterThan(0);
  });

  it.each(Object.keys(checks))('%s', (name) => {
    expect(checks[name](compose)).toEqual([]);
  });

  it('has a Dockerfile whose final stage runs the compiled app', () => {
    expect(dockerfileProblems(dockerfileText)).toEqual([]);
  });
});

describe('the checks catch a broken file', () => {
  const env = (c: Compose, service: string) => c.services[service].environment as Record<string, unknown>;
  const editScript = (c: Compose, service: string, edit: (script: string) => string) => {
    c.services[service].command = edit(text(c.services[service].command));
  };
  /** Edits the script files a job mounts (scripts/*.sh), as if the file in the repo changed. */
  const editMountedScript = (c: Compose, service: string, edit: (script: string) => string) => {
    for (const mount of c.services[service].configs ?? []) {
      const source = typeof mount === 'string' ? mount : mount.source;
      const config = c.configs?.[source];
      const script = config?.file ? readFileSync(join(ROOT, config.file), 'utf8') : (config?.content ?? '');
      c.configs = { ...c.configs, [source]: { content: edit(script) } };
    }
  };
  /** Per check: ways to break the file that the check must report. */
  const breakages: Record<string, [string, (c: Compose) => void][]> = {
    'defines every service of the stack': [['the UI is removed', (c) => delete c.services['temporal-ui']]],
    'names only existing services in depends_on': [['the setup job is removed', (c) => delete c.services['temporal-setup']]],
    'starts api and worker after PostgreSQL and Temporal, which have healthchecks': [
      ['the worker waits for nothing', (c) => delete c.services.worker.depends_on],
      ['temporal has no healthcheck', (c) => delete c.services.temporal.healthcheck],
    ],
    'waits for jobs to complete and for servers to be healthy': [
      ['api waits for services to start only', (c) => (c.services.api.depends_on = ['temporal', 'temporal-setup'])],
    ],
    'restarts servers unless stopped and retries jobs on failure': [
      ['a job restarts forever', (c) => (c.services['temporal-setup'].restart = 'unless-stopped')],
    ],
    'sets up the schemas with temporal-sql-tool and runs Temporal on PostgreSQL': [
      ['temporal points elsewhere', (c) => (env(c, 'temporal').POSTGRES_SEEDS = 'db')],
      ['the job runs something else', (c) => (c.services['temporal-admin-tools'].command = ['true'])],
      ['the schema script is not mounted', (c) => delete c.services['temporal-admin-tools'].configs],
      ['a literal database password', (c) => (env(c, 'postgresql').POSTGRES_PASSWORD = 'temporal')],
    ],
    'uses pinned images and not the deprecated auto-setup one': [
      ['auto-setup is back', (c) => (c.services.temporal.image = 'temporalio/auto-setup:1.30.1')],
      ['the UI image floats', (c) => (c.services['temporal-ui'].image = 'temporalio/ui')],
      ['a version variable has no default', (c) => (c.services.temporal.image = 'temporalio/server:${TEMPORAL_VERSION}')],
    ],
    'builds api, worker and sandbox from the repo Dockerfile with their entry points': [
      ['the worker runs the api', (c) => (c.services.worker.command = ['node', 'dist/api/main.js'])],
      ['the api names a missing Dockerfile', (c) => (c.services.api.build = { context: '.', dockerfile: 'Dockerfile.gone' })],
    ],
    'sets on app services only variables the app reads': [['api sets API_PORT', (c) => (env(c, 'api').API_PORT = '8080')]],
    'points api, worker and codec at the temporal service, on one namespace, api and worker on one task queue': [
      ['the worker dials localhost', (c) => (env(c, 'worker').TEMPORAL_ADDRESS = 'localhost:7233')],
      ['the worker polls another queue', (c) => (env(c, 'worker').TEMPORAL_TASK_QUEUE = 'other')],
      ['the codec server dials localhost', (c) => delete env(c, 'codec').TEMPORAL_ADDRESS],
      ['the codec server decides in another namespace', (c) => (env(c, 'codec').TEMPORAL_NAMESPACE = 'other')],
    ],
    'points the UI at temporal': [['the UI dials localhost', (c) => (env(c, 'temporal-ui').TEMPORAL_ADDRESS = 'localhost:7233')]],
    'creates the namespace and the search attributes the app uses': [
      ['ClientId is forgotten', (c) => editMountedScript(c, 'temporal-setup', (s) => s.replaceAll('ClientId', ''))],
      ['SessionStageSince as a Keyword', (c) => editMountedScript(c, 'temporal-setup', (s) => s.replaceAll('SessionStageSince:Datetime', 'SessionStageSince:Keyword'))],
      ['the setup script is not mounted', (c) => delete c.services['temporal-setup'].configs],
      ['the setup job runs something else', (c) => editScript(c, 'temporal-setup', () => 'true')],
      ['another namespace', (c) => (env(c, 'temporal-setup').NAMESPACE = 'sessions')],
    ],
    'keeps secrets out of the file': [
      ['a literal secret', (c) => (env(c, 'worker').ATTESTR_CLIENT_SECRET = 'hunter2')],
      ['a secret with a default', (c) => (env(c, 'worker').FINQWARE_CLIENT_APP_KEY = '${FINQWARE_CLIENT_APP_KEY:-hunter2}')],
    ],
    'mounts the clients file read-only where SESSIONFLOW_CLIENTS_FILE points': [
      ['the worker mounts no secret', (c) => delete c.services.worker.secrets],
    ],
    'health-checks api and worker on /healthz and publishes the api port': [
      ['the api has no healthcheck', (c) => delete c.services.api.healthcheck],
      ['the api port is not published', (c) => delete c.services.api.ports],
    ],
    'lets api and worker scale out': [['the worker has a fixed name', (c) => (c.services.worker.container_name = 'worker')]],
    'keeps the sandbox behind the sandbox profile': [['the sandbox always runs', (c) => delete c.services.sandbox.profiles]],
    'points api, worker and codec at one key store in the PostgreSQL service, with the KEK as a secret file': [
      ['the worker keeps keys in files', (c) => delete env(c, 'worker').SESSIONFLOW_KEY_STORE_URL],
      ['the codec server reads another database', (c) => (env(c, 'codec').SESSIONFLOW_KEY_STORE_URL = 'postgres://u:p@postgresql:5432/other')],
      ['the api has no KEK mounted', (c) => (c.services.api.secrets = ['sessionflow-clients'])],
      ['the init job makes a store in another database', (c) => (env(c, 'key-store-init').SESSIONFLOW_KEY_STORE_URL = 'postgres://u:p@postgresql:5432/other')],
    ],
    'keeps one audit chain for api, worker and codec in the PostgreSQL service, with the audit key as a secret file': [
      ['the worker keeps its audit in files', (c) => delete env(c, 'worker').SESSIONFLOW_AUDIT_URL],
      ['the codec server audits into another database', (c) => (env(c, 'codec').SESSIONFLOW_AUDIT_URL = 'postgres://u:p@postgresql:5432/other')],
      ['the api has no audit key mounted', (c) => (c.services.api.secrets = ['sessionflow-clients', 'sessionflow-kek'])],
      ['the codec server has the key inline', (c) => (env(c, 'codec').SESSIONFLOW_AUDIT_KEY = '00')],
    ],
    'keeps the funnel in the PostgreSQL service: the worker writes where the codec server (the console) reads': [
      ['the worker keeps the funnel in files', (c) => delete env(c, 'worker').SESSIONFLOW_FUNNEL_URL],
      ['the codec server reads another database', (c) => (env(c, 'codec').SESSIONFLOW_FUNNEL_URL = 'postgres://u:p@postgresql:5432/other')],
    ],
    'makes the key store in one init job that api, worker and codec wait for, all insisting on one store id': [
      ['there is no init job', (c) => delete c.services['key-store-init']],
      ['the worker does not wait for it', (c) => delete (c.services.worker.depends_on as Record<string, unknown>)['key-store-init']],
      ['the codec server only waits for it to start', (c) => ((c.services.codec.depends_on as Record<string, { condition?: string }>)['key-store-init'] = { condition: 'service_started' })],
      ['the job makes another namespace key', (c) => (env(c, 'key-store-init').TEMPORAL_NAMESPACE = 'other')],
      ['the api insists on no store id', (c) => delete env(c, 'api').SESSIONFLOW_KEY_STORE_ID],
      ['the api runs the init step too', (c) => (c.services.api.command = ['sh', '-c', 'node dist/key-store-init.js && node dist/api/main.js'])],
    ],
    'gives the UI the codec server as its codec endpoint, with credentials': [
      ['the UI has no codec endpoint', (c) => delete env(c, 'temporal-ui').TEMPORAL_CODEC_ENDPOINT],
      ['the UI sends no cookie', (c) => delete env(c, 'temporal-ui').TEMPORAL_CODEC_INCLUDE_CREDENTIALS],
      ['the codec server is missing', (c) => delete c.services.codec],
      ['the codec server has no operators', (c) => delete env(c, 'codec').SESSIONFLOW_OPERATORS_FILE],
      ['the operators file is not mounted', (c) => (c.services.codec.secrets = ['sessionflow-kek'])],
      ['the UI reaches the codec by a name it refuses', (c) => (env(c, 'codec').CODEC_ALLOWED_HOSTS = 'codec.example')],
    ],
    'serves worker metrics and health on every interface, for the scraper and the healthcheck': [
      ['the worker keeps the default loopback', (c) => delete env(c, 'worker').WORKER_MONITORING_HOST],
    ],
    'escapes shell variables from compose interpolation in job scripts': [
      ['a single $', (c) => editScript(c, 'temporal-setup', (s) => `echo $NAMESPACE; ${s}`)],
    ],
    'makes the certificates with scripts/temporal-certs.sh into its volumes before Temporal starts': [
      ['the job is removed', (c) => delete c.services['temporal-certs']],
      ['the script is not mounted', (c) => delete c.services['temporal-certs'].configs],
      ['the job writes no client volume', (c) => (c.services['temporal-certs'].volumes = ['temporal-server-certs:/certs/server'])],
      ['the UI gets no certificate', (c) => editMountedScript(c, 'temporal-certs', (s) => s.replace('worker api ui cli', 'worker api cli'))],
      ["the operator's certificate is made among the shared clients", (c) => editMountedScript(c, 'temporal-certs', (s) => s.replace('worker api ui cli', 'worker api ui cli operator').replace('own_folder_clients="operator"', 'own_folder_clients=""'))],
      ["the job writes no operator volume", (c) => (c.services['temporal-certs'].volumes = ['temporal-server-certs:/certs/server', 'temporal-client-certs:/certs/clients'])],
      ['temporal starts before the certificates', (c) => delete (c.services.temporal.depends_on as Record<string, unknown>)['temporal-certs']],
    ],
    'runs Temporal with mTLS required on the frontend and internode, its own internal client included': [
      ['client certificates are not required', (c) => (env(c, 'temporal').TEMPORAL_TLS_REQUIRE_CLIENT_AUTH = 'false')],
      ['the internal client checks no server name', (c) => delete env(c, 'temporal').TEMPORAL_TLS_FRONTEND_SERVER_NAME],
      ['the frontend trusts no client CA', (c) => delete env(c, 'temporal').TEMPORAL_TLS_CLIENT1_CA_CERT],
      ['the certificates are mounted writable', (c) => (c.services.temporal.volumes = ['temporal-server-certs:/certs/server'])],
    ],
    'gives every Temporal client its own certificate, read-only, checked against the server name': [
      ['the worker has no certificate', (c) => delete env(c, 'worker').TEMPORAL_TLS_CLIENT_CERT_PATH],
      ['the api presents the worker certificate', (c) => (env(c, 'api').TEMPORAL_TLS_CLIENT_CERT_PATH = '/certs/clients/worker.pem')],
      ['the setup job mounts no certificates', (c) => delete c.services['temporal-setup'].volumes],
      ['the UI skips host verification', (c) => (env(c, 'temporal-ui').TEMPORAL_TLS_ENABLE_HOST_VERIFICATION = 'false')],
      ['the worker checks another server name', (c) => (env(c, 'worker').TEMPORAL_TLS_SERVER_NAME = 'localhost')],
      ['the api mounts the server key', (c) => (c.services.api.volumes = [...(c.services.api.volumes ?? []), 'temporal-server-certs:/certs/server:ro'])],
      ['the codec server has no certificate', (c) => delete c.services.codec.volumes],
      ['the codec server mounts its volume writable', (c) => (c.services.codec.volumes = ['temporal-operator-certs:/certs/operator'])],
      ['the codec server checks no server name', (c) => delete env(c, 'codec').TEMPORAL_TLS_SERVER_NAME],
    ],
    "mounts into each Temporal client no certificate volume but its own: the codec server gets its own, not the api's or worker's": [
      ['the codec server also mounts the client keys', (c) => (c.services.codec.volumes = [...(c.services.codec.volumes ?? []), 'temporal-client-certs:/certs/clients:ro'])],
      ['the client keys are mounted where the codec server looks for its own', (c) => (c.services.codec.volumes = ['temporal-client-certs:/certs/operator:ro'])],
      ["the codec server is given the worker's certificate path", (c) => (env(c, 'codec').TEMPORAL_TLS_CLIENT_CERT_PATH = '/certs/clients/worker.pem')],
      ["the api mounts the operator's key", (c) => (c.services.api.volumes = [...(c.services.api.volumes ?? []), 'temporal-operator-certs:/certs/operator:ro'])],
      ['the codec server starts before its certificate exists', (c) => delete (c.services.codec.depends_on as Record<string, unknown>)['temporal-certs']],
    ],
    'keeps certificates from services that do not talk to Temporal': [
      ["the sandbox mounts the operator's key", (c) => (c.services.sandbox.volumes = ['temporal-operator-certs:/certs/operator:ro'])],
      ['the sandbox is given a certificate path', (c) => (env(c, 'sandbox').TEMPORAL_TLS_CLIENT_CERT_PATH = '/certs/clients/api.pem')],
    ],
    'publishes the UI, which has no login of its own, on this host only': [['the UI on every interface', (c) => (c.services['temporal-ui'].ports = ['8233:8080'])]],
    'runs one Temporal version, the one scripts/install-temporal-server.sh builds': [
      ['the admin tools lag behind', (c) => (c.services['temporal-admin-tools'].image = 'temporalio/admin-tools:${TEMPORAL_VERSION:-1.30.1}')],
    ],
  };
  const cases = Object.entries(breakages).flatMap(([check, ways]) =>
    ways.map(([way, breakIt]) => [check, way, breakIt] as const),
  );

  it('has at least one breakage for every check', () => {
    expect(Object.keys(checks).filter((name) => !breakages[name]?.length)).toEqual([]);
  });

  it.each(cases)('"%s" fails when %s', (check, _, breakIt) => {
    const broken = structuredClone(compose);
    breakIt(broken);
    expect(checks[check](broken)).not.toEqual([]);
  });

  it.each([
    ['dist is not copied', (d: string) => d.replace(/^COPY --from=\S+ \S*dist.*$/m, '')],
    ['it runs as root', (d: string) => d.replace(/^USER .*$/m, '')],
    ['it is single-stage', (d: string) => d.replace(/^FROM .* AS build$[\s\S]*?(?=^FROM )/m, '')],
  ])('the Dockerfile check fails when %s', (_, breakIt) => {
    expect(dockerfileProblems(breakIt(dockerfileText))).not.toEqual([]);
  });
});
