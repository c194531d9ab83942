import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  FakeUpstream,
  SigningKeys,
  deadUrl,
  startGateway,
  type TestGateway,
} from './test-fixtures/fake-upstreams.ts';

describe('gateway authentication', () => {
  const keys = new SigningKeys();
  let users: FakeUpstream;
  let test: TestGateway;
  let clockOffsetMs = 0;

  before(async () => {
    await keys.add('k1');
    users = await FakeUpstream.start();
    users.handlers.set('/.well-known/jwks.json', keys.handler);
    test = await startGateway({ users: users.url }, {}, () => Date.now() + clockOffsetMs);
  });

  after(async () => {
    await test.close();
    await users.close();
  });

  const call = (authorization?: string) =>
    test.gateway.app.inject({
      url: '/api/users/me',
      headers: authorization === undefined ? {} : { authorization },
    });

  it('when a valid token is presented, then the service receives an identity it verifies, not the token', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await keys.token('k1', { sub: 'u-42', role: 'admin', exp });
    const response = await call(`Bearer ${token}`);
    assert.equal(response.statusCode, 200);
    const seen = users.receivedAt('/api/users/me').at(-1)!.headers;
    assert.equal(seen.authorization, undefined);
    assert.deepEqual(test.gateway.identity.verify(seen['x-souk-identity'] as string), {
      kind: 'user',
      sub: 'u-42',
      role: 'admin',
      exp,
    });
  });

  it('when the same token comes again, then it is accepted without fetching the key set again', async () => {
    const token = await keys.token('k1', { sub: 'u-7' });
    assert.equal((await call(`Bearer ${token}`)).statusCode, 200);
    const fetches = keys.jwksFetches;
    for (let i = 0; i < 5; i++) assert.equal((await call(`bearer ${token}`)).statusCode, 200);
    assert.equal((await call(`Bearer ${token}`)).statusCode, 200);
    assert.equal(keys.jwksFetches, fetches);
  });

  it('when no token is presented, then the request goes on without an identity', async () => {
    assert.equal((await call()).statusCode, 200);
    assert.equal(users.receivedAt('/api/users/me').at(-1)!.headers['x-souk-identity'], undefined);
  });

  it('when the token is unsigned, tampered, expired, or for another issuer or audience, then 401', async () => {
    const valid = await keys.token('k1');
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const elevated = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const cases: Record<string, string> = {
      'alg none': `${none}.${payload}.`,
      'tampered payload': `${header}.${elevated}.${signature}`,
      'tampered signature': `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
      expired: await keys.token('k1', { exp: Math.floor(Date.now() / 1000) - 10 }),
      'wrong issuer': await keys.token('k1', { iss: 'someone-else' }),
      'wrong audience': await keys.token('k1', { aud: 'other-shop' }),
      'unknown role': await keys.token('k1', { role: 'root' }),
    };
    const before = users.received.length;
    for (const [name, token] of Object.entries(cases)) {
      const response = await call(`Bearer ${token}`);
      assert.equal(response.statusCode, 401, name);
      assert.equal(response.json().code, 'UNAUTHORIZED', name);
      assert.equal(response.headers['www-authenticate'], 'Bearer', name);
    }
    assert.equal(users.received.length - before, 0);
  });

  it('when the Authorization header is malformed, then 401', async () => {
    const token = await keys.token('k1');
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `Bearer ${token} extra`, token]) {
      assert.equal((await call(authorization)).statusCode, 401, authorization);
    }
  });

  it('when a cached token expires, then it is refused like any expired token', async () => {
    const token = await keys.token('k1', { exp: Math.floor(Date.now() / 1000) + 60 });
    assert.equal((await call(`Bearer ${token}`)).statusCode, 200);
    clockOffsetMs = 61_000;
    try {
      const response = await call(`Bearer ${token}`);
      assert.equal(response.statusCode, 401);
      assert.match(response.json().detail, /expired/);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('when a token names an unknown key, then the key set is fetched again, at most once per cooldown', async () => {
    const fetched = keys.jwksFetches;
    // The users service rotates to k4 after the gateway cached its key set.
    await keys.add('k4');
    clockOffsetMs = 31_000;
    try {
      assert.equal((await call(`Bearer ${await keys.token('k4')}`)).statusCode, 200);
      assert.equal(keys.jwksFetches, fetched + 1);

      await keys.add('k5');
      assert.equal((await call(`Bearer ${await keys.token('k5')}`)).statusCode, 401);
      assert.equal((await call(`Bearer ${await keys.token('k5', { sub: 'other' })}`)).statusCode, 401);
      assert.equal(keys.jwksFetches, fetched + 1);

      clockOffsetMs = 62_000;
      assert.equal((await call(`Bearer ${await keys.token('k5')}`)).statusCode, 200);
      assert.equal(keys.jwksFetches, fetched + 2);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('when the key set is loaded, then the gateway is ready; without users and keys it is not', async () => {
    const ready = await test.gateway.app.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().checks.jwks, 'up');

    const orphan = await startGateway({ users: await deadUrl() });
    try {
      const notReady = await orphan.gateway.app.inject({ url: '/health/ready' });
      assert.equal(notReady.statusCode, 503);
      assert.match(notReady.json().checks.jwks, /^down/);
      const token = await keys.token('k1');
      const response = await orphan.gateway.app.inject({
        url: '/api/users/me',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().code, 'UPSTREAM_UNAVAILABLE');
    } finally {
      await orphan.close();
    }
  });

  it('when the users service answers something other than a key set, then token requests get 503, not 500', async () => {
    const confused = await FakeUpstream.start();
    const gateway = await startGateway({ users: confused.url });
    try {
      const response = await gateway.gateway.app.inject({
        url: '/api/users/me',
        headers: { authorization: `Bearer ${await keys.token('k1')}` },
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().code, 'UPSTREAM_UNAVAILABLE');
      assert.equal(confused.receivedAt('/api/users/me').length, 0);
    } finally {
      await gateway.close();
      await confused.close();
    }
  });
});
