import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { DEFAULT_ROUTES } from './gateway.config.ts';
import { FakeUpstream, deadUrl, startGateway, type TestGateway } from './test-fixtures/fake-upstreams.ts';

describe('gateway proxy', () => {
  let users: FakeUpstream;
  let inventory: FakeUpstream;
  let test: TestGateway;

  before(async () => {
    users = await FakeUpstream.start();
    inventory = await FakeUpstream.start();
    test = await startGateway({ users: users.url, inventory: inventory.url, orders: await deadUrl() });
  });

  after(async () => {
    await test.close();
    await Promise.all([users.close(), inventory.close()]);
  });

  const inject = (options: InjectOptions) => test.gateway.app.inject(options);

  it('when a public route is called, then method, path, query and body reach its service and its answer comes back', async () => {
    const response = await inject({
      method: 'PATCH',
      url: '/api/products/p1?status=201&q=a%20b',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-123' },
      payload: '{"name":"Mint tea"}',
    });
    assert.equal(response.statusCode, 201);
    assert.equal(response.headers['x-upstream'], 'echo');
    assert.equal(response.headers['proxy-authenticate'], undefined);
    assert.equal(response.headers['x-request-id'], 'req-123');
    const seen = response.json();
    assert.equal(seen.method, 'PATCH');
    assert.equal(seen.url, '/api/products/p1?status=201&q=a%20b');
    assert.equal(seen.body, '{"name":"Mint tea"}');
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['content-length'], '19');
    assert.equal(seen.headers['x-request-id'], 'req-123');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(users.received.length, 0);
  });

  it('when the body is not JSON, then it is forwarded byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    const response = await inject({
      method: 'POST',
      url: '/api/users',
      headers: { 'content-type': 'application/octet-stream' },
      payload: bytes,
    });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(users.received.at(-1)!.body, bytes);
  });

  it('when a HEAD or a bodied request without content type comes, then it is proxied as sent', async () => {
    const head = await inject({ method: 'HEAD', url: '/api/products/p1' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    assert.equal(inventory.received.at(-1)!.method, 'HEAD');

    const bare = await inject({
      method: 'POST',
      url: '/api/products',
      headers: { expect: '100-continue' },
      payload: 'plain bytes',
    });
    assert.equal(bare.statusCode, 200);
    assert.equal(inventory.received.at(-1)!.body.toString(), 'plain bytes');
  });

  it('when a client sends identity headers, then the upstream never sees them', async () => {
    const leaked = test.gateway.identity.sign({
      kind: 'user',
      sub: 'victim',
      role: 'admin',
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    const response = await inject({
      url: '/api/users/me',
      headers: { 'x-souk-identity': leaked, 'x-souk-caller': 'orders', 'x-user-id': 'victim' },
    });
    assert.equal(response.statusCode, 200);
    const seen = users.received.at(-1)!.headers;
    assert.equal(seen['x-souk-identity'], undefined);
    assert.equal(seen['x-souk-caller'], undefined);
    assert.equal(seen['x-user-id'], undefined);
  });

  it('when a client sends a forged identity credential, then it is stripped and the call goes on anonymous', async () => {
    const forged = `${Buffer.from('{"kind":"user","sub":"x","role":"admin","exp":9999999999}').toString('base64url')}.AAAA`;
    const response = await inject({ url: '/api/users/me', headers: { 'x-souk-identity': forged } });
    assert.equal(response.statusCode, 200);
    assert.equal(users.received.at(-1)!.headers['x-souk-identity'], undefined);
  });

  it('when no route matches, then 404; when the method is not routed, then 405 with Allow', async () => {
    const missing = await inject({ url: '/api/unknown' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(missing.json().code, 'ROUTE_NOT_FOUND');
    assert.equal((await inject({ url: '/api/usersX' })).statusCode, 404);

    const wrongMethod = await inject({ method: 'DELETE', url: '/api/products/p1' });
    assert.equal(wrongMethod.statusCode, 405);
    assert.equal(wrongMethod.json().code, 'METHOD_NOT_ALLOWED');
    assert.equal(wrongMethod.headers.allow, 'GET, POST, PATCH, HEAD');
  });

  it('when an internal path is requested, however spelled, then 404 and no service is called', async () => {
    const before = users.received.length + inventory.received.length;
    for (const url of [
      '/internal/reservations',
      '/internal',
      '/api/products/../../internal/reservations',
      '/api/products/%2e%2e/%2e%2e/internal/x',
    ]) {
      assert.equal((await inject({ method: 'POST', url })).statusCode, 404, url);
    }
    assert.equal(users.received.length + inventory.received.length, before);
  });

  it("when the gateway's own endpoints are called, then the gateway answers them", async () => {
    assert.equal((await inject({ url: '/health/live' })).statusCode, 200);
    assert.match((await inject({ url: '/metrics' })).body, /http_server_request_duration_seconds/);
    assert.equal((await inject({ url: '/docs/json' })).statusCode, 200);
  });

  it('when requests are proxied, then the metrics count them per public route, not as one catch-all', async () => {
    await inject({ url: '/api/products?limit=1' });
    const metrics = (await inject({ url: '/metrics' })).body;
    assert.match(metrics, /http_server_request_duration_seconds_count\{[^}]*route="\/api\/products"/);

    assert.equal(users.receivedAt('/health/live').length, 0);
  });

  it('when the body is over 1 MiB, then 413 problem+json and nothing is proxied', async () => {
    const before = inventory.received.length;
    for (const type of ['application/json', 'application/octet-stream']) {
      const response = await inject({
        method: 'POST',
        url: '/api/products',
        headers: { 'content-type': type },
        payload: Buffer.alloc(1024 * 1024 + 1, 0x20),
      });
      assert.equal(response.statusCode, 413);
      assert.equal(response.json().code, 'BODY_TOO_LARGE');
    }
    assert.equal(inventory.received.length, before);
  });

  it('when served over a real socket with a chunked body, then it arrives whole and keep-alive holds', async () => {
    await test.gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = test.gateway.app.server.address() as AddressInfo;
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/products',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
    });
    request.write('{"sku":');
    request.end('"TEA-1"}');
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    assert.equal(response.statusCode, 200);
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const seen = JSON.parse(Buffer.concat(chunks).toString()) as {
      body: string;
      headers: Record<string, string>;
    };
    assert.equal(response.headers.connection, 'keep-alive');
    assert.equal(seen.body, '{"sku":"TEA-1"}');
    assert.equal(seen.headers['transfer-encoding'], undefined);
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${port}`);
  });

  it('when an upstream answers 503 to a GET, then it is retried; a POST without Idempotency-Key is not', async () => {
    let calls = 0;
    inventory.handlers.set('/api/products/flaky', (_request, response) => {
      calls++;
      response.writeHead(calls % 2 === 1 ? 503 : 200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    assert.equal((await inject({ url: '/api/products/flaky' })).statusCode, 200);
    assert.equal(calls, 2);

    calls = 0;
    const post = await inject({ method: 'POST', url: '/api/products/flaky', payload: {} });
    assert.equal(post.statusCode, 503);
    assert.equal(calls, 1);

    calls = 0;
    const keyed = await inject({
      method: 'POST',
      url: '/api/products/flaky',
      headers: { 'idempotency-key': 'k-1' },
      payload: { a: 1 },
    });
    assert.equal(keyed.statusCode, 200);
    assert.equal(calls, 2);
    const [first, second] = inventory.receivedAt('/api/products/flaky').slice(-2);
    assert.deepEqual(second!.body, first!.body);
    inventory.handlers.delete('/api/products/flaky');
  });

  it('when a service is down, then 503 UPSTREAM_UNAVAILABLE with Retry-After, until the breaker half-opens', async () => {
    const response = await inject({ url: '/api/orders/o1' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(response.headers['retry-after'], '1');

    let open;
    for (let i = 0; i < 5 && open === undefined; i++) {
      const next = await inject({ url: '/api/orders/o1' });
      if (/circuit-open/.test(next.json().detail)) open = next;
    }
    assert.ok(open, 'the breaker opened');
    assert.equal(open.statusCode, 503);
    assert.equal(open.headers['retry-after'], '5');
  });

  it('when a service is slower than the route allows, then 504 UPSTREAM_TIMEOUT', async () => {
    inventory.handlers.set('/api/products/slow', (_request, response) => {
      setTimeout(() => response.end('{}'), 1000).unref();
    });
    await test.reconfigure({
      routes: [
        { prefix: '/api/products', service: 'inventory', methods: ['GET'], timeoutMs: 100, retries: 0 },
      ],
    });
    const started = Date.now();
    const response = await inject({ url: '/api/products/slow' });
    assert.equal(response.statusCode, 504);
    assert.equal(response.json().code, 'UPSTREAM_TIMEOUT');
    assert.ok(Date.now() - started < 900);
    inventory.handlers.delete('/api/products/slow');
    await test.reconfigure({ routes: DEFAULT_ROUTES });
  });

  it('when the route table changes in config, then new routes apply at once and invalid ones are refused', async () => {
    assert.equal((await inject({ url: '/api/catalog/1' })).statusCode, 404);
    await test.reconfigure({
      routes: [
        ...DEFAULT_ROUTES.filter((route) => route.prefix !== '/api/products'),
        { prefix: '/api/catalog', service: 'inventory', methods: ['GET'] },
      ],
    });
    const moved = await inject({ url: '/api/catalog/1' });
    assert.equal(moved.statusCode, 200);
    assert.equal(moved.json().url, '/api/catalog/1');
    assert.equal((await inject({ url: '/api/products/1' })).statusCode, 404);

    test.source.set({
      registry: { users: users.url, inventory: inventory.url },
      routes: [{ prefix: '/internal', service: 'inventory', methods: ['GET'] }],
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await inject({ url: '/api/catalog/1' })).statusCode, 200);
    assert.equal((await inject({ url: '/internal/x' })).statusCode, 404);
    await test.reconfigure({ routes: DEFAULT_ROUTES });
  });
});
