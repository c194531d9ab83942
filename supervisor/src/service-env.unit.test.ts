import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serviceEnvironment, type ServiceSettings } from './service-env.ts';
import { SERVICE_NAMES } from './topology.ts';

const parent: NodeJS.ProcessEnv = {
  PATH: '/usr/bin',
  HOME: '/home/dev',
  LC_ALL: 'C.UTF-8',
  NODE_OPTIONS: '--max-old-space-size=256',
  SOUK__LOG__LEVEL: 'debug',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
  OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
  OTEL_SERVICE_NAME: 'souk',
  SOUK_ADMIN_EMAIL: 'boss@example.com',
  SOUK_ADMIN_PASSWORD: 'from-the-shell',
  SOUK_DATA_DIR: '/srv/souk',
  AWS_SECRET_ACCESS_KEY: 'not-for-services',
  npm_config_registry: 'https://registry.npmjs.org/',
};

const settings: ServiceSettings = {
  port: 5002,
  grpcPort: undefined,
  registry: '{"orders":"http://127.0.0.1:5002"}',
  internalSecret: 'internal-secret',
  configFile: '/repo/config/orders.yaml',
  database: { url: 'postgres://db/orders', busUrl: 'postgres://db/bus' },
  admin: { email: 'admin@souk.local', password: 'admin-password' },
};

describe('a service environment', () => {
  it('when built for orders, then it holds the basics, SOUK__ overrides, OTEL_ settings, small-memory settings and its own, and nothing else', () => {
    assert.deepEqual(serviceEnvironment('orders', parent, settings), {
      PATH: '/usr/bin',
      HOME: '/home/dev',
      LC_ALL: 'C.UTF-8',
      NODE_OPTIONS: '--max-old-space-size=256 --max-semi-space-size=2',
      MALLOC_MMAP_THRESHOLD_: '131072',
      SOUK__DATABASE__POOL_SIZE: '4',
      SOUK__LOG__LEVEL: 'debug',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_SERVICE_NAME: 'orders',
      SOUK__PROFILE: 'local',
      SOUK__HTTP__PORT: '5002',
      SOUK__REGISTRY: '{"orders":"http://127.0.0.1:5002"}',
      SOUK__INTERNAL__SECRET: 'internal-secret',
      SOUK_CONFIG_FILE: '/repo/config/orders.yaml',
      SOUK__DATABASE__URL: 'postgres://db/orders',
      SOUK__MESSAGING__BUS_URL: 'postgres://db/bus',
    });
  });

  it('when built for users, then only it gets the admin credentials the supervisor settled on, and its gRPC port', () => {
    const users = serviceEnvironment('users', parent, { ...settings, grpcPort: 50051 });
    assert.equal(users.SOUK_ADMIN_EMAIL, 'admin@souk.local');
    assert.equal(users.SOUK_ADMIN_PASSWORD, 'admin-password');
    assert.equal(users.SOUK__GRPC__PORT, '50051');
    for (const name of SERVICE_NAMES.filter((name) => name !== 'users')) {
      const env = serviceEnvironment(name, parent, settings);
      assert.equal(env.SOUK_ADMIN_PASSWORD, undefined, name);
      assert.equal(env.SOUK_ADMIN_EMAIL, undefined, name);
    }
  });

  it('when the shell sets the database pool size, then that wins over the small default', () => {
    const env = serviceEnvironment('orders', { ...parent, SOUK__DATABASE__POOL_SIZE: '12' }, settings);
    assert.equal(env.SOUK__DATABASE__POOL_SIZE, '12');
  });

  it('when a service owns no database, then it is given no database address', () => {
    const gateway = serviceEnvironment('gateway', parent, { ...settings, database: undefined });
    assert.equal(gateway.SOUK__DATABASE__URL, undefined);
    assert.equal(gateway.SOUK__MESSAGING__BUS_URL, undefined);
  });

  it("when built for each service, then its spans carry its own name, whatever the supervisor's OTEL_SERVICE_NAME", () => {
    for (const name of SERVICE_NAMES)
      assert.equal(serviceEnvironment(name, parent, settings).OTEL_SERVICE_NAME, name);
  });
});
