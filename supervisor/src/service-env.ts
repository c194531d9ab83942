// The environment of one service process: what Node and the OS need, the shop-wide SOUK__ overrides, and that
// service's own settings; nothing else of the supervisor's environment (its secrets least of all).
import type { ServiceName } from '@souk/chassis';

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

/** From the supervisor's environment: the basics, locale settings and `SOUK__SECTION__KEY` config overrides. */
export function inheritedEnvironment(parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(parent).filter(
      ([key]) => BASICS.has(key) || key.startsWith('LC_') || key.startsWith('SOUK__'),
    ),
  );
}

export interface ServiceSettings {
  port: number;
  grpcPort: number;
  /** JSON: service name → base URL. */
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
  return {
    ...inheritedEnvironment(parent),
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

function ownSettings(name: ServiceName, settings: ServiceSettings): NodeJS.ProcessEnv {
  switch (name) {
    case 'users':
      return {
        SOUK_ADMIN_EMAIL: settings.admin.email,
        SOUK_ADMIN_PASSWORD: settings.admin.password,
        SOUK__GRPC__PORT: String(settings.grpcPort),
      };
    case 'orders':
      // Orders asks users over gRPC, wherever the port offset put it.
      return { SOUK__USERS__GRPC_URL: `127.0.0.1:${settings.grpcPort}` };
    case 'inventory':
      return { SOUK__SEED_DEMO_CATALOG: 'true' };
    default:
      return {};
  }
}
