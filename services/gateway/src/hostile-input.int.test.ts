import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MALFORMED_REQUESTS, exchangeRaw } from '@souk/chassis/testing';
import { FakeUpstream, startGateway, type TestGateway } from './test-fixtures/fake-upstreams.ts';

/** Sends raw bytes on a new connection and resolves with everything the gateway wrote back before closing. */
describe('the gateway facing hostile input', () => {
  let users: FakeUpstream;
  let inventory: FakeUpstream;
  let test: TestGateway;
  let base: string;
  let port: number;

  before(async () => {
    users = await FakeUpstream.start();
    inventory = await FakeUpstream.start();
    test = await startGateway(
      { users: users.url, inventory: inventory.url },
      { rateLimit: { loginMax: 2, registerMax: 3 } },
    );
    base = await test.gateway.app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(base).port);
  });

  after(async () => {
    await test.close();
    await Promise.all([users.close(), inventory.close()]);
  });

  const call = (method: string, url: string, ip: string) =>
    test.gateway.app.inject({ method: method as 'POST', url, remoteAddress: ip });

  it('when a login path percent-encodes its letters, then it counts in the login bucket and goes upstream as /api/auth/login', async () => {
    const ip = '198.51.100.71';
    assert.equal((await call('POST', '/api/auth/%6cogin', ip)).statusCode, 200);
    assert.equal((await call('POST', '/api/auth/logi%6E', ip)).statusCode, 200);
    const refused = await call('POST', '/api/auth/%6C%6fgin', ip);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['x-ratelimit-limit'], '2');
    assert.equal(users.receivedAt('/api/auth/login').length, 2);
    assert.equal(users.receivedAt('/api/auth/%6cogin').length, 0);
  });

  it('when registrations come in a burst from one IP, then past the limit 429 with Retry-After, problem+json', async () => {
    const ip = '198.51.100.72';
    for (let i = 0; i < 3; i++) assert.equal((await call('POST', '/api/users', ip)).statusCode, 200);
    const refused = await call('POST', '/api/u%73ers', ip);
    assert.equal(refused.statusCode, 429);
    assert.match(refused.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(refused.json().code, 'RATE_LIMITED');
    assert.match(refused.headers['retry-after'] as string, /^\d+$/);
    assert.equal((await call('GET', '/api/users/me', ip)).statusCode, 200);
    assert.equal((await call('POST', '/api/users', '198.51.100.73')).statusCode, 200);
  });

  it('when a request repeats Idempotency-Key, then 400 IDEMPOTENCY_KEY_INVALID and nothing is proxied', async () => {
    const before = users.received.length;
    const answer = await exchangeRaw(
      port,
      'POST /api/users HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\n' +
        'idempotency-key: a\r\nIdempotency-Key: b\r\ncontent-length: 2\r\n\r\n{}',
    );
    assert.equal(answer.status, 400);
    assert.equal(answer.body.code, 'IDEMPOTENCY_KEY_INVALID');
    assert.match(String(answer.body.detail), /one Idempotency-Key/);
    assert.equal(users.received.length, before);
  });

  it('when a 20 MB body is sent with fetch five times in a row, then each answer is 413 problem+json', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${base}/api/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(20 * 1024 * 1024, 0x20),
      });
      assert.equal(response.status, 413);
      assert.equal(((await response.json()) as { code: string }).code, 'BODY_TOO_LARGE');
    }
  });

  it('when a client keeps sending a too-large body after the 413, then the gateway reads it all before closing', async () => {
    const body = Buffer.alloc(20 * 1024 * 1024, 0x20);
    const answer = await exchangeRaw(
      port,
      Buffer.concat([
        Buffer.from(`POST /api/products HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n`),
        Buffer.from(`content-length: ${body.length}\r\n\r\n`),
        body,
      ]),
    );
    assert.equal(answer.status, 413);
    assert.match(answer.head, /connection: close/);
  });

  for (const [name, request, status, code] of MALFORMED_REQUESTS) {
    it(`when a request has ${name}, then ${status} problem+json ${code}`, async () => {
      const answer = await exchangeRaw(port, request);
      assert.equal(answer.status, status);
      assert.match(answer.head, /content-type: application\/problem\+json/);
      assert.equal(answer.body.code, code);
      assert.equal(answer.body.status, status);
    });
  }
});
