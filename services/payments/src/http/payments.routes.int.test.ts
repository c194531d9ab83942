// The public payments read on real PostgreSQL: a customer sees their own, an admin anyone's, no one else anything.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TEST_CARDS, type Payment } from '@souk/contracts';
import { startPayments, type PaymentsFixture } from '../testing/payments.fixture.ts';

describe('payments API (public)', () => {
  let payments: PaymentsFixture;

  before(async () => {
    payments = await startPayments('payments_read', { processorTimeoutMs: 50 });
  });

  after(async () => {
    await payments.close();
  });

  const list = (query: string, headers: Record<string, string>) =>
    payments.inject({ url: `/api/payments${query}`, headers });

  it("when the owner, another customer and an admin ask for an order's payments, then the owner and the admin see them, the other an empty list", async () => {
    const body = payments.chargeBody();
    const charged = await payments.charge(body);
    assert.equal(charged.statusCode, 201);
    const expected = { items: [charged.json<Payment>()] };

    const owner = await list(`?orderId=${body.orderId}`, payments.as.customer);
    assert.equal(owner.statusCode, 200);
    assert.deepEqual(owner.json(), expected);
    const other = await list(`?orderId=${body.orderId}`, payments.as.otherCustomer);
    assert.equal(other.statusCode, 200);
    assert.deepEqual(other.json(), { items: [] });
    const admin = await list(`?orderId=${body.orderId.toUpperCase()}`, payments.as.admin);
    assert.deepEqual(admin.json(), expected);
  });

  it('when a customer lists without an order, then all of their own settled payments, newest first, and no one else’s', async () => {
    const own = [];
    for (const card of [TEST_CARDS.approves, TEST_CARDS.declines, TEST_CARDS.approves]) {
      const response = await payments.charge(payments.chargeBody({ card }));
      own.push(response.statusCode === 201 ? response.json<Payment>() : response.json().payment);
    }
    const refunded = await payments.refund(own[2].orderId);
    own[2] = refunded.json().refunded;
    const theirs = await payments.charge(payments.chargeBody({ userId: payments.users.otherCustomer }));
    // A charge the processor never answered is not a payment yet.
    await payments.charge(payments.chargeBody({ card: TEST_CARDS.hangs }));

    const mine = (await list('', payments.as.customer)).json<{ items: Payment[] }>().items;
    const ids = mine.map((payment) => payment.id);
    assert.deepEqual(ids.slice(0, 3), own.map((payment) => payment.id).reverse());
    assert.deepEqual(mine.slice(0, 3), [...own].reverse());
    assert.ok(!ids.includes(theirs.json().id));
    assert.ok(mine.every((payment) => payment.status !== ('PENDING' as never)));

    const everyone = (await list('', payments.as.admin)).json<{ items: Payment[] }>().items.map((p) => p.id);
    assert.ok(everyone.includes(theirs.json().id) && everyone.includes(own[0].id));
  });

  it('when an order has no payments, then an empty list', async () => {
    const response = await list(`?orderId=${randomUUID()}`, payments.as.customer);
    assert.deepEqual(response.json(), { items: [] });
  });

  it('when there is no user identity, then 401, a service credential included', async () => {
    assert.equal((await list('', {})).statusCode, 401);
    assert.equal((await list('', payments.as.orders)).statusCode, 401);
  });

  it('when the query is malformed, then 400', async () => {
    for (const query of ['?orderId=nope', `?orderId=${randomUUID()}&limit=5`]) {
      const response = await list(query, payments.as.customer);
      assert.equal(response.statusCode, 400, query);
      assert.equal(response.json().code, 'VALIDATION_FAILED');
    }
  });
});
