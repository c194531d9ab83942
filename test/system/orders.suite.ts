// The order rows of the API contract and the invariants behind them (no oversell, one charge per confirmed
// order, every saga terminal), through the gateway of a running shop, including across kill -9.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { localPort, type ServiceName } from '@souk/supervisor/topology';
import { TEST_CARDS } from '@souk/contracts';
import { ADMIN, PORT_OFFSET, assertProblem, type RunningShop } from './shop.fixture.ts';
import { shopClient, type Customer, type Placed } from './shop-client.ts';

export function ordersSuite(running: () => RunningShop): void {
  let shop: RunningShop;
  let admin: string;
  const { signUp, createProduct, available, placeOrder, orderOf, settle, paymentsOf, assertInvariants } =
    shopClient(
      (method, url, options) => shop.api(method, url, options),
      () => admin,
    );
  let alice: Customer;
  let bob: Customer;

  before(async () => {
    shop = running();
    admin = (await shop.api('POST', '/api/auth/login', { body: ADMIN })).body.accessToken;
    [alice, bob] = await Promise.all([signUp('alice'), signUp('bob')]);
  });

  describe('orders', () => {
    it('when a customer orders with an approving card, then 202 PENDING, then CONFIRMED with money objects', async () => {
      const productId = await createProduct(5, 2250);
      const placed = await placeOrder(alice, productId, 2);
      assert.equal(placed.response.body.status, 'PENDING');
      assert.equal(placed.response.headers.get('location'), `/api/orders/${placed.id}`);
      const order = await settle(placed);
      assert.equal(order.status, 'CONFIRMED');
      assert.equal(order.userId, alice.id);
      assert.deepEqual(order.total, { amount: 4500, currency: 'USD' });
      assert.deepEqual(order.items, [
        { productId, quantity: 2, unitPrice: { amount: 2250, currency: 'USD' } },
      ]);
      assert.equal(await available(productId), 3);
      const payments = await paymentsOf(placed);
      assert.deepEqual(
        payments.map((p) => [p.status, p.amount]),
        [['SUCCEEDED', { amount: 4500, currency: 'USD' }]],
      );
      const mine = (await shop.api('GET', '/api/orders', { token: alice.token })).body.items;
      assert.ok(mine.some((o: { id: string }) => o.id === placed.id));
    });

    it('when an order is confirmed, then its owner is notified of each step once, and nobody else is', async () => {
      const placed = await placeOrder(alice, await createProduct(2), 1);
      assert.equal((await settle(placed)).status, 'CONFIRMED');
      const expected = ['order.created', 'payment.succeeded', 'order.confirmed'];
      const deadline = Date.now() + 20_000;
      let mine: { type: string; orderId?: string; message: string; createdAt: string }[] = [];
      for (;;) {
        const response = await shop.api('GET', '/api/notifications?limit=100', { token: alice.token });
        assert.equal(response.status, 200);
        mine = response.body.items.filter((n: { orderId?: string }) => n.orderId === placed.id);
        if (expected.every((type) => mine.some((n) => n.type === type))) break;
        assert.ok(Date.now() < deadline, `notified within 20 s; so far ${mine.map((n) => n.type).join()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(mine.map((n) => n.type).sort(), [...expected].sort(), 'each event once');
      assert.ok(mine.every((n) => n.message.length > 0 && !Number.isNaN(Date.parse(n.createdAt))));
      const welcome = (await shop.api('GET', '/api/notifications?limit=100', { token: alice.token })).body
        .items;
      assert.ok(welcome.some((n: { type: string }) => n.type === 'user.registered'));
      const theirs = (await shop.api('GET', '/api/notifications?limit=100', { token: bob.token })).body.items;
      assert.ok(theirs.every((n: { orderId?: string }) => n.orderId !== placed.id));
      assertProblem(await shop.api('GET', '/api/notifications'), 401);
    });

    it('when the card is declined, then CANCELLED with a reason and the stock back', async () => {
      const productId = await createProduct(3);
      const order = await settle(await placeOrder(alice, productId, 1, TEST_CARDS.declines));
      assert.equal(order.status, 'CANCELLED');
      assert.equal(order.reason, 'payment declined');
      assert.equal(await available(productId), 3);
    });

    it('when a confirmed order is cancelled, then 202 and it ends CANCELLED, refunded and restocked; again: 409', async () => {
      const productId = await createProduct(4);
      const placed = await placeOrder(alice, productId, 3);
      assert.equal((await settle(placed)).status, 'CONFIRMED');
      assert.equal(
        (await shop.api('POST', `/api/orders/${placed.id}/cancel`, { token: alice.token })).status,
        202,
      );
      const deadline = Date.now() + 20_000;
      while ((await orderOf(placed)).status !== 'CANCELLED') {
        assert.ok(Date.now() < deadline, 'cancelled within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(await available(productId), 4);
      assert.deepEqual(
        (await paymentsOf(placed)).map((p) => p.status),
        ['REFUNDED'],
      );
      assertProblem(await shop.api('POST', `/api/orders/${placed.id}/cancel`, { token: alice.token }), 409);
    });

    it("when someone else's order is asked for, then 404; an admin sees it", async () => {
      const placed = await placeOrder(alice, await createProduct(1), 1);
      assertProblem(await shop.api('GET', `/api/orders/${placed.id}`, { token: bob.token }), 404);
      assertProblem(await shop.api('POST', `/api/orders/${placed.id}/cancel`, { token: bob.token }), 404);
      assert.deepEqual(
        (await shop.api('GET', `/api/payments?orderId=${placed.id}`, { token: bob.token })).body.items,
        [],
      );
      assert.equal((await shop.api('GET', `/api/orders/${placed.id}`, { token: admin })).status, 200);
      await settle(placed);
    });

    it('Idempotency-Key: missing is 400; one key sent concurrently makes one order, one reservation, one charge', async () => {
      const productId = await createProduct(10);
      const body = { items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } };
      assertProblem(await shop.api('POST', '/api/orders', { token: alice.token, body }), 400);
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 15 }, () =>
          shop.api('POST', '/api/orders', { token: alice.token, headers: { 'idempotency-key': key }, body }),
        ),
      );
      const ids = new Set(answers.filter((a) => a.status === 202).map((a) => a.body.id));
      assert.equal(ids.size, 1, answers.map((a) => a.status).join());
      const placed = { id: [...ids][0] as string, customer: alice, quantity: 1 };
      await settle(placed);
      assert.equal(await available(productId), 9);
      assert.equal((await paymentsOf(placed)).length, 1);
      const different = await shop.api('POST', '/api/orders', {
        token: alice.token,
        headers: { 'idempotency-key': key },
        body: { ...body, items: [{ productId, quantity: 2 }] },
      });
      assertProblem(different, 422);
    });

    it('when the order is malformed, then 400 and nothing is created', async () => {
      const productId = await createProduct(1);
      for (const body of [
        { items: [], payment: { card: TEST_CARDS.approves } },
        { items: [{ productId, quantity: -1 }], payment: { card: TEST_CARDS.approves } },
        { items: [{ productId, quantity: 1 }], payment: { card: '1234' } },
        { items: [{ productId, quantity: 1, unitPrice: 1 }], payment: { card: TEST_CARDS.approves } },
      ]) {
        const response = await shop.api('POST', '/api/orders', {
          token: alice.token,
          headers: { 'idempotency-key': randomUUID() },
          body,
        });
        assertProblem(response, 400);
      }
      assertProblem(
        await shop.api('POST', '/api/orders', { headers: { 'idempotency-key': 'k' }, body: {} }),
        401,
      );
      assert.equal(await available(productId), 1);
    });
  });

  describe('invariants under load and crashes', () => {
    it('when many orders compete for little stock, then no oversell, stock conserved and one charge per confirmed order', async () => {
      const initial = 8;
      const productId = await createProduct(initial);
      const placed = await Promise.all(
        Array.from({ length: 30 }, (_, i) => placeOrder(i % 2 ? alice : bob, productId, 1 + (i % 2))),
      );
      const confirmed = await assertInvariants(productId, initial, placed);
      assert.ok(confirmed > 0 && confirmed <= initial);
    });

    it('when orders and payments are killed with -9 mid-burst, then after their restart every order is terminal and the invariants hold', async () => {
      const initial = 12;
      const productId = await createProduct(initial);
      const customers = [alice, bob];
      const burst = Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          await new Promise((resolve) => setTimeout(resolve, i * 40));
          return placeOrder(customers[i % 2]!, productId, 1);
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const orders = shop.processes.get('orders')!;
      const payments = shop.processes.get('payments')!;
      const starts = [orders.starts, payments.starts];
      process.kill(orders.pid!, 'SIGKILL');
      process.kill(payments.pid!, 'SIGKILL');
      const placed = await burst;
      assert.ok(orders.starts > starts[0]! && payments.starts > starts[1]!, 'both were restarted');
      await assertInvariants(productId, initial, placed);
    });

    it('when orders, payments and inventory are each stopped with SIGTERM, then killed with -9, in the middle of a stream of good orders, then every order is CONFIRMED, charged once, and stock is conserved', async () => {
      const initial = 1000;
      const productId = await createProduct(initial);
      const placed: Placed[] = [];
      let streaming = true;
      const lanes = [alice, bob, alice].map(async (customer) => {
        while (streaming) {
          placed.push(await placeOrder(customer, productId, 1));
          await sleep(50);
        }
      });
      for (const name of ['orders', 'payments', 'inventory'] as const) {
        for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
          await sleep(500);
          await restartBy(name, signal);
        }
      }
      await sleep(500);
      streaming = false;
      await Promise.all(lanes);

      assert.ok(placed.length >= 6, `orders were placed throughout the six disruptions (${placed.length})`);
      const confirmed = await assertInvariants(productId, initial, placed);
      const cancelled = [];
      for (const order of placed) {
        const { status, reason } = await orderOf(order);
        if (status !== 'CONFIRMED') cancelled.push(`${order.id}: ${status} (${reason})`);
      }
      assert.deepEqual(cancelled, [], 'no good order is cancelled by a stop or a crash');
      assert.equal(confirmed, placed.length);
    });
  });

  /** Sends the signal to a service and waits until the supervisor restarted it and it is ready again. */
  const restartBy = async (name: ServiceName, signal: NodeJS.Signals) => {
    const child = shop.processes.get(name)!;
    const starts = child.starts;
    process.kill(child.pid!, signal);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready =
        child.starts > starts &&
        (await fetch(`http://127.0.0.1:${localPort(name, PORT_OFFSET)}/health/ready`)
          .then((response) => response.ok)
          .catch(() => false));
      if (ready) return;
      assert.ok(Date.now() < deadline, `${name} is back within 30 s of ${signal}`);
      await sleep(100);
    }
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
