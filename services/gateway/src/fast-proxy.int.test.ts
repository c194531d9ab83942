import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ROUTES } from './gateway.config.ts';
import {
  FakeUpstream,
  SigningKeys,
  deadUrl,
  startGateway,
  type TestGateway,
} from './test-fixtures/fake-upstreams.ts';

// The fast path (http/fast-proxy.ts) takes plain GET and HEAD requests before fastify; a percent-encoded
// letter in the path sends the very same request the full way (the gateway normalises it back), so each test
// asks both ways over real HTTP and expects one behaviour. app.inject() would bypass the fast path.
describe('gateway proxy fast path', () => {
  let users: FakeUpstream;
  let inventory: FakeUpstream;
  let keys: SigningKeys;
  let test: TestGateway;
  let base: string;

  before(async () => {
    users = await FakeUpstream.start();
    inventory = await FakeUpstream.start();
    keys = new SigningKeys();
    await keys.add('k1');
    users.handlers.set('/.well-known/jwks.json', keys.handler);
    test = await startGateway(
      { users: users.url, inventory: inventory.url, orders: await deadUrl() },
      {
        routes: DEFAULT_ROUTES.map((route) =>
          route.service === 'orders' ? { ...route, retries: 0 } : route,
        ),
      },
    );
    base = await test.gateway.app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await test.close();
    await Promise.all([users.close(), inventory.close()]);
  });

  /** The answer and what the upstream saw, for a request sent to `path`. */
  async function call(path: string, init: RequestInit = {}) {
    const response = await fetch(`${base}${path}`, init);
    const body = await response.text();
    const headers = Object.fromEntries(
      [...response.headers].filter(([name]) => !['date', 'x-ratelimit-remaining'].includes(name)),
    );
    return {
      status: response.status,
      headers,
      body,
      remaining: response.headers.get('x-ratelimit-remaining'),
    };
  }

  it('when a plain GET goes the fast way and its encoded twin the full way, then upstream and client see the same', async () => {
    const init = {
      headers: { 'x-request-id': 'same-id', 'x-forwarded-for': '10.0.0.1', connection: 'keep-alive' },
    };
    const fast = await call('/api/products/p1?size=2', init);
    const fastSeen = inventory.received.at(-1)!;
    const full = await call('/api/products/p%31?size=2', init);
    const fullSeen = inventory.received.at(-1)!;
    assert.equal(fast.status, 200);
    assert.deepEqual(fast.headers, full.headers);
    assert.equal(fast.body.length, full.body.length);
    assert.equal(fastSeen.url, '/api/products/p1?size=2');
    assert.equal(fullSeen.url, fastSeen.url);
    // traceparent names a new span each time; everything else crosses the same way.
    const { traceparent: fastSpan, ...fastHeaders } = fastSeen.headers;
    const { traceparent: fullSpan, ...fullHeaders } = fullSeen.headers;
    assert.deepEqual(fastHeaders, fullHeaders);
    assert.equal(fastHeaders['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.match(String(fastSpan), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    assert.notEqual(fastSpan, fullSpan);
    assert.equal(Number(fast.remaining) - 1, Number(full.remaining));
  });

  it('when HEAD is asked, then the length of the body it would have is kept and no body comes', async () => {
    const headers = { 'x-request-id': 'head' };
    const fast = await call('/api/products/p1', { method: 'HEAD', headers });
    const full = await call('/api/products/p%31', { method: 'HEAD', headers });
    assert.equal(fast.status, 200);
    assert.equal(fast.body, '');
    assert.deepEqual(fast.headers, full.headers);
  });

  it('when a token was verified once, then the next request carries the identity credential the same way', async () => {
    const authorization = `Bearer ${await keys.token('k1', { sub: 'user-fast' })}`;
    const full = await call('/api/products/p%31', { headers: { authorization } });
    const fullSeen = inventory.received.at(-1)!;
    const fast = await call('/api/products/p1', { headers: { authorization } });
    const fastSeen = inventory.received.at(-1)!;
    assert.equal(fast.status, 200);
    assert.equal(fast.status, full.status);
    assert.equal(fastSeen.headers.authorization, undefined);
    assert.equal(fastSeen.headers['x-souk-identity'], fullSeen.headers['x-souk-identity']);
    assert.equal(Number(full.remaining) - 1, Number(fast.remaining));
  });

  it('when the service cannot be reached, then both ways answer the same 503 problem', async () => {
    const fast = await call('/api/orders/o1', { headers: { 'x-request-id': 'down' } });
    const full = await call('/api/orders/o%31', { headers: { 'x-request-id': 'down' } });
    assert.equal(fast.status, 503);
    // The problem names the path asked, which is two characters longer the full way.
    assert.deepEqual(
      { ...fast.headers, 'content-length': undefined },
      { ...full.headers, 'content-length': undefined },
    );
    assert.equal(fast.headers['content-type'], 'application/problem+json; charset=utf-8');
    const [fastProblem, fullProblem] = [JSON.parse(fast.body), JSON.parse(full.body)];
    assert.equal(fastProblem.instance, '/api/orders/o1');
    assert.deepEqual({ ...fastProblem, instance: undefined }, { ...fullProblem, instance: undefined });
    assert.equal(fastProblem.code, 'UPSTREAM_UNAVAILABLE');
  });

  it('when a client runs past its limit, then both ways count in one window and refuse with the same 429', async () => {
    await test.reconfigure({ rateLimit: { max: 3, windowMs: 60_000 } });
    const headers = { 'x-forwarded-for': '10.9.9.9', 'x-request-id': 'limited' };
    // A fresh window for a fresh user: two fast, one full, then one over the limit each way.
    const authorization = `Bearer ${await keys.token('k1', { sub: 'user-limited' })}`;
    const answers = [
      await call('/api/products/p%31', { headers: { ...headers, authorization } }),
      await call('/api/products/p1', { headers: { ...headers, authorization } }),
      await call('/api/products/p1', { headers: { ...headers, authorization } }),
      await call('/api/products/p1', { headers: { ...headers, authorization } }),
      await call('/api/products/p%31', { headers: { ...headers, authorization } }),
    ];
    assert.deepEqual(
      answers.map((answer) => [answer.status, answer.remaining]),
      [
        [200, '2'],
        [200, '1'],
        [200, '0'],
        [429, '0'],
        [429, '0'],
      ],
    );
    const [fast, full] = [answers[3]!, answers[4]!];
    assert.deepEqual(
      { ...fast.headers, 'content-length': undefined },
      { ...full.headers, 'content-length': undefined },
    );
    assert.ok(Number(fast.headers['retry-after']) > 0);
    const [fastProblem, fullProblem] = [JSON.parse(fast.body), JSON.parse(full.body)];
    assert.deepEqual({ ...fastProblem, instance: undefined }, { ...fullProblem, instance: undefined });
    assert.equal(fastProblem.code, 'RATE_LIMITED');
  });
});
