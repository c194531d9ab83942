// The users, auth and products rows of the API contract (docs/api.md), through the gateway of a running shop.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { localPort } from '@souk/supervisor/topology';
import { ADMIN, PORT_OFFSET, assertProblem, type RunningShop } from './shop.fixture.ts';

export function contractSuite(running: () => RunningShop): void {
  let shop: RunningShop;
  let customer: { id: string; token: string; refreshToken: string };
  let adminToken: string;
  const email = `ada.${Date.now()}@example.com`;

  before(() => {
    shop = running();
  });

  describe('users and auth', () => {
    it('when someone registers, then 201 with the profile', async () => {
      const response = await shop.api('POST', '/api/users', {
        body: { email, password: 'lovelace-1815', name: 'Ada' },
      });
      assert.equal(response.status, 201);
      assert.deepEqual(Object.keys(response.body).sort(), ['email', 'id', 'name', 'role']);
      assert.equal(response.body.role, 'customer');
      customer = { id: response.body.id, token: '', refreshToken: '' };
    });

    it('when the email is taken, compared case-insensitively, then 409', async () => {
      const response = await shop.api('POST', '/api/users', {
        body: { email: email.toUpperCase(), password: 'another-password', name: 'Imposter' },
      });
      assertProblem(response, 409);
    });

    it('when the body tries to set a role, then 400', async () => {
      const response = await shop.api('POST', '/api/users', {
        body: {
          email: `mallory.${Date.now()}@example.com`,
          password: 'mallory-password',
          name: 'M',
          role: 'admin',
        },
      });
      assertProblem(response, 400);
    });

    it('when the password is right, then 200 with a bearer token pair', async () => {
      const response = await shop.api('POST', '/api/auth/login', {
        body: { email, password: 'lovelace-1815' },
      });
      assert.equal(response.status, 200);
      assert.equal(response.body.tokenType, 'Bearer');
      assert.ok(response.body.expiresIn > 0);
      customer.token = response.body.accessToken;
      customer.refreshToken = response.body.refreshToken;
      const admin = await shop.api('POST', '/api/auth/login', { body: ADMIN });
      assert.equal(admin.status, 200);
      adminToken = admin.body.accessToken;
    });

    it('when the password is wrong or the user unknown, then the same 401', async () => {
      const wrong = await shop.api('POST', '/api/auth/login', {
        body: { email, password: 'not-the-password' },
      });
      const unknown = await shop.api('POST', '/api/auth/login', {
        body: { email: 'nobody@example.com', password: 'x' },
      });
      assertProblem(wrong, 401);
      assertProblem(unknown, 401);
      assert.equal(wrong.body.detail, unknown.body.detail);
    });

    it('when a refresh token is used, then a new pair comes back and the old one is refused', async () => {
      const rotated = await shop.api('POST', '/api/auth/refresh', {
        body: { refreshToken: customer.refreshToken },
      });
      assert.equal(rotated.status, 200);
      const replay = await shop.api('POST', '/api/auth/refresh', {
        body: { refreshToken: customer.refreshToken },
      });
      assertProblem(replay, 401);
    });

    it('me: 200 with a token, 401 without; PATCH renames but cannot change the role', async () => {
      const me = await shop.api('GET', '/api/users/me', { token: customer.token });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, customer.id);
      assertProblem(await shop.api('GET', '/api/users/me'), 401);
      const renamed = await shop.api('PATCH', '/api/users/me', {
        token: customer.token,
        body: { name: 'Countess' },
      });
      assert.equal(renamed.body.name, 'Countess');
      assertProblem(
        await shop.api('PATCH', '/api/users/me', { token: customer.token, body: { role: 'admin' } }),
        400,
      );
    });

    it("when a customer asks for another user's profile, then 404; an admin gets it", async () => {
      const other = await shop.api('POST', '/api/users', {
        body: { email: `grace.${Date.now()}@example.com`, password: 'hopper-1906', name: 'Grace' },
      });
      assertProblem(await shop.api('GET', `/api/users/${other.body.id}`, { token: customer.token }), 404);
      assert.equal(
        (await shop.api('GET', `/api/users/${customer.id}`, { token: customer.token })).status,
        200,
      );
      assert.equal((await shop.api('GET', `/api/users/${other.body.id}`, { token: adminToken })).status, 200);
    });

    it('when a token is unsigned (alg none) or tampered with, then 401', async () => {
      const [header, payload, signature] = customer.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.`;
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${signature}`;
      assertProblem(await shop.api('GET', '/api/users/me', { token: none }), 401);
      assertProblem(await shop.api('GET', '/api/users/me', { token: tampered }), 401);
      assertProblem(await shop.api('GET', '/api/users/me', { token: 'garbage' }), 401);
    });

    it('when a client sends its own identity header, then it is ignored', async () => {
      const forged = Buffer.from(
        JSON.stringify({ kind: 'user', sub: customer.id, role: 'admin', exp: 9e9 }),
      ).toString('base64url');
      const response = await shop.api('GET', '/api/users/me', {
        headers: { 'x-souk-identity': `${forged}.x`, 'x-user-id': customer.id },
      });
      assertProblem(response, 401);
    });

    it('the JWKS is public', async () => {
      const response = await shop.api('GET', '/.well-known/jwks.json');
      assert.equal(response.status, 200);
      assert.ok(response.body.keys.length >= 1);
      assert.equal(response.body.keys[0].d, undefined);
    });
  });

  describe('products', () => {
    it('when anyone lists products, then the demo catalog comes in pages that cover it once', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await shop.api(
          'GET',
          `/api/products?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 7);
        for (const product of page.body.items) {
          assert.equal(typeof product.price.amount, 'number');
          assert.match(product.price.currency, /^[A-Z]{3}$/);
          assert.equal(typeof product.stock.available, 'number');
          seen.push(product.id);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.ok(seen.length >= 15, `demo catalog has ${seen.length} products`);
      assert.equal(new Set(seen).size, seen.length, 'no product twice');
    });

    it('when a customer creates a product, then 403; an admin gets 201; anonymous gets 401', async () => {
      const product = {
        sku: `TEST-${Date.now()}`,
        name: 'Brass lantern',
        description: 'Hand-hammered.',
        price: { amount: 4500, currency: 'USD' },
        stock: 3,
      };
      assertProblem(await shop.api('POST', '/api/products', { token: customer.token, body: product }), 403);
      assertProblem(await shop.api('POST', '/api/products', { body: product }), 401);
      const created = await shop.api('POST', '/api/products', { token: adminToken, body: product });
      assert.equal(created.status, 201);
      assert.equal(created.body.stock.available, 3);
      const fetched = await shop.api('GET', `/api/products/${created.body.id}`);
      assert.equal(fetched.status, 200);
      assert.equal(fetched.body.name, 'Brass lantern');
      const restocked = await shop.api('POST', `/api/products/${created.body.id}/restock`, {
        token: adminToken,
        body: { quantity: 2 },
      });
      assert.equal(restocked.body.stock.available, 5);
      const search = await shop.api('GET', '/api/products?q=brass%20lantern');
      assert.ok(search.body.items.some((item: { id: string }) => item.id === created.body.id));
    });

    it('when a product is unknown, then 404', async () => {
      assertProblem(await shop.api('GET', '/api/products/00000000-0000-4000-8000-000000000000'), 404);
    });
  });

  describe('the edge', () => {
    it('when a body is over 1 MiB, then 413', async () => {
      const response = await shop.api('POST', '/api/users', {
        body: { email: 'big@example.com', password: 'x'.repeat(2 * 1024 * 1024), name: 'Big' },
      });
      assertProblem(response, 413);
    });

    it('when a body is not JSON, then 400', async () => {
      assertProblem(await shop.api('POST', '/api/users', { body: '{"email":' }), 400);
    });

    it('when an account fails to log in again and again, then 429 with Retry-After', async () => {
      const attempt = (n: number) =>
        shop.api('POST', '/api/auth/login', { body: { email, password: `guess-${n}` } });
      let response = await attempt(0);
      for (let n = 1; n <= 10 && response.status !== 429; n++) response = await attempt(n);
      assertProblem(response, 429);
      assert.ok(Number(response.headers.get('retry-after')) > 0);
    });

    it('internal endpoints are never routed', async () => {
      assertProblem(await shop.api('POST', '/internal/reservations', { body: {} }), 404);
    });

    it('every service answers health and metrics', async () => {
      for (const name of shop.processes.keys()) {
        const base = `http://127.0.0.1:${localPort(name, PORT_OFFSET)}`;
        assert.equal((await fetch(`${base}/health/live`)).status, 200, `${name} live`);
        assert.equal((await fetch(`${base}/health/ready`)).status, 200, `${name} ready`);
        assert.match(
          await (await fetch(`${base}/metrics`)).text(),
          /process_resident_memory_bytes/,
          `${name} metrics`,
        );
      }
    });

    it('docs/api.md lists exactly the public routes that the services publish in their OpenAPI documents', async () => {
      const published = new Set<string>();
      for (const name of shop.processes.keys()) {
        if (name === 'gateway') continue;
        const base = `http://127.0.0.1:${localPort(name, PORT_OFFSET)}`;
        const document = (await (await fetch(`${base}/docs/json`)).json()) as {
          paths: Record<string, Record<string, unknown>>;
        };
        for (const [route, operations] of Object.entries(document.paths)) {
          if (!/^\/(api|\.well-known)\//.test(route)) continue;
          for (const method of Object.keys(operations)) {
            if (method === 'head') continue;
            published.add(`${method.toUpperCase()} ${route.replaceAll(/\{(\w+)\}/g, ':$1')}`);
          }
        }
      }
      const contract = await readFile(new URL('../../docs/api.md', import.meta.url), 'utf8');
      const routesTable = contract
        .split('## Routes')[1]!
        .split('\n## ')[0]!
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .join('\n');
      const documented = new Set(
        [...routesTable.matchAll(/`(GET|POST|PATCH|PUT|DELETE) (\/[^`?\s]*)/g)].map(
          ([, method, route]) => `${method} ${route}`,
        ),
      );
      assert.ok(documented.size > 10, 'the routes table was read');
      assert.deepEqual([...published].sort(), [...documented].sort());
    });
  });
}
