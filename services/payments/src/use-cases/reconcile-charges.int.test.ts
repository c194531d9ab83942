// Charges left PENDING on real PostgreSQL: looked up with the processor once stale, settled like any charge.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TEST_CARDS } from '@souk/contracts';
import { startPayments, type PaymentsFixture } from '../testing/payments.fixture.ts';
import { ReconcilePendingCharges } from './reconcile-charges.use-case.ts';

const TIMEOUT_MS = 300;

describe('reconciling PENDING charges', () => {
  let payments: PaymentsFixture;
  let reconciler: ReconcilePendingCharges;

  before(async () => {
    payments = await startPayments('reconcile', { processorTimeoutMs: TIMEOUT_MS });
    reconciler = new ReconcilePendingCharges(
      payments.repository,
      payments.processor,
      () => ({ timeoutMs: TIMEOUT_MS, staleAfterMs: 60_000, intervalMs: 1000 }),
      payments.service.log,
    );
  });

  after(async () => {
    await payments.close();
  });

  /** A charge on the card that hangs: the processor never answers, so the payment stays PENDING. */
  const hangingCharge = async () => {
    const body = payments.chargeBody({ card: TEST_CARDS.hangs });
    const key = randomUUID();
    const response = await payments.charge(body, key);
    assert.equal(response.statusCode, 504, response.body);
    const [payment] = await payments.paymentRows(body.orderId);
    assert.equal(payment?.status, 'PENDING');
    return { body, key, paymentId: payment.id };
  };
  const age = (paymentId: string) =>
    payments.service.db.query(`UPDATE payments SET updated_at = now() - interval '1 hour' WHERE id = $1`, [
      paymentId,
    ]);
  const eventsOf = async (orderId: string) =>
    (
      await payments.service.db.query<{ type: string }>(
        `SELECT type FROM outbox WHERE envelope->>'subject' = $1 ORDER BY type`,
        [orderId],
      )
    ).rows.map((row) => row.type);

  it('when a charge has been PENDING past the staleness, then the late approval settles it SUCCEEDED, booked and announced, and a retry with its key hears it', async () => {
    const { body, key, paymentId } = await hangingCharge();
    await age(paymentId);
    assert.ok((await reconciler.sweep()) >= 1);
    assert.deepEqual(await payments.paymentRows(body.orderId), [{ id: paymentId, status: 'SUCCEEDED' }]);
    assert.equal(payments.processor.lookups.filter((call) => call.reference === paymentId).length, 1);
    assert.deepEqual(
      (await payments.ledger(paymentId)).map(({ kind, amount }) => [kind, amount]),
      [
        ['charge', -1999],
        ['charge', 1999],
      ],
    );
    assert.deepEqual(await eventsOf(body.orderId), ['payment.succeeded']);
    const retry = await payments.charge(body, key);
    assert.equal(retry.statusCode, 201, retry.body);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.deepEqual(retry.json(), {
      id: paymentId,
      orderId: body.orderId,
      status: 'SUCCEEDED',
      amount: body.amount,
    });
  });

  it('when a stale PENDING charge is approved late for an order closed meanwhile, then it is refunded at once', async () => {
    const { body, key, paymentId } = await hangingCharge();
    const refund = await payments.refund(body.orderId);
    assert.equal(refund.statusCode, 200, refund.body);
    assert.equal(refund.json().refunded, null);
    await age(paymentId);
    await reconciler.sweep();
    assert.deepEqual(await payments.paymentRows(body.orderId), [{ id: paymentId, status: 'REFUNDED' }]);
    const ledger = await payments.ledger(paymentId);
    assert.deepEqual(
      ledger.map(({ kind, amount }) => [kind, amount]),
      [
        ['charge', -1999],
        ['charge', 1999],
        ['refund', -1999],
        ['refund', 1999],
      ],
    );
    assert.equal(
      ledger.reduce((sum, entry) => sum + Number(entry.amount), 0),
      0,
    );
    assert.deepEqual(await eventsOf(body.orderId), ['payment.refunded', 'payment.succeeded']);
    const retry = await payments.charge(body, key);
    assert.equal(retry.statusCode, 409);
    assert.equal(retry.json().code, 'ORDER_CLOSED');
  });

  it('when a PENDING charge is fresher than the staleness, then it is left alone and the processor is not asked', async () => {
    const { body, paymentId } = await hangingCharge();
    await reconciler.sweep();
    assert.deepEqual(await payments.paymentRows(body.orderId), [{ id: paymentId, status: 'PENDING' }]);
    assert.equal(payments.processor.lookups.filter((call) => call.reference === paymentId).length, 0);
    assert.deepEqual(await payments.ledger(paymentId), []);
  });

  it('when the service runs, then its sweeper settles a stale PENDING charge on its own', async () => {
    const running = await startPayments('reconcile_worker', {
      processorTimeoutMs: TIMEOUT_MS,
      env: { SOUK__RECONCILE__INTERVAL_MS: '50', SOUK__RECONCILE__STALE_AFTER_MS: '1' },
    });
    try {
      await running.service.start();
      const body = running.chargeBody({ card: TEST_CARDS.hangs });
      assert.equal((await running.charge(body)).statusCode, 504);
      const deadline = Date.now() + 10_000;
      let rows = await running.paymentRows(body.orderId);
      while (rows[0]?.status === 'PENDING' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        rows = await running.paymentRows(body.orderId);
      }
      assert.equal(rows[0]?.status, 'SUCCEEDED');
    } finally {
      await running.close();
    }
  });
});
