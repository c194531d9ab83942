// `npm run test:deploy`: Souk in containers, for real. It builds the image from deploy/docker/Dockerfile (on a
// locally built stand-in for its base image, since no registry is reachable here), runs the Souk services of
// compose.yaml with deploy/compose/host-engines.yaml (this machine's PostgreSQL, RabbitMQ and Redis, and an etcd of
// the test's own as registry and config center), and shops through the containerised gateway: register, log in,
// an order confirmed; then `docker stop` of an orders container while orders are in flight, and every order still
// ends consistently. Everything it started is removed at the end, also when it fails; a dockerd it started is
// stopped. Needs root (debootstrap), docker.io, docker-compose and debootstrap (.ci/run installs them).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { configKey, deleteAmqpTopology } from '@souk/chassis';
import { TEST_CARDS } from '@souk/contracts';
import { ensureDatabases, listening, startEtcd, type OwnEtcd } from '@souk/supervisor/engines';
import { TOPOLOGY } from '@souk/supervisor/topology';
import { forwardToLoopback, type Forwarder } from '../../deploy/compose/engine-forward.ts';
import { shopClient, type Customer, type Placed } from '../system/shop-client.ts';
import { callApi } from '../system/shop.fixture.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const IMAGE = 'souk:0.1.0';
const PROJECT = 'soukdeploytest';
const GATEWAY_PORT = 15080;
/** The test's etcd: client port, and the peer port above it. */
const ETCD_PORT = 23990;
/** This machine's engines, on loopback; containers reach them through forwarders on the bridge's address. */
const ENGINE_PORTS = { postgres: 5432, amqp: 5672, redis: 6379 };
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const databaseUrl = (name: string) => POSTGRES.replace(/\/postgres$/, `/${name}`);
const AMQP = 'amqp://guest:guest@127.0.0.1:5672';
const ADMIN = { email: 'admin@souk.test', password: 'admin-password-for-deploy-tests' };
const COMPOSE_FILES = ['-f', 'compose.yaml', '-f', 'deploy/compose/host-engines.yaml'];

const started = performance.now();
const say = (line: string) =>
  console.log(`[test:deploy ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a command; resolves with its output, rejects with the output's tail when it exits non-zero. */
function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; show?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.show) process.stdout.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} exited ${code}:\n${output.split('\n').slice(-40).join('\n')}`,
          ),
        );
    });
  });
}

const succeeds = (command: string, args: readonly string[]) =>
  run(command, args).then(
    () => true,
    () => false,
  );

/** Starts dockerd when none answers; returns it, to be stopped at the end, or undefined when one was running. */
async function ensureDockerd(logFile: string): Promise<ChildProcess | undefined> {
  if (await succeeds('docker', ['info'])) return undefined;
  say(`… starting dockerd (log: ${logFile})`);
  const dockerd = spawn('sh', ['-c', `exec dockerd >"${logFile}" 2>&1`], { stdio: 'ignore', detached: true });
  const deadline = Date.now() + 30_000;
  while (!(await succeeds('docker', ['info']))) {
    assert.ok(Date.now() < deadline, `dockerd answers within 30 s (see ${logFile})`);
    await sleep(500);
  }
  return dockerd;
}

/**
 * The client that builds: the Dockerfile needs BuildKit (its npm step mounts the CA bundle as a secret). A client
 * with the buildx plugin has it; Debian's docker.io client (20.10) has it built in with DOCKER_BUILDKIT=1, where a
 * newer client without buildx refuses.
 */
async function buildClient(): Promise<string> {
  if (await succeeds('docker', ['buildx', 'version'])) return 'docker';
  return existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
}

/** The Souk services of the merged compose files, in stages: each after the stages it depends on. */
function startStages(config: string): string[][] {
  const services = (
    parseYaml(config) as {
      services: Record<string, { image?: string; depends_on?: Record<string, unknown> }>;
    }
  ).services;
  const souk = Object.keys(services).filter((name) => services[name]!.image === IMAGE);
  const stages: string[][] = [];
  const placed = new Set<string>();
  while (placed.size < souk.length) {
    const stage = souk.filter(
      (name) =>
        !placed.has(name) &&
        Object.keys(services[name]!.depends_on ?? {})
          .filter((dependency) => souk.includes(dependency))
          .every((dependency) => placed.has(dependency)),
    );
    assert.ok(stage.length > 0, 'the Souk services of compose.yaml depend on one another without a cycle');
    for (const name of stage) placed.add(name);
    stages.push(stage);
  }
  return stages;
}

