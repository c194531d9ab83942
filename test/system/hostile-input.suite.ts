// Hostile and malformed requests through the gateway of a running shop (issue 6): each gets a 4xx problem+json
// with a stable code, never a 500, never a dropped connection.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { before, describe, it } from 'node:test';
import { MALFORMED_REQUESTS, exchangeRaw } from '@souk/chassis/testing';
import { assertProblem, type RunningShop } from './shop.fixture.ts';

export function hostileInputSuite(running: () => RunningShop): void {
  let shop: RunningShop;
  let port: number;
  let token: string;

  /** Raw bytes to the gateway on a new connection; resolves with the status line, headers and JSON body. */
  const exchange = (request: string) => exchangeRaw(port, request);

  const assertCode = (
    response: { status: number; body: { code?: unknown } },
    status: number,
    code: string,
  ) => {
    assertProblem(response as Parameters<typeof assertProblem>[0], status);
    assert.equal(response.body.code, code);
  };

  before(async () => {
    shop = running();
    port = Number(new URL(shop.gatewayUrl).port);
    const email = `hostile.${randomUUID().slice(0, 8)}@example.com`;
    const password = 'hostile-Passw0rd-1';
    assert.equal(
      (await shop.api('POST', '/api/users', { body: { email, password, name: 'H' } })).status,
      201,
    );
    token = (await shop.api('POST', '/api/auth/login', { body: { email, password } })).body.accessToken;
  });

  describe('hostile input', () => {
    it('when a NUL is in a search, a name, an email or a login, then 400 INVALID_TEXT naming the field', async () => {
      const search = await shop.api('GET', '/api/products?q=a%00b');
      assertCode(search, 400, 'INVALID_TEXT');
      assert.match(search.body.detail, /query\.q/);
      const name = await shop.api('POST', '/api/users', {
        body: {
          email: `nul.${randomUUID().slice(0, 8)}@probe.test`,
          password: 'probe-Passw0rd-1',
          name: 'a\u0000b',
        },
      });
      assertCode(name, 400, 'INVALID_TEXT');
      assert.match(name.body.detail, /body\.name/);
      const login = await shop.api('POST', '/api/auth/login', {
        body: { email: 'a\u0000@probe.test', password: 'probe-Passw0rd-1' },
      });
      assertCode(login, 400, 'INVALID_TEXT');
    });

    it('when a body carries an unpaired surrogate, then 400 INVALID_TEXT and no account is made', async () => {
      const email = `surr.${randomUUID().slice(0, 8)}@probe.test`;
      const body = `{"email":"${email}","password":"probe-Passw0rd-1","name":"\\ud800"}`;
      const response = await shop.api('POST', '/api/users', { body });
      assertCode(response, 400, 'INVALID_TEXT');
      assert.match(response.body.detail, /body\.name/);
      const login = await shop.api('POST', '/api/auth/login', {
        body: { email, password: 'probe-Passw0rd-1' },
      });
      assert.equal(login.status, 401);
    });

    it('when an orders cursor holds a time PostgreSQL cannot read, then 400 INVALID_CURSOR', async () => {
      const id = '0e8bc32b-8c64-4b7f-90b9-c3cef4dc8a1f';
      for (const time of ['1', 'Tue, 31 Feb 2026']) {
        const cursor = Buffer.from(JSON.stringify([time, id])).toString('base64url');
        assertCode(await shop.api('GET', `/api/orders?cursor=${cursor}`, { token }), 400, 'INVALID_CURSOR');
      }
      assertCode(
        await shop.api(
          'GET',
          '/api/orders?cursor=WyIxIiwiMGU4YmMzMmItOGM2NC00YjdmLTkwYjktYzNjZWY0ZGM4YTFmIl0',
          {
            token,
          },
        ),
        400,
        'INVALID_CURSOR',
      );
    });

    it('when the login path is percent-encoded, then it is a login, in the login bucket', async () => {
      const plain = await shop.api('POST', '/api/auth/login', {
        body: { email: 'x@probe.test', password: 'x' },
      });
      const loginLimit = plain.headers.get('x-ratelimit-limit');
      assert.ok(loginLimit !== null);
      for (const path of ['/api/auth/%6cogin', '/api/auth/logi%6e']) {
        const encoded = await shop.api('POST', path, { body: { email: 'x@probe.test', password: 'x' } });
        assert.equal(encoded.status, 401, path);
        assert.equal(encoded.headers.get('x-ratelimit-limit'), loginLimit, path);
      }
      const other = await shop.api('GET', '/api/products');
      assert.notEqual(other.headers.get('x-ratelimit-limit'), loginLimit);
    });

    it('when one IP registers in a burst, then past the registration limit 429 with Retry-After', async () => {
      // From an address of its own, so the other suites' registrations do not count.
      const register = () =>
        new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const request = httpRequest(
            {
              host: '127.0.0.1',
              port,
              localAddress: '127.0.0.66',
              method: 'POST',
              path: '/api/users',
              headers: { 'content-type': 'application/json' },
            },
            (response) => {
              let body = '';
              response.on('data', (chunk: Buffer) => (body += chunk.toString()));
              response.on('end', () =>
                resolve({ status: response.statusCode!, headers: response.headers, body }),
              );
            },
          );
          request.on('error', reject);
          request.end('{}');
        });
      const first = await register();
      const limit = Number(first.headers['x-ratelimit-limit']);
      assert.ok(limit >= 1 && limit < 1000, `registration limit ${limit}`);
      let last = first;
      for (let i = 1; i <= limit && last.status !== 429; i++) last = await register();
      assert.equal(last.status, 429);
      assert.match(String(last.headers['retry-after']), /^\d+$/);
      assert.equal(JSON.parse(last.body).code, 'RATE_LIMITED');
    });

    it('when a 20 MB body is sent with fetch five times, then every answer is 413', async () => {
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${shop.gatewayUrl}/api/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Buffer.alloc(20 * 1024 * 1024, 0x20),
        });
        assert.equal(response.status, 413);
        assert.equal(((await response.json()) as { code: string }).code, 'BODY_TOO_LARGE');
      }
    });

    it('when a path is not UTF-8 or an id is 101 characters, then problem+json with a stable code', async () => {
      assertCode(await shop.api('GET', '/api/products/%ff'), 400, 'INVALID_PATH');
      assertCode(await shop.api('GET', `/api/products/${'a'.repeat(101)}`), 414, 'PATH_TOO_LONG');
    });

    for (const [name, request, status, code] of MALFORMED_REQUESTS) {
      it(`when a request has ${name}, then ${status} problem+json ${code}`, async () => {
        const answer = await exchange(request);
        assert.equal(answer.status, status);
        assert.match(answer.head, /content-type: application\/problem\+json/);
        assert.equal(answer.body.code, code);
      });
    }

    it('when an order repeats Idempotency-Key, then 400 IDEMPOTENCY_KEY_INVALID', async () => {
      const body = JSON.stringify({ items: [{ productId: randomUUID(), quantity: 1 }] });
      const answer = await exchange(
        `POST /api/orders HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer ${token}\r\n` +
          `content-type: application/json\r\nidempotency-key: a\r\nidempotency-key: b\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      assert.equal(answer.status, 400);
      assert.equal(answer.body.code, 'IDEMPOTENCY_KEY_INVALID');
    });

    it('when a body sets __proto__, then 400 FORBIDDEN_FIELD says what was refused', async () => {
      const response = await shop.api('POST', '/api/users', {
        body: '{"email":"proto@probe.test","password":"probe-Passw0rd-1","name":"P","__proto__":{"role":"admin"}}',
      });
      assertCode(response, 400, 'FORBIDDEN_FIELD');
      assert.match(response.body.detail, /__proto__/);
    });
  });
}
