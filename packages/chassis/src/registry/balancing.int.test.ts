import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../logger.ts';
import { UpstreamClient, type ResiliencePolicy } from '../resilience.ts';
import { skipWithoutEtcd, startTestEtcd, type TestEtcd } from '../testing.ts';
import { Balancer, type BalancingSettings } from './balancer.ts';
import { EtcdRegistry } from './etcd.ts';

const log = createLogger('balancing-test', 'silent');
const policy: ResiliencePolicy = {
  timeoutMs: 2000,
  retries: 2,
  retryBaseDelayMs: 10,
  breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1000 },
  bulkhead: { limit: 64, queue: 64 },
};

/** A small HTTP instance that answers with its name; `/slow` waits until `release()`. */
async function instance(name: string) {
  const held: Array<() => void> = [];
  let served = 0;
  const server: Server = createServer((request, response) => {
    served++;
    const answer = () => response.end(name);
    if (request.url === '/slow') held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get served() {
      return served;
    },
    release: () => held.splice(0).forEach((answer) => answer()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('client-side balancing over etcd discovery', { skip: skipWithoutEtcd() }, () => {
  let etcd: TestEtcd;
  let a: Awaited<ReturnType<typeof instance>>;
  let b: Awaited<ReturnType<typeof instance>>;
  const registries: EtcdRegistry[] = [];
  const clients: UpstreamClient[] = [];
  const registry = (settings: BalancingSettings) => {
    const created = new EtcdRegistry({
      endpoints: [etcd.url],
      leaseTtlSeconds: 10,
      balancer: new Balancer(() => settings),
      log,
      version: 'test',
    });
    registries.push(created);
    return created;
  };
  /** A caller's registry and client for `service`, once it sees `count` instances. */
  const caller = async (service: string, count: number, settings: BalancingSettings) => {
    const discovery = registry(settings);
    await discovery.start();
    const deadline = Date.now() + 3000;
    while (discovery.instances(service).length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(discovery.instances(service).length, count);
    const client = new UpstreamClient(service, discovery, policy);
    clients.push(client);
    return { discovery, client };
  };
  const leastPending: BalancingSettings = {
    balancing: 'least-pending',
    ejection: { consecutiveFailures: 3, cooldownMs: 10_000 },
  };

  before(async () => {
    etcd = await startTestEtcd();
    [a, b] = [await instance('a'), await instance('b')];
    for (const [service, url] of [
      ['orders', a.url],
      ['orders', b.url],
      ['payments', a.url],
      ['payments', b.url],
      ['inventory', a.url],
      ['inventory', b.url],
    ] as const) {
      await registry(leastPending).register({ service, url });
    }
  });

  after(async () => {
    for (const client of clients) await client.close();
    for (const created of registries) await created.close();
    await Promise.all([a.close(), b.close()]);
    await etcd.stop();
  });

  it('when calls are made one after another, then both instances share them', async () => {
    const { client } = await caller('orders', 2, { ...leastPending, balancing: 'round-robin' });
    const answers = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const response = await client.request({ method: 'GET', path: '/' });
      const name = response.body.toString();
      answers.set(name, (answers.get(name) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(answers), { a: 5, b: 5 });
  });

  it('when one instance holds a call, then least-pending sends the next calls to the idle one', async () => {
    const { client } = await caller('payments', 2, leastPending);
    const slow = client.request({ method: 'GET', path: '/slow' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const busy = a.served + b.served;
    const answers: string[] = [];
    for (let i = 0; i < 6; i++)
      answers.push((await client.request({ method: 'GET', path: '/' })).body.toString());
    assert.equal(a.served + b.served, busy + 6);
    assert.equal(new Set(answers).size, 1, `all to one instance: ${answers.join(',')}`);
    a.release();
    b.release();
    const held = (await slow).body.toString();
    assert.notEqual(held, answers[0]);
  });

  it('when an instance is dead, then calls fail over with no failure, and it is ejected after consecutive failures', async () => {
    const dead = await instance('dead');
    await dead.close();
    await registry(leastPending).register({ service: 'inventory', url: dead.url });
    const { discovery, client } = await caller('inventory', 3, leastPending);
    const answers: string[] = [];
    for (let i = 0; i < 12; i++) {
      answers.push((await client.request({ method: 'GET', path: '/' })).body.toString());
    }
    // Nothing reaches a refused instance, so even a call that is not idempotent may move on.
    answers.push((await client.request({ method: 'POST', path: '/', body: 'x' })).body.toString());
    assert.ok(
      answers.every((answer) => answer === 'a' || answer === 'b'),
      answers.join(','),
    );
    for (let i = 0; i < 20; i++) assert.notEqual(discovery.pick('inventory').url, dead.url);
  });

  it('when an instance leaves discovery, then the pool to it is closed and calls go on to the others', async () => {
    const leaving = await instance('leaving');
    const itsRegistry = registry(leastPending);
    await itsRegistry.register({ service: 'notifications', url: leaving.url });
    await registry(leastPending).register({ service: 'notifications', url: a.url });
    const discovery = registry({ ...leastPending, balancing: 'round-robin' });
    await discovery.start();
    const until = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 3000;
      while (!done()) {
        assert.ok(Date.now() < deadline, what);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await until(() => discovery.instances('notifications').length === 2, 'both instances seen');
    const client = new UpstreamClient('notifications', discovery, policy, { sweepMs: 50 });
    clients.push(client);
    for (let i = 0; i < 4; i++) await client.request({ method: 'GET', path: '/' });
    assert.deepEqual(client.pooledOrigins.toSorted(), [a.url, leaving.url].toSorted());

    await itsRegistry.deregister();
    await until(() => !client.pooledOrigins.includes(leaving.url), 'the departed pool closed');
    assert.deepEqual(client.pooledOrigins, [a.url]);
    assert.equal((await client.request({ method: 'GET', path: '/' })).body.toString(), 'a');
    await leaving.close();
  });
});
