// The fleet under faults: two instances of every service and two gateways on PostgreSQL, RabbitMQ, Redis and
// an etcd of the test's own, as `npm run start:fleet` runs them. Instances are killed, restarted one by one,
// reconfigured through the config center, and cut off from etcd; orders keep going through.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Etcd3 } from 'etcd3';
import { deleteAmqpTopology } from '@souk/chassis';
import { startEtcd, type OwnEtcd } from '@souk/supervisor/engines';
import { parseInstances, startFleet, type Fleet, type FleetInstance } from '@souk/supervisor/fleet';
import { shopClient, type Customer, type Placed } from '../system/shop-client.ts';
import { callApi, type ApiOptions } from '../system/shop.fixture.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ETCD_URL = 'http://127.0.0.1:23790';
const GATEWAY_PORTS = [18180, 18181];
const ADMIN = { email: 'admin@souk.test', password: 'admin-password-for-fleet-tests' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the fleet under faults', { timeout: 600_000 }, () => {
  let fleet: Fleet;
  let dataDir: string;
  let etcdClient: Etcd3;
  let restartedEtcd: OwnEtcd | undefined;
  const namespace = `souk_fleet_test_${randomBytes(3).toString('hex')}`;
  const logs: string[] = [];
  let admin = '';
  let gatewayIndex = 0;
  /** Spreads requests over both gateways. */
  const api = (method: string, url: string, options: ApiOptions & { gateway?: number } = {}) =>
    callApi(
      fleet.gatewayUrls[options.gateway ?? gatewayIndex++ % fleet.gatewayUrls.length]!,
      method,
      url,
      options,
    );
  const client = shopClient(api, () => admin);

  const registeredIds = async (service: string) =>
    Object.keys(await etcdClient.getAll().prefix(`/souk/services/${service}/`).strings());

  /** Instances of a service registered in etcd now. */
  const registered = async (service: string) => (await registeredIds(service)).length;

  /** Reads products through both gateways until stopped; counts the answers of 500 and above. */
  const watchReads = () => {
    let running = true;
    const fivexx: string[] = [];
    const done = (async () => {
      while (running) {
        const response = await api('GET', '/api/products?limit=5').catch((error: unknown) => ({
          status: 0,
          body: String(error),
        }));
        if (response.status >= 500 || response.status === 0)
          fivexx.push(`${response.status} ${JSON.stringify(response.body)}`);
        await sleep(50);
      }
    })();
    return {
      async stop() {
        running = false;
        await done;
        return fivexx;
      },
    };
  };

  /** Places good orders in two lanes until stopped. */
  const streamOrders = (customers: Customer[], productId: string) => {
    let running = true;
    const placed: Placed[] = [];
    const lanes = customers.map(async (customer) => {
      while (running) {
        placed.push(await client.placeOrder(customer, productId, 1));
        await sleep(50);
      }
    });
    return {
      async stop() {
        running = false;
        await Promise.all(lanes);
        return placed;
      },
    };
  };

  const restartedBy = async (instance: FleetInstance, signal: NodeJS.Signals) => {
    const starts = instance.process.starts;
    process.kill(instance.process.pid!, signal);
    const deadline = Date.now() + 60_000;
    while (instance.process.starts === starts) {
      assert.ok(Date.now() < deadline, `${instance.label} restarted`);
      await sleep(50);
    }
    await fleet.ready(instance);
  };

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'souk-fleet-'));
    fleet = await startFleet({
      root,
      dataDir,
      env: {
        ...process.env,
        SOUK_ETCD_URL: ETCD_URL,
        SOUK_ADMIN_EMAIL: ADMIN.email,
        SOUK_ADMIN_PASSWORD: ADMIN.password,
        SOUK__LOG__LEVEL: 'warn',
      },
      instances: parseInstances('2'),
      gatewayPorts: GATEWAY_PORTS,
      namespace,
      say: (line) => logs.push(line),
      onLogLine: (source, line) => {
        logs.push(`${source} ${line}`);
        if (process.env.SOUK_TEST_SHOW_LOGS) console.log(source, line);
      },
      serviceEnv: {
        orders: {
          SOUK__SAGA__LEASE_MS: '3000',
          SOUK__SAGA__STEP_TIMEOUT_MS: '2000',
          SOUK__SAGA__CHARGE_TIMEOUT_MS: '2500',
        },
        gateway: { SOUK__RATE_LIMIT__REGISTER_MAX: '100' },
      },
    }).catch((error: unknown) => {
      console.error(logs.slice(-80).join('\n'));
      throw error;
    });
    etcdClient = new Etcd3({ hosts: ETCD_URL });
    admin = (await api('POST', '/api/auth/login', { body: ADMIN })).body.accessToken;
  });

  after(async () => {
    etcdClient?.close();
    await fleet?.stop();
    await restartedEtcd?.stop();
    await deleteAmqpTopology(fleet.engines.amqp, namespace.replaceAll('_', '-'), ['notifications']).catch(
      () => {},
    );
    await rm(dataDir, { recursive: true, force: true });
  });

  it('when the fleet is up, then every instance is registered in etcd and both gateways serve', async () => {
    for (const service of ['users', 'inventory', 'orders', 'payments', 'notifications', 'gateway'])
      assert.equal(await registered(service), 2, `${service} has 2 instances registered`);
    for (const gateway of [0, 1])
      assert.equal((await api('GET', '/api/products?limit=1', { gateway })).status, 200);
  });

  it('when one limit is set in Redis, then N + k requests spread over both gateways let exactly N through', async () => {
    const limit = 20;
    await souk('config', 'set', 'gateway', 'rateLimit.max', String(limit));
    await sleep(2500);
    const customer = await client.signUp('limited');
    const answers = await Promise.all(
      Array.from({ length: limit + 10 }, (_, i) =>
        api('GET', '/api/users/me', { token: customer.token, gateway: i % 2 }),
      ),
    );
    assert.equal(answers.filter((answer) => answer.status === 200).length, limit);
    assert.ok(answers.filter((answer) => answer.status === 429).every((a) => a.headers.get('retry-after')));
    await souk('config', 'set', 'gateway', 'rateLimit.max', '6000');
  });

  it('when rateLimit.max is set with the CLI, then both gateways show it within 2 s; an invalid value is refused', async () => {
    await souk('config', 'set', 'gateway', 'rateLimit.max', '4321');
    const deadline = Date.now() + 2000;
    for (;;) {
      const limits = await Promise.all(
        [0, 1].map(async (gateway) =>
          (await api('GET', '/api/products?limit=1', { gateway })).headers.get('x-ratelimit-limit'),
        ),
      );
      if (limits.every((limit) => limit === '4321')) break;
      assert.ok(Date.now() < deadline, `both gateways show the new limit within 2 s (${limits.join()})`);
      await sleep(100);
    }
    await assert.rejects(souk('config', 'set', 'gateway', 'rateLimit.max', '-3'));
    await sleep(500);
    assert.equal(
      (await api('GET', '/api/products?limit=1')).headers.get('x-ratelimit-limit'),
      '4321',
      'the old value is kept',
    );
    await souk('config', 'set', 'gateway', 'rateLimit.max', '6000');
  });

  it('when one instance each of orders, payments and inventory is killed with -9 mid-stream, then every order is terminal, the invariants hold, the dead leave discovery within TTL + 1 s, and reads see no 5xx', async () => {
    const initial = 5000;
    const productId = await client.createProduct(initial);
    const customers = [await client.signUp('kill-a'), await client.signUp('kill-b')];
    const reads = watchReads();
    const stream = streamOrders(customers, productId);
    await sleep(1000);
    for (const service of ['orders', 'payments', 'inventory'] as const) {
      const victim = fleet.instances.find((instance) => instance.service === service)!;
      const pid = victim.process.pid!;
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      // Its restart registers as a new instance; the dead one's key goes when its lease runs out.
      while ((await registeredIds(service)).some((id) => id.includes(`-${pid}-`))) {
        assert.ok(Date.now() - killedAt < 11_000, `${victim.label} left discovery within TTL + 1 s`);
        await sleep(100);
      }
      await fleet.ready(victim);
    }
    await sleep(1000);
    const placed = await stream.stop();
    assert.deepEqual(await reads.stop(), [], 'no 5xx on reads');
    await client.assertInvariants(productId, initial, placed);
  });

  it('when every orders instance is restarted in turn (SIGTERM), mid-stream, then no order is cancelled and nothing answers 5xx', async () => {
    const initial = 5000;
    const productId = await client.createProduct(initial);
    const customers = [await client.signUp('roll-a'), await client.signUp('roll-b')];
    const reads = watchReads();
    const stream = streamOrders(customers, productId);
    for (const instance of fleet.instances.filter((candidate) => candidate.service === 'orders')) {
      await sleep(700);
      await restartedBy(instance, 'SIGTERM');
    }
    await sleep(700);
    const placed = await stream.stop();
    assert.deepEqual(await reads.stop(), [], 'no 5xx on reads');
    const confirmed = await client.assertInvariants(productId, initial, placed);
    assert.equal(confirmed, placed.length, 'every order confirmed');
  });

  it('when etcd is stopped for 20 s, then orders still go through, and the registrations come back after it restarts', async () => {
    const productId = await client.createProduct(100);
    const customer = await client.signUp('no-etcd');
    const etcd = fleet.etcd;
    assert.ok(etcd, 'the fleet started its own etcd');
    await etcd.stop();
    const placed: Placed[] = [];
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      placed.push(await client.placeOrder(customer, productId, 1));
      await sleep(1000);
    }
    for (const order of placed) assert.equal((await client.settle(order)).status, 'CONFIRMED');
    restartedEtcd = await startEtcd(ETCD_URL, path.join(dataDir, 'etcd'));
    const deadline = Date.now() + 30_000;
    for (const service of ['users', 'inventory', 'orders', 'payments', 'notifications', 'gateway']) {
      while ((await registered(service).catch(() => 0)) < 2) {
        assert.ok(Date.now() < deadline, `${service} registered again after etcd came back`);
        await sleep(250);
      }
    }
  });
});

/** `npm run souk -- …` against the test's etcd; rejects when the CLI exits non-zero. */
async function souk(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(root, 'cli', 'souk.ts'), ...args],
    { env: { ...process.env, SOUK_ETCD_ENDPOINTS: ETCD_URL }, cwd: root },
  );
  return stdout;
}
