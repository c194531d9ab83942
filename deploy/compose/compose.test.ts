// compose.yaml, its host-engines override and the Dockerfile, checked in npm test without Docker (test:deploy runs
// them for real): the image is the pinned Node's, every service of the topology is in compose with what the
// fleet gives it, every container waits for healthy dependencies, and the override covers every Souk container.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { TOPOLOGY } from '@souk/supervisor/topology';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFileSync(`${root}/${file}`, 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  extra_hosts?: string[];
  ports?: string[];
}
const composeFile = (file: string) =>
  (parseYaml(read(file), { merge: true }) as { services: Record<string, ComposeService> }).services;

const compose = composeFile('compose.yaml');
const override = composeFile('deploy/compose/host-engines.yaml');
const IMAGE = 'souk:0.1.0';
const souk = Object.entries(compose).filter(([, service]) => service.image === IMAGE);
const engines = Object.entries(compose).filter(([, service]) => service.image !== IMAGE);

describe('compose.yaml and deploy/docker/Dockerfile', () => {
  it('when the Dockerfile is read, then every stage starts from the Node version package-lock.json pins', () => {
    const pinned = (
      JSON.parse(read('package-lock.json')) as { packages: Record<string, { version: string }> }
    ).packages['node_modules/node']!.version;
    const froms = [...read('deploy/docker/Dockerfile').matchAll(/^FROM (\S+)/gm)].map((match) => match[1]);
    assert.ok(froms.length > 0);
    for (const from of froms) assert.equal(from, `node:${pinned}-bookworm-slim`);
  });

  it('when compose.yaml is read, then every service of the topology runs, orders twice, each registering the address compose names it by', () => {
    for (const { name } of TOPOLOGY) {
      const containers = souk.filter(([, service]) => service.environment?.SOUK_SERVICE === name);
      assert.equal(containers.length, name === 'orders' ? 2 : 1, `${name} in compose.yaml`);
    }
    for (const [container, service] of souk) {
      assert.equal(service.environment?.SOUK__HTTP__ADVERTISE_URL, `http://${container}:8080`, container);
      assert.equal(service.environment?.SOUK__DISCOVERY__KIND, 'etcd', container);
      assert.equal(service.environment?.SOUK_CONFIG_SOURCE, 'etcd', container);
      assert.match(service.environment?.OTEL_EXPORTER_OTLP_ENDPOINT ?? '', /^http:\/\/jaeger:4318$/);
    }
  });

  it('when compose.yaml is read, then each service that owns a database gets its own, which create-databases.sql creates', () => {
    const created = [
      ...read('deploy/compose/create-databases.sql').matchAll(/^CREATE DATABASE (\w+);/gm),
    ].map((match) => match[1]);
    const owning = TOPOLOGY.filter((entry) => entry.database).map(({ name }) => `souk_${name}`);
    assert.deepEqual(created.toSorted(), owning.toSorted());
    for (const [container, service] of souk) {
      const entry = TOPOLOGY.find(({ name }) => name === service.environment?.SOUK_SERVICE)!;
      const url = service.environment?.SOUK__DATABASE__URL;
      if (entry.database)
        assert.match(url ?? '', new RegExp(`@postgres:5432/souk_${entry.name}$`), container);
      else assert.equal(url, undefined, container);
    }
  });

  it('when compose.yaml is read, then every engine but Jaeger has a healthcheck and every Souk container waits for what it depends on to be healthy', () => {
    for (const [name, service] of engines)
      if (name !== 'jaeger') assert.ok(service.healthcheck?.test.length, `${name} has a healthcheck`);
    for (const [container, service] of souk) {
      const dependencies = Object.entries(service.depends_on ?? {});
      for (const engine of ['postgres', 'rabbitmq', 'etcd'])
        assert.ok(service.depends_on?.[engine], `${container} waits for ${engine}`);
      for (const [dependency, { condition }] of dependencies)
        assert.equal(
          condition,
          dependency === 'jaeger' ? 'service_started' : 'service_healthy',
          `${container} → ${dependency}`,
        );
      if (service.environment?.SOUK_SERVICE !== 'users')
        assert.equal(
          service.depends_on?.users?.condition,
          'service_healthy',
          `${container} starts after users`,
        );
    }
    const gateway = compose.gateway!;
    for (const [container] of souk)
      if (container !== 'gateway')
        assert.ok(gateway.depends_on?.[container], `the gateway waits for ${container}`);
    assert.deepEqual(gateway.ports, ['${SOUK_GATEWAY_PORT:-8080}:8080']);
  });

  it('when host-engines.yaml is read, then it points every Souk container, and only those, at the machine', () => {
    assert.deepEqual(Object.keys(override).toSorted(), souk.map(([container]) => container).toSorted());
    for (const [container, service] of Object.entries(override)) {
      assert.deepEqual(service.extra_hosts, ['host.docker.internal:host-gateway'], container);
      assert.match(service.environment?.SOUK_ETCD_ENDPOINTS ?? '', /^http:\/\/host\.docker\.internal:/);
      const own = compose[container]!.environment!;
      if (own.SOUK__DATABASE__URL !== undefined)
        assert.match(
          service.environment?.SOUK__DATABASE__URL ?? '',
          /@host\.docker\.internal:5432\//,
          container,
        );
      if (own.SOUK__RATE_LIMIT__REDIS_URL !== undefined)
        assert.match(
          service.environment?.SOUK__RATE_LIMIT__REDIS_URL ?? '',
          /^redis:\/\/host\.docker\.internal:/,
        );
    }
  });
});
