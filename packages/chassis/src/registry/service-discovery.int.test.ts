import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { createService } from '../service.ts';
import {
  MemoryConfigSource,
  skipWithoutEtcd,
  startTestEtcd,
  testEnvironment,
  type TestEtcd,
} from '../testing.ts';
import { SERVICES_PREFIX } from './etcd.ts';

describe('a service with etcd discovery', { skip: skipWithoutEtcd() }, () => {
  let etcd: TestEtcd;
  let client: Etcd3;
  const records = async (service: string) =>
    Object.values(await client.getAll().prefix(`${SERVICES_PREFIX}${service}/`).strings()).map(
      (value) => JSON.parse(value) as { url: string },
    );

  before(async () => {
    etcd = await startTestEtcd();
    client = new Etcd3({ hosts: etcd.url });
  });

  after(async () => {
    client.close();
    await etcd.stop();
  });

  it('when it starts, then it registers its listening address, routes upstream calls by etcd, and deregisters on stop', async () => {
    const discovery = { kind: 'etcd', etcd: { endpoints: [etcd.url] } };
    const inventory = await createService({
      name: 'inventory',
      description: 'discovery test',
      env: testEnvironment(),
      configSource: new MemoryConfigSource({ discovery }),
    });
    inventory.app.get('/whoami', async () => ({ service: 'inventory' }));
    const address = await inventory.start();
    assert.deepEqual(
      (await records('inventory')).map((record) => record.url),
      [address],
    );

    const orders = await createService({
      name: 'orders',
      description: 'discovery test',
      env: testEnvironment(),
      configSource: new MemoryConfigSource({
        discovery,
        http: { advertiseUrl: 'http://orders.example:5002' },
      }),
    });
    await orders.start();
    try {
      assert.deepEqual(
        (await records('orders')).map((record) => record.url),
        ['http://orders.example:5002'],
      );
      const answer = await orders
        .upstream('inventory')
        .json<{ service: string }>({ method: 'GET', path: '/whoami' });
      assert.deepEqual(answer, { status: 200, body: { service: 'inventory' } });
      const ready = await orders.app.inject({ method: 'GET', url: '/health/ready' });
      assert.equal(ready.json().checks.registry, 'up');
    } finally {
      await inventory.stop();
      assert.deepEqual(await records('inventory'), []);
      await orders.stop();
    }
  });
});
