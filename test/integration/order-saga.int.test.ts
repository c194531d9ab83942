// The order saga against the real users, inventory and payments services, in-process on throwaway databases.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { TEST_CARDS } from '@souk/contracts';
import { buildInventory } from '@souk/inventory';
import { buildOrders } from '@souk/orders';
import { buildPayments } from '@souk/payments';
import { buildUsers } from '@souk/users';
import { createProduct as createProductIn, identityHeader, registerCustomer } from './shop-data.ts';

type Built<T extends (...args: never[]) => unknown> = Awaited<ReturnType<T>>;

describe('the order saga with real participants', () => {
  const databases: TestDatabase[] = [];
  let users: Built<typeof buildUsers>;
  let inventory: Built<typeof buildInventory>;
  let payments: Built<typeof buildPayments>;
  let orders: Built<typeof buildOrders>;
  let ordersEnv: NodeJS.ProcessEnv;
  let userId: string;
  const newCustomer = () => registerCustomer(users);

  const as = (sub: string, role: 'customer' | 'admin' = 'customer') => identityHeader(orders, sub, role);

  const database = async (label: string) => {
    const created = await createTestDatabase(label);
    databases.push(created);
    return created.url;
  };

  before(async () => {
    users = await buildUsers({
      env: { ...testEnvironment(await database('saga_users')), SOUK__GRPC__PORT: '0' },
    });
    await users.app.ready();
    userId = await newCustomer();
    inventory = await buildInventory({ env: testEnvironment(await database('saga_inventory')) });
    payments = await buildPayments({
      env: { ...testEnvironment(await database('saga_payments')), SOUK__PROCESSOR__TIMEOUT_MS: '300' },
    });
    const [inventoryUrl, paymentsUrl] = [await inventory.start(), await payments.start()];
    ordersEnv = {
      ...testEnvironment(await database('saga_orders')),
      SOUK__REGISTRY: JSON.stringify({ inventory: inventoryUrl, payments: paymentsUrl }),
      SOUK__USERS__GRPC_URL: `127.0.0.1:${users.grpcPort}`,
      SOUK__SAGA__STEP_ATTEMPTS: '2',
      SOUK__SAGA__RETRY_BASE_MS: '10',
      SOUK__SAGA__CHARGE_TIMEOUT_MS: '2000',
      SOUK__IDEMPOTENCY__LEASE_MS: '1000',
    };
    orders = await buildOrders({ env: ordersEnv });
    await orders.start();
  });

  after(async () => {
    await orders?.stop();
    await payments?.stop();
    await inventory?.stop();
    await users?.stop();
    await Promise.all(databases.map((db) => db.drop()));
  });

  const createProduct = (stock: number, amount?: number) => createProductIn(inventory, stock, amount);
  const available = async (productId: string) =>
    (await inventory.app.inject({ url: `/api/products/${productId}` })).json<{
      stock: { available: number };
    }>().stock.available;

  const placeOrder = (body: unknown, key: string = randomUUID(), user = userId) =>
    orders.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...as(user), 'idempotency-key': key },
      payload: body as object,
    });

  const settled = async (orderId: string, user = userId) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const order = (await orders.app.inject({ url: `/api/orders/${orderId}`, headers: as(user) })).json();
      if (order.status !== 'PENDING') return order;
      assert.ok(Date.now() < deadline, `order ${orderId} still PENDING`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const paymentsOf = async (orderId: string, user = userId) =>
    (
      await payments.app.inject({
        url: `/api/payments?orderId=${orderId}`,
        headers: identityHeader(payments, user),
      })
    ).json<{ items: { status: string; amount: { amount: number } }[] }>().items;

  it('when the card approves, then the order is CONFIRMED, charged once and the stock taken', async () => {
    const productId = await createProduct(5);
    const response = await placeOrder({
      items: [{ productId, quantity: 2 }],
      payment: { card: TEST_CARDS.approves },
    });
    assert.equal(response.statusCode, 202, response.body);
    assert.equal(response.json().status, 'PENDING');
    assert.equal(response.headers.location, `/api/orders/${response.json().id}`);
    const order = await settled(response.json().id);
    assert.equal(order.status, 'CONFIRMED');
    assert.deepEqual(order.total, { amount: 2500, currency: 'USD' });
    assert.deepEqual(order.items, [{ productId, quantity: 2, unitPrice: { amount: 1250, currency: 'USD' } }]);
    assert.equal(await available(productId), 3);
    const charges = await paymentsOf(order.id);
    assert.deepEqual(
      charges.map((p) => [p.status, p.amount.amount]),
      [['SUCCEEDED', 2500]],
    );
  });

  it('when a request carries a traceparent, then the events it causes, in orders and in payments, carry its trace id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const productId = await createProduct(2);
    const response = await orders.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: {
        ...as(userId),
        'idempotency-key': randomUUID(),
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      payload: { items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } },
    });
    const order = await settled(response.json().id);
    assert.equal(order.status, 'CONFIRMED');
    const tracesOf = async (db: typeof orders.db, subject: string) =>
      (
        await db.query<{ type: string; traceparent: string }>(
          `SELECT type, envelope->>'traceparent' AS traceparent FROM outbox WHERE envelope->>'subject' = $1`,
          [subject],
        )
      ).rows;
    const events = [...(await tracesOf(orders.db, order.id)), ...(await tracesOf(payments.db, order.id))];
    assert.deepEqual(events.map((e) => e.type).sort(), [
      'order.confirmed',
      'order.created',
      'payment.succeeded',
    ]);
    for (const event of events) assert.equal(event.traceparent.split('-')[1], traceId, event.type);
  });

  it('when the card is declined, then CANCELLED with the reason and the stock back', async () => {
    const productId = await createProduct(5);
    const response = await placeOrder({
      items: [{ productId, quantity: 1 }],
      payment: { card: TEST_CARDS.declines },
    });
    const order = await settled(response.json().id);
    assert.equal(order.status, 'CANCELLED');
    assert.equal(order.reason, 'payment declined');
    assert.equal(await available(productId), 5);
    const timeline = (
      await orders.app.inject({ url: `/api/orders/${order.id}/timeline`, headers: as(userId) })
    ).json();
    assert.deepEqual(
      timeline.items.map((e: { name: string; status?: string }) => [e.name, e.status ?? 'event']),
      [
        ['OrderPlaced', 'event'],
        ['reserve-stock', 'SUCCEEDED'],
        ['charge-payment', 'FAILED'],
        ['undo reserve-stock', 'SUCCEEDED'],
        ['OrderCancelled', 'event'],
      ],
    );
    const gantt = await orders.app.inject({
      url: `/api/orders/${order.id}/timeline?format=mermaid`,
      headers: as(userId),
    });
    assert.match(gantt.headers['content-type'] as string, /text\/plain/);
    assert.match(gantt.body, /charge-payment :crit/);
    assert.equal(
      (await orders.app.inject({ url: `/api/orders/${order.id}/timeline`, headers: as(randomUUID()) }))
        .statusCode,
      404,
    );
    assert.deepEqual(
      (await paymentsOf(order.id)).map((p) => p.status),
      ['FAILED'],
    );
  });

  it('when orders are placed with cards that approve, decline or hang, then no row of any orders table holds the card number, while the sagas run or after', async () => {
    const productId = await createProduct(5);
    const cards = [TEST_CARDS.approves, TEST_CARDS.declines, TEST_CARDS.hangs];
    const ids: string[] = [];
    for (const card of cards) {
      const response = await placeOrder({ items: [{ productId, quantity: 1 }], payment: { card } });
      assert.equal(response.statusCode, 202, response.body);
      ids.push(response.json<{ id: string }>().id);
    }
    const rowsHoldingACard = async () => {
      const { rows: tables } = await orders.db.query<{ name: string }>(
        `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name
         FROM information_schema.tables
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      );
      assert.ok(tables.length >= 6, tables.map((t) => t.name).join());
      const found: string[] = [];
      for (const { name } of tables) {
        const { rows } = await orders.db.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
        for (const { row } of rows)
          if (cards.some((card) => row.includes(card))) found.push(`${name}: ${row}`);
      }
      return found;
    };
    assert.deepEqual(await rowsHoldingACard(), [], 'while the sagas run');
    const [approved, declined, hung] = [
      await settled(ids[0]!),
      await settled(ids[1]!),
      await settled(ids[2]!),
    ];
    assert.equal(approved.status, 'CONFIRMED');
    assert.equal(declined.status, 'CANCELLED');
    assert.equal(declined.reason, 'payment declined');
    assert.equal(hung.status, 'CANCELLED');
    assert.deepEqual(await rowsHoldingACard(), [], 'after the sagas ended');
    const { rows } = await orders.db.query<{ state: Record<string, unknown> }>(
      'SELECT state FROM saga_instances WHERE id = $1',
      [approved.id],
    );
    assert.equal(rows[0]?.state.cardLast4, '4242');
    assert.match(String(rows[0]?.state.cardToken), /^card_[0-9a-f]{32}$/);
  });

  it('when there is not enough stock, then CANCELLED and nobody is charged', async () => {
    const productId = await createProduct(1);
    const order = await settled(
      (
        await placeOrder({ items: [{ productId, quantity: 2 }], payment: { card: TEST_CARDS.approves } })
      ).json().id,
    );
    assert.equal(order.status, 'CANCELLED');
    assert.equal(order.reason, 'insufficient stock');
    assert.equal(await available(productId), 1);
    assert.deepEqual(await paymentsOf(order.id), []);
  });

  it('when the processor never answers, then the saga gives up, refunds nothing it did not take, and releases the stock', async () => {
    const productId = await createProduct(3);
    const order = await settled(
      (await placeOrder({ items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.hangs } })).json()
        .id,
    );
    assert.equal(order.status, 'CANCELLED');
    assert.match(order.reason, /charge-payment failed after 2 attempts/);
    assert.equal(await available(productId), 3);
    // Both attempts asked under one key: one payment, never settled, so not listed to the customer.
    assert.deepEqual(await paymentsOf(order.id), []);
    const { rows } = await payments.db.query<{ status: string }>(
      'SELECT status FROM payments WHERE order_id = $1',
      [order.id],
    );
    assert.deepEqual(rows, [{ status: 'PENDING' }]);
  });

  it('when an orders instance stops mid-saga, then another instance takes the saga over and the order is CONFIRMED, charged once', async () => {
    const leaving = await buildOrders({ env: ordersEnv });
    await leaving.start();
    const productId = await createProduct(3);
    const response = await leaving.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: { ...as(userId), 'idempotency-key': randomUUID() },
      payload: { items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } },
    });
    assert.equal(response.statusCode, 202, response.body);
    await leaving.stop();
    const order = await settled(response.json().id);
    assert.equal(order.status, 'CONFIRMED', order.reason);
    assert.equal(await available(productId), 2);
    assert.deepEqual(
      (await paymentsOf(order.id)).map((p) => [p.status, p.amount.amount]),
      [['SUCCEEDED', 1250]],
    );
  });

  it('when a confirmed order is cancelled, then it is refunded and restocked; cancelling again is 409', async () => {
    const productId = await createProduct(4);
    const { id } = (
      await placeOrder({ items: [{ productId, quantity: 3 }], payment: { card: TEST_CARDS.approves } })
    ).json();
    assert.equal((await settled(id)).status, 'CONFIRMED');
    const cancelled = await orders.app.inject({
      method: 'POST',
      url: `/api/orders/${id}/cancel`,
      headers: as(userId),
    });
    assert.equal(cancelled.statusCode, 202);
    const deadline = Date.now() + 10_000;
    let order;
    do {
      order = (await orders.app.inject({ url: `/api/orders/${id}`, headers: as(userId) })).json();
      if (order.status === 'CANCELLED') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    } while (Date.now() < deadline);
    assert.equal(order.status, 'CANCELLED');
    assert.equal(await available(productId), 4);
    assert.deepEqual(
      (await paymentsOf(id)).map((p) => p.status),
      ['REFUNDED'],
    );
    const again = await orders.app.inject({
      method: 'POST',
      url: `/api/orders/${id}/cancel`,
      headers: as(userId),
    });
    assert.equal(again.statusCode, 409);
  });

  it('Idempotency-Key: missing is 400; the same key concurrently makes one order; another body is 422', async () => {
    const productId = await createProduct(10);
    const body = { items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } };
    const missing = await orders.app.inject({
      method: 'POST',
      url: '/api/orders',
      headers: as(userId),
      payload: body,
    });
    assert.equal(missing.statusCode, 400);
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 12 }, () => placeOrder(body, key)));
    const accepted = answers.filter((a) => a.statusCode === 202);
    assert.ok(accepted.length >= 1);
    assert.ok(
      answers.every((a) => a.statusCode === 202 || a.statusCode === 409),
      answers.map((a) => a.statusCode).join(),
    );
    assert.equal(new Set(accepted.map((a) => a.json().id)).size, 1, 'one order');
    const id = accepted[0]!.json().id;
    await settled(id);
    const replay = await placeOrder(body, key);
    assert.equal(replay.statusCode, 202);
    assert.equal(replay.json().id, id);
    assert.equal((await placeOrder({ ...body, items: [{ productId, quantity: 2 }] }, key)).statusCode, 422);
    assert.equal(await available(productId), 9, 'one reservation');
    assert.equal((await paymentsOf(id)).length, 1, 'one charge');
    // Keys are scoped per user: the same key from someone else is a new request.
    const other = await newCustomer();
    const theirs = await placeOrder(body, key, other);
    assert.equal(theirs.statusCode, 202);
    assert.notEqual(theirs.json().id, id);
  });

  it('when a retry resumes a key whose lease ran out while the first attempt still waits for prices, then one order and one saga between them', async () => {
    const productId = await createProduct(5);
    const user = await newCustomer();
    const body = { items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } };
    const key = randomUUID();
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Inventory stalls: the price lookups wait on this lock, the first one beyond its key's lease (1 s).
    const stall = await inventory.db.connect();
    let attempts: ReturnType<typeof placeOrder>[];
    try {
      await stall.query('BEGIN');
      await stall.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
      const first = placeOrder(body, key, user);
      await sleep(1300);
      attempts = [first, placeOrder(body, key, user)];
      await sleep(200);
    } finally {
      await stall.query('ROLLBACK');
      stall.release();
    }
    const answers = await Promise.all(attempts);
    assert.ok(
      answers.every((a) => a.statusCode === 202 || a.statusCode === 409),
      answers.map((a) => `${a.statusCode} ${a.body}`).join('; '),
    );
    const accepted = answers.filter((a) => a.statusCode === 202).map((a) => a.json<{ id: string }>().id);
    assert.ok(accepted.length >= 1, 'one attempt is accepted');
    assert.equal(new Set(accepted).size, 1, 'both accepted attempts name the same order');
    const listed = (await orders.app.inject({ url: '/api/orders', headers: as(user) })).json<{
      items: { id: string }[];
    }>().items;
    assert.deepEqual(
      listed.map((order) => order.id),
      [accepted[0]],
    );
    const { rows: sagas } = await orders.db.query(
      `SELECT id FROM saga_instances WHERE type = 'place-order' AND state->>'userId' = $1`,
      [user],
    );
    assert.equal(sagas.length, 1, 'one saga');
    assert.equal((await settled(accepted[0]!, user)).status, 'CONFIRMED');
    assert.equal((await paymentsOf(accepted[0]!, user)).length, 1, 'one charge');
    assert.equal(await available(productId), 4);
  });

  it('when the input is wrong, then 4xx with a clear problem and nothing is created', async () => {
    const productId = await createProduct(1);
    const bad = async (payload: unknown) => (await placeOrder(payload)).statusCode;
    assert.equal(await bad({ items: [], payment: { card: TEST_CARDS.approves } }), 400);
    assert.equal(
      await bad({ items: [{ productId, quantity: 0 }], payment: { card: TEST_CARDS.approves } }),
      400,
    );
    assert.equal(
      await bad({ items: [{ productId, quantity: 1 }], payment: { card: '4242424242424241' } }),
      400,
    );
    assert.equal(
      await bad({ items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves }, total: 1 }),
      400,
    );
    const unknown = await placeOrder({
      items: [{ productId: randomUUID(), quantity: 1 }],
      payment: { card: TEST_CARDS.approves },
    });
    assert.equal(unknown.statusCode, 422);
    assert.equal(unknown.json().code, 'UNKNOWN_PRODUCT');
    assert.equal(await available(productId), 1);
  });

  it('when an anonymous caller reads an order, even by a malformed id, then 401 before any 400 or 404', async () => {
    for (const id of ['not-a-uuid', randomUUID()]) {
      const response = await orders.app.inject({ url: `/api/orders/${id}` });
      assert.equal(response.statusCode, 401, id);
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    }
  });

  it("orders are private: another user's order is 404, and each lists only their own", async () => {
    const productId = await createProduct(2);
    const mine = (
      await placeOrder({ items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } })
    ).json().id;
    const stranger = randomUUID();
    assert.equal(
      (await orders.app.inject({ url: `/api/orders/${mine}`, headers: as(stranger) })).statusCode,
      404,
    );
    assert.equal(
      (await orders.app.inject({ method: 'POST', url: `/api/orders/${mine}/cancel`, headers: as(stranger) }))
        .statusCode,
      404,
    );
    assert.equal(
      (await orders.app.inject({ url: `/api/orders/${mine}`, headers: as(stranger, 'admin') })).statusCode,
      200,
    );
    const listed = (await orders.app.inject({ url: '/api/orders', headers: as(userId) })).json();
    assert.ok(listed.items.some((o: { id: string }) => o.id === mine));
    assert.deepEqual(
      (await orders.app.inject({ url: '/api/orders', headers: as(stranger) })).json().items,
      [],
    );
    await settled(mine);
  });

  it('the read model of every order equals a replay of its events', async () => {
    await orders.sagas.idle();
    const { rows } = await orders.db.query<{
      id: string;
      status: string;
      items: unknown;
      total: unknown;
      reason: string | null;
      version: number;
    }>('SELECT id, status, items, total, reason, version FROM orders_view');
    assert.ok(rows.length >= 8);
    const { readEvents } = await import('../../services/orders/src/data/order.repository.ts');
    const { replay } = await import('../../services/orders/src/domain/order.ts');
    for (const row of rows) {
      const replayed = replay(await readEvents(orders.db, row.id))!;
      assert.deepEqual(
        {
          status: replayed.status,
          items: replayed.items,
          total: replayed.total,
          reason: replayed.reason ?? null,
          version: replayed.version,
        },
        { status: row.status, items: row.items, total: row.total, reason: row.reason, version: row.version },
      );
    }
    const { rows: unfinished } = await orders.db.query(
      `SELECT id FROM saga_instances WHERE status IN ('RUNNING', 'COMPENSATING')`,
    );
    assert.deepEqual(unfinished, [], 'every saga is terminal');
  });
});
