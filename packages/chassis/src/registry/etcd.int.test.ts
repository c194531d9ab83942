import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { createLogger } from '../logger.ts';
import { skipWithoutEtcd, startTestEtcd, type TestEtcd } from '../testing.ts';
import { Balancer, defaultBalancing } from './balancer.ts';
import { EtcdRegistry, SERVICES_PREFIX } from './etcd.ts';

const log = createLogger('registry-test', 'silent');

async function eventually<T>(probe: () => T | Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('EtcdRegistry', { skip: skipWithoutEtcd() }, () => {
  let etcd: TestEtcd;
  let client: Etcd3;
  const registries: EtcdRegistry[] = [];
  const registry = (leaseTtlSeconds = 2) => {
    const created = new EtcdRegistry({
      endpoints: [etcd.url],
      leaseTtlSeconds,
      balancer: new Balancer(defaultBalancing),
      log,
      version: '1.2.3',
      retryMs: 200,
    });
    registries.push(created);
    return created;
  };
  const records = async (service: string) =>
    Object.entries(await client.getAll().prefix(`${SERVICES_PREFIX}${service}/`).strings());

  before(async () => {
    etcd = await startTestEtcd();
    client = new Etcd3({ hosts: etcd.url });
  });

  after(async () => {
    for (const created of registries) await created.close();
    client.close();
    await etcd.stop();
  });

  it('when an instance registers, then its record is under /souk/services/<service>/<id> as JSON', async () => {
    const users = registry();
    await users.start();
    await users.register({ service: 'users', url: 'http://10.0.0.1:5001', grpcUrl: '10.0.0.1:6001' });
    const [[key, value]] = (await records('users')) as [[string, string]];
    const record = JSON.parse(value);
    assert.match(key, /^\/souk\/services\/users\/users-.+-\d+-[0-9a-f]{4}$/);
    assert.equal(key, `${SERVICES_PREFIX}users/${record.id}`);
    assert.deepEqual(
      { ...record, startedAt: typeof record.startedAt },
      {
        id: record.id,
        service: 'users',
        url: 'http://10.0.0.1:5001',
        grpcUrl: '10.0.0.1:6001',
        version: '1.2.3',
        startedAt: 'string',
      },
    );
    assert.ok(!Number.isNaN(Date.parse(record.startedAt)));
    await users.deregister();
  });

  it('when an instance deregisters, then its record is gone at once', async () => {
    const orders = registry(10);
    await orders.register({ service: 'orders', url: 'http://10.0.0.2:5002' });
    assert.equal((await records('orders')).length, 1);
    await orders.deregister();
    assert.equal((await records('orders')).length, 0);
  });

  it('when the keep-alive dies without a revoke, then the record is gone within TTL + 1 s', async () => {
    const payments = registry(2);
    await payments.register({ service: 'payments', url: 'http://10.0.0.3:5003' });
    assert.equal((await records('payments')).length, 1);
    const closedAt = Date.now();
    await payments.close();
    await eventually(async () => (await records('payments')).length === 0, 3000);
    assert.ok(Date.now() - closedAt <= 3000);
  });

  it('when another instance comes and goes, then the watch-fed cache answers synchronously', async () => {
    const observer = registry();
    await observer.start();
    assert.deepEqual(observer.instances('inventory'), []);
    const inventory = registry();
    await inventory.register({ service: 'inventory', url: 'http://10.0.0.4:5004' });
    await eventually(() => observer.instances('inventory').length === 1, 2000);
    assert.equal(observer.resolve('inventory'), 'http://10.0.0.4:5004');
    assert.equal(observer.pick('inventory').service, 'inventory');
    await inventory.deregister();
    await eventually(() => observer.instances('inventory').length === 0, 2000);
    assert.throws(() => observer.resolve('inventory'), { name: 'NoInstanceError' });
  });

  it('when etcd stops, then discovery answers from the last set, reports degraded, and registers again once etcd is back', async () => {
    const observer = registry();
    await observer.start();
    const notifications = registry(2);
    await notifications.start();
    await notifications.register({ service: 'notifications', url: 'http://10.0.0.5:5005' });
    await eventually(() => observer.instances('notifications').length === 1, 2000);
    assert.equal(await notifications.check(), undefined);

    await etcd.kill();
    assert.equal(observer.resolve('notifications'), 'http://10.0.0.5:5005');
    const degraded = await eventually(async () => (await observer.check())?.degraded ?? '', 5000);
    assert.match(degraded, /last known instances/);
    // Past twice the TTL the client gives its lease up, and etcd will expire it: only a new lease brings the record back.
    await eventually(async () => (await notifications.check())?.degraded?.includes('not registered'), 8000);

    await etcd.restart();
    await eventually(async () => (await records('notifications')).length === 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const [[, value]] = (await records('notifications')) as [[string, string]];
    assert.equal(JSON.parse(value).url, 'http://10.0.0.5:5005');
    await eventually(async () => (await notifications.check()) === undefined, 5000);
    await eventually(async () => (await observer.check()) === undefined, 5000);
    assert.equal(observer.resolve('notifications'), 'http://10.0.0.5:5005');
  });
});
