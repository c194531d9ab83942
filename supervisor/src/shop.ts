// startShop(): the local profile. Embedded PostgreSQL, then every service as its own process, each told its
// port, database, secret and the address table; resolves once all of them answer /health/ready.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startLocalDatabase, type LocalDatabase } from './database.ts';
import { memoryBytes } from './memory.ts';
import { waitUntilReady } from './readiness.ts';
import { loadOrCreateSecrets, type LocalSecrets } from './secrets.ts';
import { serviceEnvironment } from './service-env.ts';
import { ServiceProcess } from './service-process.ts';
import { startControlEndpoint } from './control.ts';
import {
  TOPOLOGY,
  localGrpcPort,
  localPort,
  localRegistry,
  serviceEntry,
  type ServiceName,
} from './topology.ts';

export interface ShopOptions {
  /** The repository root, where services/ and config/ are. */
  root: string;
  /** Where each service's `<name>.yaml` is (its config center here); default `<root>/config`. */
  configDir?: string;
  dataDir: string;
  databasePort: number;
  /** Added to every service port (topology.ts), so a second shop (a test run) can live beside the first. */
  portOffset: number;
  /** The supervisor's environment; a service inherits only its basics and SOUK__ overrides (service-env.ts). */
  env: NodeJS.ProcessEnv;
  /** Progress and summary lines of the supervisor itself. */
  say: (line: string) => void;
  /** Every log line of every service, and of PostgreSQL. */
  onLogLine: (source: string, line: string) => void;
  /** Environment added for one service, e.g. to shorten a timeout in a test. */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  readyTimeoutMs?: number;
  /** PostgreSQL server settings added to the supervisor's, e.g. to profile it. */
  databaseSettings?: Readonly<Record<string, string>>;
}

export interface Shop {
  gatewayUrl: string;
  admin: LocalSecrets['admin'];
  processes: ReadonlyMap<ServiceName, ServiceProcess>;
  database: LocalDatabase;
  memory(): Promise<{ bytes: number; processes: number } | undefined>;
  stop(): Promise<void>;
}

export async function startShop(options: ShopOptions): Promise<Shop> {
  const started = performance.now();
  const since = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`;
  const services = TOPOLOGY.filter(({ name }) => existsSync(entryOf(options.root, name)));
  const owningDatabase: ServiceName[] = services.filter((entry) => entry.database).map(({ name }) => name);
  const secrets = await loadOrCreateSecrets(options.dataDir, options.env);

  const databaseStarted = performance.now();
  const database = await startLocalDatabase({
    dataDir: options.dataDir,
    port: options.databasePort,
    password: secrets.databasePassword,
    databases: [...owningDatabase, 'bus'],
    onLog: (line) => options.onLogLine('postgres', line),
    settings: options.databaseSettings,
  });
  options.say(`✓ PostgreSQL on 127.0.0.1:${options.databasePort} (${since(databaseStarted)})`);

  const port = (name: ServiceName) => localPort(name, options.portOffset);
  for (const { name } of services) {
    if (Math.max(port(name), localGrpcPort(name, options.portOffset) ?? 0) > 65_535)
      throw new Error(`port offset ${options.portOffset} puts a port of ${name} past 65535`);
  }
  const registry = JSON.stringify(localRegistry(options.portOffset));
  const processes = new Map<ServiceName, ServiceProcess>();
  const control = await startControlEndpoint({ processes, busUrl: database.url('bus'), say: options.say });
  const launch = (name: ServiceName) => {
    const child = new ServiceProcess({
      name,
      entry: entryOf(options.root, name),
      env: {
        ...serviceEnvironment(name, options.env, {
          port: port(name),
          grpcPort: localGrpcPort(name, options.portOffset),
          registry,
          internalSecret: secrets.internalSecret,
          configFile: path.join(options.configDir ?? path.join(options.root, 'config'), `${name}.yaml`),
          database: owningDatabase.includes(name)
            ? { url: database.url(name), busUrl: database.url('bus') }
            : undefined,
          admin: secrets.admin,
        }),
        ...(serviceEntry(name).role === 'edge'
          ? { SOUK__SUPERVISOR__CONTROL_URL: control.url, SOUK__SUPERVISOR__SECRET: control.secret }
          : {}),
        ...options.serviceEnv?.[name],
      },
      cwd: options.root,
      onLine: options.onLogLine,
      onExit: (service, code, signal, delay) =>
        options.say(
          `✗ ${service} exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)} s`,
        ),
    });
    processes.set(name, child);
    child.start();
  };
  const ready = async (name: ServiceName) => {
    const from = performance.now();
    await waitUntilReady(`http://127.0.0.1:${port(name)}/health/ready`, {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      name,
    });
    options.say(`✓ ${name.padEnd(13)} http://127.0.0.1:${port(name)} (${since(from)})`);
  };

  // The services drain while PostgreSQL still answers them; only once every one has exited does it stop.
  const stop = async () => {
    const from = performance.now();
    await control.close();
    await Promise.all([...processes.values()].map((child) => child.stop()));
    options.say(`✓ every service stopped (${since(from)})`);
    await database.stop();
    options.say('✓ PostgreSQL stopped');
  };

  // The services first, all at once; the gateway last, so that it opens its door to a shop that answers.
  const [edge, inner] = [
    services.filter((entry) => entry.role === 'edge').map(({ name }) => name),
    services.filter((entry) => entry.role === 'inner').map(({ name }) => name),
  ];
  try {
    for (const wave of [inner, edge]) {
      wave.forEach(launch);
      await Promise.all(wave.map(ready));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const shop: Shop = {
    gatewayUrl: `http://localhost:${port('gateway')}`,
    admin: secrets.admin,
    processes,
    database,
    async memory() {
      const pids = [...processes.values()].map((child) => child.pid).filter((pid) => pid !== undefined);
      const postgres = await database.pid();
      return memoryBytes(postgres === undefined ? pids : [...pids, postgres]);
    },
    stop,
  };
  options.say(`Souk is up in ${since(started)}.`);
  return shop;
}

const entryOf = (root: string, name: ServiceName) => path.join(root, 'services', name, 'src', 'main.ts');
export { cpuSeconds, memoryBytes } from './memory.ts';
