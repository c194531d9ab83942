// startFleet(): the distributed profile on one machine. Every service runs as several instances, each its own
// process with the same code as `npm start`, on PostgreSQL, RabbitMQ, Redis and etcd: instances register in
// etcd, take their config from it, and find one another through it.
import path from 'node:path';
import { freePort } from '@souk/chassis';
import {
  engineAddresses,
  ensureDatabases,
  etcdAnswers,
  listening,
  missingEngineLine,
  onPath,
  startEtcd,
  type EngineAddresses,
  type OwnEtcd,
} from './engines.ts';
import { memoryBytes } from './memory.ts';
import { waitUntilReady } from './readiness.ts';
import { loadOrCreateSecrets, type LocalSecrets } from './secrets.ts';
import { inheritedEnvironment, ownSettings } from './service-env.ts';
import { ServiceProcess } from './service-process.ts';
import { INNER_SERVICES, TOPOLOGY, serviceEntry, type InnerService, type ServiceName } from './topology.ts';

export interface FleetOptions {
  root: string;
  /** Secrets and etcd's data (when this process starts etcd). */
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** Instances per service. */
  instances: Record<InnerService, number>;
  /** One gateway per port. */
  gatewayPorts: readonly number[];
  /** Prefix of the fleet's databases and of its RabbitMQ and etcd namespaces, so that two fleets can coexist. */
  namespace?: string;
  say: (line: string) => void;
  onLogLine: (source: string, line: string) => void;
  /** Environment added for every instance of a service, e.g. to shorten a timeout in a test. */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  readyTimeoutMs?: number;
  /** Aborted while starting (Ctrl-C): what was started is stopped and startFleet rejects. */
  signal?: AbortSignal;
}

export interface FleetInstance {
  readonly service: ServiceName;
  /** `orders#2`: how the fleet names it in its own lines. */
  readonly label: string;
  readonly url: string;
  readonly process: ServiceProcess;
}

export interface Fleet {
  readonly gatewayUrls: readonly string[];
  readonly admin: LocalSecrets['admin'];
  readonly engines: EngineAddresses;
  readonly instances: readonly FleetInstance[];
  /** The etcd this fleet started, when none was running. */
  readonly etcd: OwnEtcd | undefined;
  /** Waits until the instance answers /health/ready. */
  ready(instance: FleetInstance, timeoutMs?: number): Promise<void>;
  memory(): Promise<{ bytes: number; processes: number } | undefined>;
  stop(): Promise<void>;
}

