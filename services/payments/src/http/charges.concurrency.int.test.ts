// Charges under contention on real PostgreSQL: twins of one request, rival keys for one order, refunds racing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { startPayments, type PaymentsFixture } from '../testing/payments.fixture.ts';

describe('charges under contention', () => {
  let payments: PaymentsFixture;

  before(async () => {
    payments = await startPayments('charges_concurrency');
    // A processor that takes a moment, so that requests overlap while it is asked.
    payments.processor.delayMs = 40;
  });

  afterEach(() => {
    payments.processor.calls.length = 0;
  });

  after(async () => {
    await payments.close();
  });

  it('when one key is sent 20 times at once, then the processor is asked once and there is one payment; every answer is that payment or REQUEST_IN_PROGRESS', async () => {
    const body = payments.chargeBody();
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 20 }, () => payments.charge(body, key)));

    assert.equal(payments.processor.calls.length, 1);
    const rows = await payments.paymentRows(body.orderId);
    assert.deepEqual(
      rows.map((row) => row.status),
      ['SUCCEEDED'],
    );
    const created = responses.filter((response) => response.statusCode === 201);
    const busy = responses.filter((response) => response.statusCode === 409);
    assert.equal(created.length + busy.length, 20, responses.map((r) => r.statusCode).join(','));
    assert.ok(created.length >= 1);
    assert.ok(created.every((response) => response.json().id === rows[0]!.id));
    assert.ok(busy.every((response) => response.json().code === 'REQUEST_IN_PROGRESS'));
    assert.equal((await payments.ledger(rows[0]!.id)).length, 2);
  });

  it('when one order is charged under 10 keys at once, then exactly one charge succeeds and the processor is asked once', async () => {
    const orderId = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => payments.charge(payments.chargeBody({ orderId }), randomUUID())),
    );
    const statuses = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(statuses, [201, ...Array<number>(9).fill(409)]);
    assert.ok(
      responses
        .filter((response) => response.statusCode === 409)
        .every((response) => ['PAYMENT_IN_PROGRESS', 'ORDER_ALREADY_PAID'].includes(response.json().code)),
    );
    assert.deepEqual(
      (await payments.paymentRows(orderId)).map((row) => row.status),
      ['SUCCEEDED'],
    );
    assert.equal(payments.processor.calls.length, 1);
  });

  it('when charges and their compensating refunds race, then every order ends with its money back and the ledger at zero', async () => {
    const orders = Array.from({ length: 8 }, () => payments.chargeBody());
    await Promise.all(
      orders.map(async (body, index) => {
        const key = randomUUID();
        const charge = () => payments.charge(body, key);
        const refund = () => payments.refund(body.orderId);
        // Which call is sent first alternates; which one the database sees first is up to the race.
        const [charged] =
          index % 2 === 0
            ? await Promise.all([charge(), refund()])
            : await Promise.all([refund(), charge()]).then(([refunded, c]) => [c, refunded] as const);
        assert.ok([201, 409].includes(charged.statusCode), charged.body);
        // The saga retries the charge until it hears an answer, then compensates again: still refunded once.
        const retried = await charge();
        assert.ok([201, 409].includes(retried.statusCode), retried.body);
        assert.equal((await refund()).statusCode, 200);
      }),
    );
    for (const body of orders) {
      const rows = await payments.paymentRows(body.orderId);
      assert.ok(
        rows.every((row) => row.status === 'REFUNDED'),
        JSON.stringify(rows),
      );
      assert.ok(rows.length <= 1);
    }
    const { rows } = await payments.service.db.query<{ account: string; total: number }>(
      `SELECT account, sum(amount)::bigint AS total FROM ledger_entries
       WHERE payment_id IN (SELECT id FROM payments WHERE order_id = ANY($1::uuid[]))
       GROUP BY account HAVING sum(amount) <> 0`,
      [orders.map((body) => body.orderId)],
    );
    assert.deepEqual(rows, []);
  });
});
