// The environment of one service process: what Node and the OS need, the shop-wide SOUK__ overrides and OTEL_*
// tracing settings, and that service's own settings; nothing else of the supervisor's environment (its secrets
// least of all).
import { serviceEntry, type ServiceName } from './topology.ts';

/** Variables a process needs to run like the user's shell would run it. */
const BASICS = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'TZ',
  'TMPDIR',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'NO_COLOR',
  'FORCE_COLOR',
  'SYSTEMROOT',
]);

/**
 * From the supervisor's environment: the basics, locale settings, `SOUK__SECTION__KEY` config overrides and
 * OpenTelemetry's `OTEL_*` variables (where traces go, how they are sampled).
 */
export function inheritedEnvironment(parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(parent).filter(
      ([key]) =>
        BASICS.has(key) || key.startsWith('LC_') || key.startsWith('SOUK__') || key.startsWith('OTEL_'),
    ),
  );
}

export interface ServiceSettings {
  port: number;
  /** Where its gRPC server listens, for a service that has one. */
  grpcPort: number | undefined;
  /** JSON: the static registry's table, service name → base URL (and gRPC address). */
  registry: string;
  internalSecret: string;
  configFile: string;
  /** Present for a service that owns a database. */
  database?: { url: string; busUrl: string };
  admin: { email: string; password: string };
}

export function serviceEnvironment(
  name: ServiceName,
  parent: NodeJS.ProcessEnv,
  settings: ServiceSettings,
): NodeJS.ProcessEnv {
  const inherited = inheritedEnvironment(parent);
  return {
    ...inherited,
    ...sharedMachineMemory(inherited),
    SOUK__PROFILE: 'local',
    SOUK__HTTP__PORT: String(settings.port),
    SOUK__REGISTRY: settings.registry,
    SOUK__INTERNAL__SECRET: settings.internalSecret,
    SOUK_CONFIG_FILE: settings.configFile,
    ...(settings.database === undefined
      ? {}
      : { SOUK__DATABASE__URL: settings.database.url, SOUK__MESSAGING__BUS_URL: settings.database.busUrl }),
    ...ownSettings(name, settings),
  };
}

/**
 * The local profile runs every service on one machine, so each keeps its memory small. V8's young generation
 * stays at 2 MiB a semi-space (the default grows to 16 MiB; a service's requests die young, so the scavenges
 * stay cheap), and glibc hands large blocks (argon2's 19 MiB) back to the system when they are freed instead
 * of keeping them in its heaps: a fixed mmap threshold stops it raising the threshold past them. Each service
 * keeps at most 4 connections to the shared PostgreSQL (unless SOUK__DATABASE__POOL_SIZE says otherwise): its
 * two cores run two statements at a time, and every connection is a server process of a few MiB.
 */
function sharedMachineMemory(inherited: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    NODE_OPTIONS: [inherited.NODE_OPTIONS, '--max-semi-space-size=2'].filter(Boolean).join(' '),
    MALLOC_MMAP_THRESHOLD_: '131072',
    SOUK__DATABASE__POOL_SIZE: inherited.SOUK__DATABASE__POOL_SIZE ?? '4',
  };
}

/**
 * What the topology says this service alone gets: its name in traces, the admin's credentials, its gRPC port,
 * the demo catalog. The same in both profiles. OTEL_SERVICE_NAME is set even when the supervisor's environment
 * has one: a name shared by every service would make their spans indistinguishable.
 */
export function ownSettings(
  name: ServiceName,
  settings: Pick<ServiceSettings, 'grpcPort' | 'admin'>,
): NodeJS.ProcessEnv {
  const entry = serviceEntry(name);
  return {
    OTEL_SERVICE_NAME: name,
    ...(entry.admin === true
      ? { SOUK_ADMIN_EMAIL: settings.admin.email, SOUK_ADMIN_PASSWORD: settings.admin.password }
      : {}),
    ...(settings.grpcPort === undefined ? {} : { SOUK__GRPC__PORT: String(settings.grpcPort) }),
    ...(entry.seedsDemoCatalog === true ? { SOUK__SEED_DEMO_CATALOG: 'true' } : {}),
  };
}
