import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { SharedCounters } from './http/rate-limit.store.ts';
import {
  FakeUpstream,
  SigningKeys,
  deadUrl,
  startGateway,
  type TestGateway,
} from './test-fixtures/fake-upstreams.ts';

const REDIS_URL = process.env.SOUK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const get = (test: TestGateway, ip: string, url = '/api/products', method: 'GET' | 'POST' = 'GET') =>
  test.gateway.app.inject({ method, url, remoteAddress: ip });

describe('gateway rate limits shared in Redis', () => {
  const keyPrefix = `souk-test:${randomUUID()}:`;
  let upstream: FakeUpstream;
  let gateways: TestGateway[];

  before(async () => {
    upstream = await FakeUpstream.start();
    const registry = { users: upstream.url, inventory: upstream.url };
    const rateLimit = {
      store: 'redis',
      redisUrl: REDIS_URL,
      redisKeyPrefix: keyPrefix,
      max: 5,
      loginMax: 2,
    };
    gateways = [await startGateway(registry, { rateLimit }), await startGateway(registry, { rateLimit })];
  });

  after(async () => {
    for (const test of gateways) await test.close();
    await upstream.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('when one client spreads N + k requests over two gateways, then exactly N get through', async () => {
    const ip = '203.0.113.10';
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await get(gateways[i % 2]!, ip)).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429]);
  });

  it('when the shared limit is spent, then the other gateway refuses with the same headers and Retry-After', async () => {
    const ip = '203.0.113.20';
    for (let i = 0; i < 4; i++) assert.equal((await get(gateways[0]!, ip)).statusCode, 200);
    const last = await get(gateways[1]!, ip);
    assert.equal(last.statusCode, 200);
    assert.equal(last.headers['x-ratelimit-remaining'], '0');
    const refused = await get(gateways[1]!, ip);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().code, 'RATE_LIMITED');
    assert.equal(refused.headers['x-ratelimit-limit'], '5');
    assert.equal(refused.headers['x-ratelimit-remaining'], '0');
    assert.match(refused.headers['x-ratelimit-reset'] as string, /^\d+$/);
    assert.match(refused.headers['retry-after'] as string, /^\d+$/);
    assert.ok(Number(refused.headers['retry-after']) <= 60);
  });

  it('when logins come through both gateways, then the login limit is shared too', async () => {
    const ip = '203.0.113.30';
    assert.equal((await get(gateways[0]!, ip, '/api/auth/login', 'POST')).statusCode, 200);
    assert.equal((await get(gateways[1]!, ip, '/api/auth/login', 'POST')).statusCode, 200);
    const refused = await get(gateways[0]!, ip, '/api/auth/login', 'POST');
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['x-ratelimit-limit'], '2');
  });
});

describe('gateway rate limits when Redis is unreachable', () => {
  let upstream: FakeUpstream;
  let test: TestGateway;

  before(async () => {
    upstream = await FakeUpstream.start();
    const keys = new SigningKeys();
    await keys.add('k1');
    upstream.handlers.set('/.well-known/jwks.json', keys.handler);
    const closedPort = new URL(await deadUrl()).port;
    test = await startGateway(
      { users: upstream.url, inventory: upstream.url },
      { rateLimit: { store: 'redis', redisUrl: `redis://127.0.0.1:${closedPort}`, max: 3 } },
    );
  });

  after(async () => {
    await test.close();
    await upstream.close();
  });

  it('when Redis is down, then requests are still served and the memory limit applies, never a 500', async () => {
    const ip = '203.0.113.40';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(test, ip)).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const refused = await get(test, ip);
    assert.equal(refused.headers['x-ratelimit-limit'], '3');
    assert.match(refused.headers['retry-after'] as string, /^\d+$/);
  });

  it('when Redis is down, then the gateway stays ready and its readiness says the limits are per gateway', async () => {
    const ready = await test.gateway.app.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.match(
      ready.json<{ checks: Record<string, string> }>().checks.rateLimitStore ?? '',
      /^degraded: Redis unreachable; rate limits are counted per gateway/,
    );
  });
});

/** A TCP hop in front of Redis that a test can cut and restore, so Redis "goes away" and "comes back". */
class RedisLink {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  async open(): Promise<void> {
    const target = new URL(REDIS_URL);
    this.#server = createServer((client) => {
      const redis = connect(Number(target.port || 6379), target.hostname);
      for (const socket of [client, redis]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(redis).pipe(client);
    });
    this.#server.listen(this.port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    const server = this.#server!;
    server.close();
    for (const socket of this.#sockets) socket.destroy();
    await once(server, 'close');
  }
}

describe('shared counters across a Redis outage', () => {
  it('when Redis goes away and comes back, then each change is logged once and counting moves accordingly', async () => {
    const link = new RedisLink();
    await link.open();
    const logged: string[] = [];
    const record = (level: string) => (first: unknown, second?: unknown) =>
      logged.push(`${level}: ${typeof first === 'string' ? first : String(second)}`);
    const log = { info: record('info'), warn: record('warn') } as unknown as ConstructorParameters<
      typeof SharedCounters
    >[0]['log'];
    const counters = new SharedCounters({
      url: `redis://127.0.0.1:${link.port}`,
      keyPrefix: `souk-test:${randomUUID()}:`,
      timeoutMs: 200,
      clients: 100,
      log,
    });
    const count = (key: string) =>
      new Promise<{ current: number; ttl: number }>((resolve, reject) =>
        counters.incr(key, (error, result) => (error ? reject(error) : resolve(result!)), 60_000, 10),
      );
    try {
      // Connecting may already count as one outage; start once Redis answers and nothing is pending.
      await waitFor(async () => {
        await count('warm-up');
        return logged.length !== 1;
      });
      logged.length = 0;
      assert.equal((await count('a')).current, 1);

      assert.equal(await counters.check(), undefined);

      await link.cut();
      for (let i = 0; i < 3; i++) await count('a');
      assert.match((await counters.check())?.degraded ?? '', /Redis unreachable/);
      assert.deepEqual(logged, [
        'warn: Redis unreachable; rate limits are counted per gateway until it is back',
      ]);

      await link.open();
      await waitFor(async () => {
        await count('b');
        return logged.length === 2;
      });
      assert.equal(logged[1], 'info: Redis is back; rate limits are shared across gateways again');
      assert.equal((await count('a')).current, 2, 'Redis kept the count from before the outage');
      assert.equal(await counters.check(), undefined);
    } finally {
      counters.close();
      await link.cut();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
