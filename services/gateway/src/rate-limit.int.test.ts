import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeUpstream, SigningKeys, startGateway, type TestGateway } from './test-fixtures/fake-upstreams.ts';

describe('gateway rate limiting', () => {
  const keys = new SigningKeys();
  let users: FakeUpstream;
  let test: TestGateway;

  before(async () => {
    await keys.add('k1');
    users = await FakeUpstream.start();
    users.handlers.set('/.well-known/jwks.json', keys.handler);
    test = await startGateway({ users: users.url }, { rateLimit: { max: 3, loginMax: 2 } });
  });

  after(async () => {
    await test.close();
    await users.close();
  });

  const call = (options: { url?: string; method?: 'GET' | 'POST'; token?: string; ip?: string } = {}) =>
    test.gateway.app.inject({
      method: options.method ?? 'GET',
      url: options.url ?? '/api/users/me',
      remoteAddress: options.ip ?? '198.51.100.1',
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
    });

  it('when a client exceeds its limit, then 429 RATE_LIMITED problem+json with Retry-After and x-ratelimit headers', async () => {
    const ip = '198.51.100.10';
    for (let i = 0; i < 3; i++) {
      const allowed = await call({ ip });
      assert.equal(allowed.statusCode, 200);
      assert.equal(allowed.headers['x-ratelimit-remaining'], String(2 - i));
    }
    const before = users.received.length;
    const refused = await call({ ip });
    assert.equal(refused.statusCode, 429);
    assert.match(refused.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(refused.json().code, 'RATE_LIMITED');
    assert.match(refused.headers['retry-after'] as string, /^\d+$/);
    assert.equal(refused.headers['x-ratelimit-limit'], '3');
    assert.equal(refused.headers['x-ratelimit-remaining'], '0');
    assert.ok(refused.headers['x-ratelimit-reset'] !== undefined);
    assert.equal(users.received.length, before);
  });

  it('when users share an IP, then each verified user has a limit of their own', async () => {
    const ip = '198.51.100.20';
    const alice = await keys.token('k1', { sub: 'alice' });
    const bob = await keys.token('k1', { sub: 'bob' });
    for (let i = 0; i < 3; i++) assert.equal((await call({ ip, token: alice })).statusCode, 200);
    assert.equal((await call({ ip, token: alice })).statusCode, 429);
    assert.equal((await call({ ip, token: bob })).statusCode, 200);
    assert.equal((await call({ ip })).statusCode, 200);
  });

  it('when an IP keeps presenting bad tokens, then it is rate limited like any other client', async () => {
    const ip = '198.51.100.30';
    for (let i = 0; i < 3; i++) assert.equal((await call({ ip, token: 'not.a.token' })).statusCode, 401);
    assert.equal((await call({ ip, token: 'not.a.token' })).statusCode, 429);
  });

  it('when logins come from one IP, then the stricter login limit applies to them alone', async () => {
    const ip = '198.51.100.40';
    const login = { method: 'POST', url: '/api/auth/login', ip } as const;
    assert.equal((await call(login)).statusCode, 200);
    assert.equal((await call(login)).statusCode, 200);
    const refused = await call(login);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['x-ratelimit-limit'], '2');
    assert.equal((await call({ ip })).statusCode, 200);
  });

  it('when the limit changes in config, then it applies without a restart', async () => {
    const ip = '198.51.100.50';
    await test.reconfigure({ rateLimit: { max: 5, loginMax: 2 } });
    for (let i = 0; i < 5; i++) assert.equal((await call({ ip })).statusCode, 200);
    assert.equal((await call({ ip })).statusCode, 429);
  });

  it("when the gateway's own endpoints are polled, then they are not rate limited", async () => {
    for (let i = 0; i < 10; i++) {
      assert.equal(
        (await test.gateway.app.inject({ url: '/health/live', remoteAddress: '198.51.100.60' })).statusCode,
        200,
      );
    }
  });
});