describe('Souk in containers (compose.yaml, deploy/docker/Dockerfile)', { timeout: 900_000 }, () => {
  const databasePrefix = `souk_deploy_${randomBytes(3).toString('hex')}`;
  const databases = TOPOLOGY.filter((entry) => entry.database).map(({ name }) => `${databasePrefix}_${name}`);
  let workDir = '';
  let dockerd: ChildProcess | undefined;
  let etcd: OwnEtcd | undefined;
  let etcdClient: Etcd3 | undefined;
  const forwarders: Forwarder[] = [];
  let composeEnv: NodeJS.ProcessEnv = {};
  let composeUp = false;
  let failed = false;
  let adminToken = '';
  const compose = (...args: string[]) =>
    run('docker-compose', ['-p', PROJECT, ...COMPOSE_FILES, ...args], { env: composeEnv });
  const containerOf = async (service: string) => (await compose('ps', '-q', service)).trim();
  const api = (method: string, url: string, options?: Parameters<typeof callApi>[3]) =>
    callApi(`http://127.0.0.1:${GATEWAY_PORT}`, method, url, options);
  const client = shopClient(api, () => adminToken);

  /** Marks the run failed (the containers' logs are then printed at the end) and rethrows. */
  const failing = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      failed = true;
      throw error;
    }
  };

  const health = async (container: string) =>
    (
      await run('docker', [
        'inspect',
        '--format',
        '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}',
        container,
      ])
    ).trim();

  const waitHealthy = async (service: string, timeoutMs = 180_000) => {
    const container = await containerOf(service);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await health(container);
      if (state === 'running healthy') return;
      assert.ok(!state.startsWith('exited'), `${service} exited while starting (${state})`);
      assert.ok(Date.now() < deadline, `${service} is healthy within ${timeoutMs / 1000} s (${state})`);
      await sleep(500);
    }
  };

  before(() =>
    failing(async () => {
      workDir = await mkdtemp(path.join(tmpdir(), 'souk-deploy-'));
      dockerd = await ensureDockerd(path.join(workDir, 'dockerd.log'));
      say('✓ docker answers');

      await run(path.join(root, 'deploy/docker/build-base-image.sh'), [], { show: true });

      let from = performance.now();
      const builder = await buildClient();
      const caBundle = process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
      await run(
        builder,
        [
          'build',
          ...(existsSync(caBundle) ? ['--secret', `id=ca-certificates,src=${caBundle}`] : []),
          '-f',
          'deploy/docker/Dockerfile',
          '-t',
          IMAGE,
          '.',
        ],
        { env: { ...process.env, DOCKER_BUILDKIT: '1' } },
      );
      const bytes = Number(
        (await run('docker', ['image', 'inspect', IMAGE, '--format', '{{.Size}}'])).trim(),
      );
      say(
        `✓ image ${IMAGE} built in ${((performance.now() - from) / 1000).toFixed(0)} s: ${(bytes / 1e6).toFixed(0)} MB`,
      );

      // The engines, where the containers find them: host.docker.internal (host-gateway) is docker0's address.
      // (Node lists no interface without a carrier, as docker0 is until a container runs: ip is asked.)
      const bridge = /inet (\S+)\//.exec(
        await run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'docker0']),
      )?.[1];
      assert.ok(bridge, 'dockerd made its bridge, docker0');
      for (const port of Object.values(ENGINE_PORTS)) {
        if (!(await listening(`tcp://${bridge}:${port}`)))
          forwarders.push(await forwardToLoopback(bridge, port));
      }
      const etcdUrl = `http://${bridge}:${ETCD_PORT}`;
      etcd = await startEtcd(etcdUrl, path.join(workDir, 'etcd'));
      etcdClient = new Etcd3({ hosts: etcdUrl });
      // The config center, as the fleet's operators use it: short saga leases, so that a saga its instance left
      // is taken over within seconds, and 3 attempts of a charge that never answers before the saga cancels;
      // the gateway admits the test's registrations, all from one address.
      await etcdClient
        .put(configKey('orders'))
        .value('saga:\n  leaseMs: 3000\n  stepTimeoutMs: 2000\n  chargeTimeoutMs: 2500\n  stepAttempts: 3\n');
      await etcdClient.put(configKey('gateway')).value('rateLimit:\n  registerMax: 100\n');
      await ensureDatabases(POSTGRES, databases);
      say(
        `✓ engines: forwarders on ${bridge} to ${forwarders.map((forwarder) => forwarder.port).join(', ') || 'none needed'}, etcd at ${etcdUrl}, databases ${databasePrefix}_*`,
      );

      composeEnv = {
        ...process.env,
        SOUK_GATEWAY_PORT: String(GATEWAY_PORT),
        SOUK_ETCD_PORT: String(ETCD_PORT),
        SOUK_DATABASE_PREFIX: databasePrefix,
        SOUK_ADMIN_EMAIL: ADMIN.email,
        SOUK_ADMIN_PASSWORD: ADMIN.password,
        SOUK_INTERNAL_SECRET: randomBytes(32).toString('hex'),
      };
      from = performance.now();
      composeUp = true;
      for (const stage of startStages(await compose('config'))) {
        await compose('up', '-d', '--no-deps', '--no-build', ...stage);
        await Promise.all(stage.map((service) => waitHealthy(service)));
        say(`✓ healthy: ${stage.join(', ')}`);
      }
      say(`✓ Souk's containers are up in ${((performance.now() - from) / 1000).toFixed(0)} s`);
      adminToken = (await api('POST', '/api/auth/login', { body: ADMIN })).body.accessToken;
      assert.ok(adminToken, 'the admin compose.yaml names can log in');
    }),
  );

  after(async () => {
    if (composeUp) {
      if (failed) console.log((await compose('logs', '--no-color', '--tail=60').catch(String)).trimEnd());
      await compose('down', '--volumes', '--remove-orphans', '--timeout', '20').catch((error: unknown) =>
        say(`✗ docker-compose down: ${String(error)}`),
      );
    }
    etcdClient?.close();
    await etcd?.stop();
    await Promise.all(forwarders.map((forwarder) => forwarder.close()));
    await deleteAmqpTopology(AMQP, databasePrefix, ['notifications']).catch(() => {});
    const admin = new pg.Client({ connectionString: POSTGRES });
    await admin.connect();
    for (const name of databases)
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await admin.end();
    if (dockerd?.pid !== undefined) {
      process.kill(dockerd.pid, 'SIGTERM');
      await new Promise((resolve) => dockerd!.once('exit', resolve));
    }
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
    say('✓ removed the containers, the etcd, the forwarders and the databases');
  });

  it('when the containers are up, then every instance is registered in etcd, and through the gateway a customer registers, logs in and sees an order confirmed, and the storefront is served', () =>
    failing(async () => {
      const registered = Object.keys(await etcdClient!.getAll().prefix('/souk/services/').strings()).map(
        (key) => key.split('/')[3],
      );
      for (const { name } of TOPOLOGY)
        assert.equal(
          registered.filter((service) => service === name).length,
          name === 'orders' ? 2 : 1,
          `${name} registered in etcd`,
        );
      const customer = await client.signUp('deploy');
      const me = await api('GET', '/api/users/me', { token: customer.token });
      assert.equal(me.status, 200, 'the access token from logging in works');
      const productId = await client.createProduct(10);
      const placed = await client.placeOrder(customer, productId, 2);
      assert.equal((await client.settle(placed)).status, 'CONFIRMED');
      assert.equal(await client.available(productId), 8);
      const store = await fetch(`http://127.0.0.1:${GATEWAY_PORT}/store/`);
      assert.equal(store.status, 200, 'the gateway serves the storefront from the image');
      assert.match(store.headers.get('content-type') ?? '', /^text\/html/);
      await store.body?.cancel();
      say(
        '✓ registered, logged in, order CONFIRMED and the storefront served through the containerised gateway',
      );
    }));

  it('when an orders container is stopped (docker stop) with sagas running on it, then it drains and exits 0, the other instance finishes them, and every order ends consistently', () =>
    failing(async () => {
      const initial = 1000;
      const productId = await client.createProduct(initial);
      const customers: Customer[] = [await client.signUp('stop-a'), await client.signUp('stop-b')];
      const victim = await containerOf('orders-1');
      const ordersDb = new pg.Client({ connectionString: databaseUrl(`${databasePrefix}_orders`) });
      await ordersDb.connect();
      try {
        const placed: Placed[] = [];
        let running = true;
        const lanes = customers.map(async (customer) => {
          while (running) {
            placed.push(await client.placeOrder(customer, productId, 1));
            await sleep(50);
          }
        });
        await sleep(1000);
        // Orders whose charge never answers: each saga waits on it (chargeTimeoutMs, 2.5 s) under its runner's
        // lease, so when both instances hold one, orders-1 is stopped in the middle of an order for sure.
        const hanging = await Promise.all(
          customers.flatMap((customer) =>
            [1, 2].map(() => client.placeOrder(customer, productId, 1, TEST_CARDS.hangs)),
          ),
        );
        const deadline = Date.now() + 10_000;
        for (;;) {
          const { rows } = await ordersDb.query<{ owners: number }>(
            `SELECT count(DISTINCT lease_owner)::int AS owners FROM saga_instances
              WHERE status IN ('RUNNING', 'COMPENSATING') AND lease_owner IS NOT NULL`,
          );
          if (rows[0]!.owners >= 2) break;
          assert.ok(Date.now() < deadline, 'both orders instances run sagas within 10 s');
          await sleep(100);
        }
        const stopping = performance.now();
        await run('docker', ['stop', '--time', '30', victim]);
        const stoppedIn = (performance.now() - stopping) / 1000;
        const beforeStop = placed.length;
        await sleep(2000);
        running = false;
        await Promise.all(lanes);
        const [exitCode, oomKilled] = (
          await run('docker', ['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', victim])
        )
          .trim()
          .split(' ');
        assert.equal(
          exitCode,
          '0',
          'SIGTERM reached Node through tini, which drained and exited 0 (not killed)',
        );
        assert.equal(oomKilled, 'false');
        assert.ok(placed.length > beforeStop, 'orders were still taken after orders-1 stopped');
        for (const order of hanging)
          assert.equal(
            (await client.settle(order, 90_000)).status,
            'CANCELLED',
            'an order whose charge never answers is cancelled',
          );
        const confirmed = await client.assertInvariants(productId, initial, [...placed, ...hanging]);
        say(
          `✓ docker stop orders-1 with sagas on it: drained in ${stoppedIn.toFixed(1)} s, exit 0; ${placed.length + hanging.length} orders terminal (${confirmed} confirmed), stock and payments consistent`,
        );
      } finally {
        await ordersDb.end();
      }
    }));
});
