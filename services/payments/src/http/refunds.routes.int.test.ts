// The internal refund contract on real PostgreSQL: refunding once, closing the order, late and resumed charges.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TEST_CARDS, type Payment, type RefundResult } from '@souk/contracts';
import { startPayments, type PaymentsFixture } from '../testing/payments.fixture.ts';

describe('refunds API (internal)', () => {
  let payments: PaymentsFixture;

  before(async () => {
    payments = await startPayments('refunds');
  });

  after(async () => {
    await payments.close();
  });

  const paid = async () => {
    const body = payments.chargeBody();
    const response = await payments.charge(body);
    assert.equal(response.statusCode, 201, response.body);
    return { body, payment: response.json<Payment>() };
  };

  /** Each account's balance over one payment's journals. */
  const net = async (paymentId: string) => {
    const totals = new Map<string, number>();
    for (const entry of await payments.ledger(paymentId))
      totals.set(entry.account, (totals.get(entry.account) ?? 0) + entry.amount);
    return [...totals.values()];
  };

  it('when an order with a successful charge is refunded, then 200 with the payment REFUNDED and a reversing journal', async () => {
    const { body, payment } = await paid();
    const response = await payments.refund(body.orderId);
    assert.equal(response.statusCode, 200);
    const expected: RefundResult = { orderId: body.orderId, refunded: { ...payment, status: 'REFUNDED' } };
    assert.deepEqual(response.json(), expected);

    const ledger = await payments.ledger(payment.id);
    assert.deepEqual(
      ledger.map(({ kind, account, amount }) => ({ kind, account, amount })),
      [
        { kind: 'charge', account: `customer:${body.userId}`, amount: -1999 },
        { kind: 'charge', account: 'merchant', amount: 1999 },
        { kind: 'refund', account: 'merchant', amount: -1999 },
        { kind: 'refund', account: `customer:${body.userId}`, amount: 1999 },
      ],
    );
    assert.deepEqual(await net(payment.id), [0, 0]);
  });

  it('when the refund is sent twice, then the money goes back once: a replay with the key, the same report with another', async () => {
    const { body, payment } = await paid();
    const key = randomUUID();
    const first = await payments.refund(body.orderId, key);
    const replay = await payments.refund(body.orderId, key);
    const another = await payments.refund(body.orderId);
    for (const response of [replay, another]) {
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), first.json());
    }
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(another.headers['idempotent-replayed'], undefined);
    const refunds = (await payments.ledger(payment.id)).filter((entry) => entry.kind === 'refund');
    assert.equal(refunds.length, 2, 'one refund journal of two entries');
  });

  it('when an order that was never charged is refunded, then 200 refunded: null, and a late charge gets 409 ORDER_CLOSED without a processor call', async () => {
    const orderId = randomUUID();
    const refund = await payments.refund(orderId);
    assert.equal(refund.statusCode, 200);
    assert.deepEqual(refund.json(), { orderId, refunded: null });

    const calls = payments.processor.calls.length;
    const late = await payments.charge(payments.chargeBody({ orderId }));
    assert.equal(late.statusCode, 409);
    assert.equal(late.json().code, 'ORDER_CLOSED');
    assert.equal(payments.processor.calls.length, calls);
    assert.deepEqual(await payments.paymentRows(orderId), []);
  });

  it('when a refunded order is charged again under a new key, then 409 ORDER_CLOSED; the charge key it was paid with still replays its answer', async () => {
    const body = payments.chargeBody();
    const key = randomUUID();
    const charged = await payments.charge(body, key);
    const payment = charged.json<Payment>();
    await payments.refund(body.orderId);
    const replay = await payments.charge(body, key);
    assert.equal(replay.statusCode, 201);
    assert.deepEqual(replay.json(), charged.json());
    const again = await payments.charge(payments.chargeBody({ orderId: body.orderId }));
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'ORDER_CLOSED');
    assert.deepEqual(
      (await payments.paymentRows(body.orderId)).map((row) => row.status),
      ['REFUNDED'],
    );
    assert.equal((await payments.ledger(payment.id)).length, 4);
  });

  it('when an order whose charge was declined is refunded, then refunded: null and nothing is booked', async () => {
    const body = payments.chargeBody({ card: TEST_CARDS.declines });
    assert.equal((await payments.charge(body)).statusCode, 402);
    const refund = await payments.refund(body.orderId);
    assert.deepEqual(refund.json(), { orderId: body.orderId, refunded: null });
  });

  it('when a charge was recorded, its worker died, and the order was refunded, then the resumed charge is refunded at once: 409 ORDER_CLOSED, the ledger at zero', async () => {
    const body = payments.chargeBody();
    const key = randomUUID();
    const start = await payments.repository.beginCharge({
      caller: 'orders',
      key,
      charge: body,
      leaseMs: 30_000,
    });
    assert.ok(start.kind === 'proceed');
    await payments.service.db.query(
      `UPDATE idempotency_keys SET leased_until = now() - interval '1 second' WHERE key = $1`,
      [key],
    );

    const refund = await payments.refund(body.orderId);
    assert.deepEqual(refund.json(), { orderId: body.orderId, refunded: null });

    const resumed = await payments.charge(body, key);
    assert.equal(resumed.statusCode, 409, resumed.body);
    assert.equal(resumed.json().code, 'ORDER_CLOSED');
    assert.deepEqual(resumed.json().payment, {
      id: start.payment.id,
      orderId: body.orderId,
      status: 'REFUNDED',
      amount: body.amount,
    });
    assert.deepEqual(await net(start.payment.id), [0, 0]);
    assert.equal((await payments.ledger(start.payment.id)).length, 4);
    const replay = await payments.charge(body, key);
    assert.equal(replay.statusCode, 409);
    const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    assert.deepEqual(withoutRequestId(replay.json()), withoutRequestId(resumed.json()));
  });

  it('when the key was used for another order, then 422 IDEMPOTENCY_KEY_REUSED and that order stays open', async () => {
    const key = randomUUID();
    await payments.refund(randomUUID(), key);
    const other = randomUUID();
    const response = await payments.refund(other, key);
    assert.equal(response.statusCode, 422);
    assert.equal(response.json().code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal((await payments.charge(payments.chargeBody({ orderId: other }))).statusCode, 201);
  });

  it('when the key is missing or the body malformed, then 400 and the order stays open', async () => {
    const orderId = randomUUID();
    const missing = await payments.refund(orderId, null);
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().code, 'IDEMPOTENCY_KEY_REQUIRED');
    for (const payload of [{}, { orderId: 'nope' }, { orderId, amount: 5 }]) {
      const response = await payments.inject({
        method: 'POST',
        url: '/internal/payments/refunds',
        headers: { ...payments.as.orders, 'idempotency-key': randomUUID() },
        payload,
      });
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
    }
    assert.equal((await payments.charge(payments.chargeBody({ orderId }))).statusCode, 201);
  });
});
