// Who may order: orders asks the real users service over gRPC at placement, on throwaway databases.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { buildOrders } from '@souk/orders';
import { buildUsers } from '@souk/users';
import { placeOrderAs, registerCustomer } from './shop-data.ts';

type Built<T extends (...args: never[]) => unknown> = Awaited<ReturnType<T>>;

describe('placing an order asks users whether the account may order', () => {
  const databases: TestDatabase[] = [];
  let users: Built<typeof buildUsers>;
  let orders: Built<typeof buildOrders>;

  before(async () => {
    for (const label of ['accounts_users', 'accounts_orders'])
      databases.push(await createTestDatabase(label));
    users = await buildUsers({ env: { ...testEnvironment(databases[0]!.url), SOUK__GRPC__PORT: '0' } });
    await users.app.ready();
    orders = await buildOrders({
      env: {
        ...testEnvironment(databases[1]!.url),
        // Nothing listens there: a placement that got past the account check would fail on prices.
        SOUK__REGISTRY: JSON.stringify({ inventory: 'http://127.0.0.1:9', payments: 'http://127.0.0.1:9' }),
        SOUK__USERS__GRPC_URL: `127.0.0.1:${users.grpcPort}`,
        SOUK__USERS__DEADLINE_MS: '1000',
      },
    });
    await orders.app.ready();
  });

  after(async () => {
    await orders?.stop();
    await users?.stop();
    await Promise.all(databases.map((db) => db.drop()));
  });

  // Any product will do: a placement that got past the account check would fail on prices (see above).
  const place = (userId: string) => placeOrderAs(orders, userId, randomUUID());

  const register = () => registerCustomer(users);

  it('when a disabled account places an order, then 403 ACCOUNT_DISABLED and no order', async () => {
    const id = await register();
    await users.db.query('UPDATE users SET disabled = true WHERE id = $1', [id]);
    const refused = await place(id);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(refused.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(refused.json().code, 'ACCOUNT_DISABLED');
    const { rows } = await orders.db.query(`SELECT 1 FROM orders_view WHERE user_id = $1`, [id]);
    assert.equal(rows.length, 0);
  });

  it('when an account users does not know places an order, then 403 ACCOUNT_NOT_FOUND', async () => {
    const refused = await place(randomUUID());
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal(refused.json().code, 'ACCOUNT_NOT_FOUND');
  });

  // Last: users is stopped.
  it('when users is down, then 503 DEPENDENCY_UNAVAILABLE with Retry-After, within the deadline', async () => {
    const id = await register();
    await users.stop();
    const started = Date.now();
    const refused = await place(id);
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json().code, 'DEPENDENCY_UNAVAILABLE');
    assert.match(refused.json().detail, /unreachable|timeout/);
    assert.equal(refused.headers['retry-after'], '1');
    assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
  });
});
