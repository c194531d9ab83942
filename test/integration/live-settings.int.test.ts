// Settings that are live from the config center: users' token lifetime and lockout, and orders' saga settings
// change on a running service, with no restart, and a change the schema refuses leaves the old values in force.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  MemoryConfigSource,
  createTestDatabase,
  testEnvironment,
  type TestDatabase,
} from '@souk/chassis/testing';
import { TEST_CARDS } from '@souk/contracts';
import { buildInventory } from '@souk/inventory';
import { buildOrders } from '@souk/orders';
import { buildPayments } from '@souk/payments';
import { buildUsers } from '@souk/users';
import { createProduct, identityHeader, registerCustomer } from './shop-data.ts';

type Built<T extends (...args: never[]) => unknown> = Awaited<ReturnType<T>>;

/** Resolves once `applied()` holds: the watch reloads asynchronously. */
async function until(applied: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!applied()) {
    assert.ok(Date.now() < deadline, `${what} was not applied within 2 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('live settings', () => {
  const databases: TestDatabase[] = [];
  const usersSource = new MemoryConfigSource({});
  let ordersSource: MemoryConfigSource;
  let ordersConfig: Record<string, unknown>;
  let users: Built<typeof buildUsers>;
  let inventory: Built<typeof buildInventory>;
  let payments: Built<typeof buildPayments>;
  let orders: Built<typeof buildOrders>;

  const database = async (label: string) => {
    const created = await createTestDatabase(label);
    databases.push(created);
    return created.url;
  };

  before(async () => {
    users = await buildUsers({
      env: { ...testEnvironment(await database('live_users')), SOUK__GRPC__PORT: '0' },
      configSource: usersSource,
    });
    await users.app.ready();
    inventory = await buildInventory({ env: testEnvironment(await database('live_inventory')) });
    payments = await buildPayments({
      env: { ...testEnvironment(await database('live_payments')), SOUK__PROCESSOR__TIMEOUT_MS: '200' },
    });
    const [inventoryUrl, paymentsUrl] = [await inventory.start(), await payments.start()];
    ordersConfig = {
      // The static registry's table as the supervisor writes it, users' gRPC address included.
      registry: {
        inventory: inventoryUrl,
        payments: paymentsUrl,
        users: { url: 'http://127.0.0.1:9', grpcUrl: `127.0.0.1:${users.grpcPort}` },
      },
      saga: { stepAttempts: 2, retryBaseMs: 10, chargeTimeoutMs: 2000 },
    };
    ordersSource = new MemoryConfigSource(ordersConfig);
    orders = await buildOrders({
      env: testEnvironment(await database('live_orders')),
      configSource: ordersSource,
    });
    await orders.start();
  });

  after(async () => {
    await orders?.stop();
    await payments?.stop();
    await inventory?.stop();
    await users?.stop();
    await Promise.all(databases.map((db) => db.drop()));
  });

  describe('users', () => {
    const password = 'a-long-password-1';
    const register = async () => {
      const email = `${randomUUID()}@example.com`;
      const response = await users.app.inject({
        method: 'POST',
        url: '/api/users',
        payload: { email, password, name: 'Live' },
      });
      assert.equal(response.statusCode, 201, response.body);
      return email;
    };
    const login = (email: string, secret = password) =>
      users.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: secret } });
    const lifetime = (accessToken: string) => {
      const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as {
        iat: number;
        exp: number;
      };
      return claims.exp - claims.iat;
    };

    it('when the token lifetime and the lockout change in the config center, then the next logins follow them', async () => {
      const email = await register();
      const before = await login(email);
      assert.equal(before.statusCode, 200, before.body);
      assert.equal(before.json<{ expiresIn: number }>().expiresIn, 900);

      usersSource.set({ tokens: { accessTtlSeconds: 120 }, lockout: { maxFailures: 2 } });
      await until(() => users.config.current.tokens.accessTtlSeconds === 120, 'tokens.accessTtlSeconds');

      const after = (await login(email)).json<{ expiresIn: number; accessToken: string }>();
      assert.equal(after.expiresIn, 120);
      assert.equal(lifetime(after.accessToken), 120);

      // Two failures now lock the account (ten did before), even against the right password.
      const guessed = await register();
      assert.equal((await login(guessed, 'wrong-password-1')).statusCode, 401);
      assert.equal((await login(guessed, 'wrong-password-2')).statusCode, 401);
      const locked = await login(guessed);
      assert.equal(locked.statusCode, 429, locked.body);
      assert.ok(Number(locked.headers['retry-after']) > 0);
    });
  });

  describe('orders', () => {
    let customer: string;

    before(async () => {
      customer = await registerCustomer(users);
    });

    /** An order whose card never answers: each charge attempt times out, so it ends CANCELLED, its reason counting them. */
    const cancelledReason = async () => {
      const headers = identityHeader(orders, customer);
      const placed = await orders.app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: { ...headers, 'idempotency-key': randomUUID() },
        payload: {
          items: [{ productId: await createProduct(inventory, 5, 900), quantity: 1 }],
          payment: { card: TEST_CARDS.hangs },
        },
      });
      assert.equal(placed.statusCode, 202, placed.body);
      const deadline = Date.now() + 15_000;
      for (;;) {
        const order = (
          await orders.app.inject({ url: `/api/orders/${placed.json<{ id: string }>().id}`, headers })
        ).json<{ status: string; reason?: string }>();
        if (order.status !== 'PENDING') {
          assert.equal(order.status, 'CANCELLED');
          return order.reason ?? '';
        }
        assert.ok(Date.now() < deadline, 'the order is still PENDING');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };

    const refusals = async () => {
      const metrics = (await orders.app.inject({ url: '/metrics' })).body;
      return Number(/config_reloads_total\{result="refused"\} (\d+)/.exec(metrics)?.[1] ?? 'NaN');
    };

    it('when the step attempts change in the config center, then the next saga spends the new budget, with no restart', async () => {
      assert.match(await cancelledReason(), /charge-payment failed after 2 attempts/);

      ordersSource.set({
        ...ordersConfig,
        saga: { stepAttempts: 3, retryBaseMs: 10, chargeTimeoutMs: 2000 },
      });
      await until(() => orders.config.current.saga.stepAttempts === 3, 'saga.stepAttempts');

      assert.match(await cancelledReason(), /charge-payment failed after 3 attempts/);
    });

    it('when a saga change breaks the rule that the lease outlasts every step, then it is refused and the old settings stay', async () => {
      const refusedBefore = await refusals();
      ordersSource.set({ ...ordersConfig, saga: { stepAttempts: 1, leaseMs: 1500, chargeTimeoutMs: 2000 } });
      const deadline = Date.now() + 2000;
      while ((await refusals()) === refusedBefore) {
        assert.ok(Date.now() < deadline, 'the change was not refused within 2 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(orders.config.current.saga.stepAttempts, 3);
      assert.equal(orders.config.current.saga.leaseMs, 30_000);
    });
  });
});