/** `3` for every service, or `orders=3,payments=2` (the others keep 2). */
export function parseInstances(spec: string | undefined): Record<InnerService, number> {
  const counts = Object.fromEntries(INNER_SERVICES.map((name) => [name, 2])) as Record<InnerService, number>;
  if (spec === undefined || spec === '') return counts;
  const whole = (text: string, what: string) => {
    const count = Number(text);
    if (!Number.isInteger(count) || count < 1 || count > 16)
      throw new Error(`${what}: expected a whole number from 1 to 16, got '${text}'`);
    return count;
  };
  if (/^\d+$/.test(spec)) {
    const count = whole(spec, '--instances');
    for (const name of INNER_SERVICES) counts[name] = count;
    return counts;
  }
  for (const part of spec.split(',')) {
    const [name = '', count = ''] = part.split('=');
    if (!(INNER_SERVICES as readonly string[]).includes(name))
      throw new Error(`--instances: '${name}' is not a service (${INNER_SERVICES.join(', ')})`);
    counts[name as InnerService] = whole(count, `--instances ${name}`);
  }
  return counts;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const started = performance.now();
  const since = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`;
  const namespace = options.namespace ?? 'souk_fleet';
  const engines = engineAddresses(options.env);

  const etcd = await ensureEtcd(engines.etcd, options);
  const missing: string[] = [];
  if (!(await listening(engines.postgres))) missing.push(missingEngineLine('postgres', engines.postgres));
  if (!(await listening(engines.amqp))) missing.push(missingEngineLine('amqp', engines.amqp));
  if (!(await listening(engines.redis))) missing.push(missingEngineLine('redis', engines.redis));
  if (missing.length > 0) {
    await etcd?.stop();
    throw new Error(missing.join('\n'));
  }
  options.say(
    `✓ PostgreSQL, RabbitMQ, Redis and etcd answer (etcd ${etcd ? 'started here' : 'already running'})`,
  );

  const secrets = await loadOrCreateSecrets(options.dataDir, options.env);
  const owning = TOPOLOGY.filter((entry) => entry.database).map(({ name }) => name);
  const databases = await ensureDatabases(engines.postgres, [
    ...owning.map((name) => `${namespace}_${name}`),
  ]);

  const environment = (service: ServiceName, port: number, grpcPort?: number): NodeJS.ProcessEnv => ({
    ...inheritedEnvironment(options.env),
    SOUK__PROFILE: 'distributed',
    SOUK__HTTP__PORT: String(port),
    SOUK__INTERNAL__SECRET: secrets.internalSecret,
    SOUK__MESSAGING__TRANSPORT: 'amqp',
    SOUK__MESSAGING__AMQP_URL: engines.amqp,
    SOUK__MESSAGING__NAMESPACE: namespace.replaceAll('_', '-'),
    SOUK__DISCOVERY__KIND: 'etcd',
    SOUK__DISCOVERY__ETCD__ENDPOINTS: JSON.stringify([engines.etcd]),
    SOUK_CONFIG_SOURCE: 'etcd',
    SOUK_ETCD_ENDPOINTS: engines.etcd,
    SOUK_CONFIG_FILE: path.join(options.root, 'config', `${service}.yaml`),
    ...(databases.has(`${namespace}_${service}`)
      ? { SOUK__DATABASE__URL: databases.get(`${namespace}_${service}`) }
      : {}),
    ...ownSettings(service, { grpcPort, admin: secrets.admin }),
    ...(serviceEntry(service).role === 'edge'
      ? { SOUK__RATE_LIMIT__STORE: 'redis', SOUK__RATE_LIMIT__REDIS_URL: engines.redis }
      : {}),
    ...options.serviceEnv?.[service],
  });

  const instances: FleetInstance[] = [];
  const launch = async (service: ServiceName, index: number, port?: number) => {
    const httpPort = port ?? (await freePort());
    const grpcPort = serviceEntry(service).grpcPort === undefined ? undefined : await freePort();
    const label = `${service}#${index}`;
    const child = new ServiceProcess({
      name: label,
      entry: path.join(options.root, 'services', service, 'src', 'main.ts'),
      env: environment(service, httpPort, grpcPort),
      cwd: options.root,
      onLine: options.onLogLine,
      onExit: (name, code, signal, delay) =>
        options.say(
          `✗ ${name.padEnd(16)} exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)} s`,
        ),
    });
    const instance: FleetInstance = { service, label, url: `http://127.0.0.1:${httpPort}`, process: child };
    instances.push(instance);
    child.start();
    return instance;
  };
  const ready = async (instance: FleetInstance, timeoutMs = options.readyTimeoutMs ?? 60_000) => {
    await waitUntilReady(`${instance.url}/health/ready`, {
      timeoutMs,
      name: instance.label,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  };
  const announce = async (instance: FleetInstance) => {
    const from = performance.now();
    await ready(instance);
    options.say(`✓ ${instance.label.padEnd(16)} ${instance.url.padEnd(24)} ready (${since(from)})`);
  };

  const stop = async () => {
    await Promise.all(instances.map((instance) => instance.process.stop(15_000)));
    await etcd?.stop();
  };

  try {
    // Those the others resolve as they start (users: JWKS, GetUser) first, then the rest, then the gateways.
    const first = (name: InnerService) => serviceEntry(name).startsFirst === true;
    for (const wave of [INNER_SERVICES.filter(first), INNER_SERVICES.filter((name) => !first(name))]) {
      const launched = await Promise.all(
        wave.flatMap((name) =>
          Array.from({ length: options.instances[name] }, (_, i) => launch(name, i + 1)),
        ),
      );
      await Promise.all(launched.map(announce));
    }
    const edges = TOPOLOGY.filter((entry) => entry.role === 'edge');
    const gateways = await Promise.all(
      edges.flatMap(({ name }) => options.gatewayPorts.map((port, i) => launch(name, i + 1, port))),
    );
    await Promise.all(gateways.map(announce));
  } catch (error) {
    await stop();
    throw error;
  }
  options.say(`Souk's fleet is up in ${since(started)}: ${instances.length} instances.`);

  return {
    gatewayUrls: options.gatewayPorts.map((port) => `http://localhost:${port}`),
    admin: secrets.admin,
    engines,
    instances,
    etcd,
    ready,
    async memory() {
      const pids = instances.map((instance) => instance.process.pid).filter((pid) => pid !== undefined);
      return memoryBytes(pids);
    },
    stop,
  };
}

/** Uses the etcd that answers; else starts Debian's, with its data under the data folder. */
async function ensureEtcd(url: string, options: FleetOptions): Promise<OwnEtcd | undefined> {
  if (await etcdAnswers(url)) return undefined;
  if (!(await onPath('etcd', options.env))) throw new Error(missingEngineLine('etcd', url));
  options.say(`… starting etcd at ${url} (data in ${path.join(options.dataDir, 'etcd')})`);
  return startEtcd(url, path.join(options.dataDir, 'etcd'));
}
