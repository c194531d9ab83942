// The internal charge contract on real PostgreSQL: outcomes, the ledger, idempotency keys, timeouts, crash-resume.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TEST_CARDS, type Payment } from '@souk/contracts';
import { startPayments, type PaymentsFixture } from '../testing/payments.fixture.ts';

const TIMEOUT_MS = 300;

describe('charges API (internal)', () => {
  let payments: PaymentsFixture;

  before(async () => {
    payments = await startPayments('charges', { processorTimeoutMs: TIMEOUT_MS });
  });

  after(async () => {
    await payments.close();
  });

  const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });

  describe('outcomes', () => {
    it('when the card is approved, then 201 SUCCEEDED and one balanced ledger pair: the customer gives, the merchant receives', async () => {
      const body = payments.chargeBody();
      const response = await payments.charge(body);
      assert.equal(response.statusCode, 201, response.body);
      const payment = response.json<Payment>();
      assert.match(payment.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(payment, {
        id: payment.id,
        orderId: body.orderId,
        status: 'SUCCEEDED',
        amount: body.amount,
      });

      const ledger = await payments.ledger(payment.id);
      assert.equal(ledger.length, 2);
      assert.equal(new Set(ledger.map((entry) => entry.journal_id)).size, 1);
      assert.deepEqual(
        ledger.map(({ kind, account, amount, currency }) => ({ kind, account, amount, currency })),
        [
          { kind: 'charge', account: `customer:${body.userId}`, amount: -1999, currency: 'USD' },
          { kind: 'charge', account: 'merchant', amount: 1999, currency: 'USD' },
        ],
      );
      assert.deepEqual(payments.processor.calls.at(-1), {
        reference: payment.id,
        amount: body.amount,
        card: TEST_CARDS.approves,
      });
    });

    it('when the card is declined, then 402 PAYMENT_DECLINED with the FAILED payment, and nothing is booked', async () => {
      const body = payments.chargeBody({ card: TEST_CARDS.declines });
      const response = await payments.charge(body);
      assert.equal(response.statusCode, 402);
      assert.match(response.headers['content-type'] as string, /application\/problem\+json/);
      const problem = response.json();
      assert.equal(problem.code, 'PAYMENT_DECLINED');
      assert.equal(problem.reason, 'card declined');
      assert.deepEqual(problem.payment, {
        id: problem.payment.id,
        orderId: body.orderId,
        status: 'FAILED',
        amount: body.amount,
      });
      assert.deepEqual(await payments.ledger(problem.payment.id), []);
    });

    it('when the card token names no card, then 422 UNKNOWN_CARD, the processor is not asked and nothing is kept, the key included', async () => {
      const calls = payments.processor.calls.length;
      const body = payments.chargeBody({ card: '5555555555554444' });
      const key = randomUUID();
      const response = await payments.charge(body, key);
      assert.equal(response.statusCode, 422);
      assert.equal(response.json().code, 'UNKNOWN_CARD');
      assert.equal(payments.processor.calls.length, calls);
      assert.deepEqual(await payments.paymentRows(body.orderId), []);
      const known = await payments.charge({ ...body, cardToken: payments.tokenOf(TEST_CARDS.approves) }, key);
      assert.equal(known.statusCode, 201, 'the refused key was not kept');
    });

    it('when a charge was declined, then the order may be charged again under a new key with another card', async () => {
      const orderId = randomUUID();
      const declined = await payments.charge(payments.chargeBody({ orderId, card: TEST_CARDS.declines }));
      assert.equal(declined.statusCode, 402);
      const approved = await payments.charge(payments.chargeBody({ orderId }));
      assert.equal(approved.statusCode, 201);
      assert.deepEqual(
        (await payments.paymentRows(orderId)).map((row) => row.status),
        ['FAILED', 'SUCCEEDED'],
      );
    });

    it('when the order already has a successful charge, then another key gets 409 ORDER_ALREADY_PAID and no processor call', async () => {
      const orderId = randomUUID();
      assert.equal((await payments.charge(payments.chargeBody({ orderId }))).statusCode, 201);
      const calls = payments.processor.calls.length;
      const second = await payments.charge(payments.chargeBody({ orderId }));
      assert.equal(second.statusCode, 409);
      assert.equal(second.json().code, 'ORDER_ALREADY_PAID');
      assert.equal(payments.processor.calls.length, calls);
      assert.equal((await payments.paymentRows(orderId)).length, 1);
    });
  });

  describe('idempotency keys', () => {
    it('when the same key and body come again, then the same status and body, marked replayed, and the processor is asked once', async () => {
      for (const card of [TEST_CARDS.approves, TEST_CARDS.declines]) {
        const body = payments.chargeBody({ card });
        const key = randomUUID();
        const first = await payments.charge(body, key);
        const replay = await payments.charge(body, key);
        assert.ok([201, 402].includes(first.statusCode), first.body);
        assert.equal(replay.statusCode, first.statusCode);
        assert.deepEqual(withoutRequestId(replay.json()), withoutRequestId(first.json()));
        assert.equal(first.headers['idempotent-replayed'], undefined);
        assert.equal(replay.headers['idempotent-replayed'], 'true');
        const paymentId: string = first.statusCode === 201 ? first.json().id : first.json().payment.id;
        assert.equal(payments.processor.callsFor(paymentId), 1);
        assert.equal((await payments.paymentRows(body.orderId)).length, 1);
      }
    });

    it('when the same key comes with the fields in another order or as a structured-field string, then it is the same request', async () => {
      const body = payments.chargeBody();
      const key = `order-${randomUUID()}`;
      const first = await payments.charge(body, key);
      const { cardToken, amount, userId, orderId } = body;
      const reordered = await payments.charge({ cardToken, amount, userId, orderId }, `"${key}"`);
      assert.equal(reordered.statusCode, 201);
      assert.equal(reordered.json().id, first.json().id);
      assert.equal(reordered.headers['idempotent-replayed'], 'true');
    });

    it('when the same key comes with another body, then 422 IDEMPOTENCY_KEY_REUSED and nothing changes', async () => {
      const body = payments.chargeBody();
      const key = randomUUID();
      const first = await payments.charge(body, key);
      const calls = payments.processor.calls.length;
      for (const other of [
        { ...body, amount: { amount: 1, currency: 'USD' } },
        { ...body, cardToken: payments.tokenOf(TEST_CARDS.declines) },
        payments.chargeBody(),
      ]) {
        const response = await payments.charge(other, key);
        assert.equal(response.statusCode, 422);
        assert.equal(response.json().code, 'IDEMPOTENCY_KEY_REUSED');
      }
      const refund = await payments.refund(body.orderId, key);
      assert.equal(refund.statusCode, 422, 'a charge key is not a refund key');
      assert.equal(payments.processor.calls.length, calls);
      assert.deepEqual(await payments.paymentRows(body.orderId), [
        { id: first.json().id, status: 'SUCCEEDED' },
      ]);
    });

    it('when the Idempotency-Key header is missing, then 400 IDEMPOTENCY_KEY_REQUIRED and nothing is charged', async () => {
      const body = payments.chargeBody();
      const response = await payments.charge(body, null);
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().code, 'IDEMPOTENCY_KEY_REQUIRED');
      assert.deepEqual(await payments.paymentRows(body.orderId), []);
    });

    it('when the Idempotency-Key is malformed, then 400 IDEMPOTENCY_KEY_INVALID', async () => {
      for (const key of ['x'.repeat(256), '"unterminated']) {
        const response = await payments.charge(payments.chargeBody(), key);
        assert.equal(response.statusCode, 400, key);
        assert.equal(response.json().code, 'IDEMPOTENCY_KEY_INVALID');
      }
    });

    it('when a worker holds the key under a live lease, then a retry gets 409 REQUEST_IN_PROGRESS and the processor is not asked', async () => {
      const body = payments.chargeBody();
      const key = randomUUID();
      const start = await payments.repository.beginCharge({
        caller: 'orders',
        key,
        charge: body,
        leaseMs: 60_000,
      });
      assert.equal(start.kind, 'proceed');
      const response = await payments.charge(body, key);
      assert.equal(response.statusCode, 409);
      assert.equal(response.json().code, 'REQUEST_IN_PROGRESS');
      assert.equal(start.kind === 'proceed' && payments.processor.callsFor(start.payment.id), 0);
    });

    it('when a worker died after recording the payment and its lease ran out, then a retry with the key completes that payment', async () => {
      const body = payments.chargeBody();
      const key = randomUUID();
      // Step one as the service does it, then the process "dies": no processor call, no settlement.
      const start = await payments.repository.beginCharge({
        caller: 'orders',
        key,
        charge: body,
        leaseMs: 30_000,
      });
      assert.ok(start.kind === 'proceed');
      await payments.service.db.query(
        `UPDATE idempotency_keys SET leased_until = now() - interval '1 second', created_at = now() - interval '1 minute'
         WHERE caller = 'orders' AND key = $1`,
        [key],
      );

      const retry = await payments.charge(body, key);
      assert.equal(retry.statusCode, 201, retry.body);
      assert.equal(retry.json().id, start.payment.id);
      assert.equal(payments.processor.callsFor(start.payment.id), 1);
      assert.equal((await payments.ledger(start.payment.id)).length, 2);
      const replay = await payments.charge(body, key);
      assert.deepEqual(replay.json(), retry.json());
      assert.equal(payments.processor.callsFor(start.payment.id), 1);
    });
  });

  describe('a processor that does not answer', () => {
    it('when the card hangs, then 504 PROCESSOR_TIMEOUT within the timeout, the payment stays PENDING, and a retry asks again under the same reference', async () => {
      const body = payments.chargeBody({ card: TEST_CARDS.hangs });
      const key = randomUUID();
      const started = performance.now();
      const response = await payments.charge(body, key);
      const elapsed = performance.now() - started;
      assert.equal(response.statusCode, 504);
      assert.equal(response.json().code, 'PROCESSOR_TIMEOUT');
      assert.ok(elapsed >= TIMEOUT_MS - 5 && elapsed < TIMEOUT_MS + 1500, `took ${Math.round(elapsed)} ms`);

      const rows = await payments.paymentRows(body.orderId);
      assert.deepEqual(
        rows.map((row) => row.status),
        ['PENDING'],
      );
      const { rows: keys } = await payments.service.db.query(
        'SELECT state, response FROM idempotency_keys WHERE key = $1',
        [key],
      );
      assert.deepEqual(keys, [{ state: 'IN_PROGRESS', response: null }]);

      // Retryable at once: not REQUEST_IN_PROGRESS, and the processor is asked about the same payment again.
      const retry = await payments.charge(body, key);
      assert.equal(retry.statusCode, 504);
      assert.equal(payments.processor.callsFor(rows[0]!.id), 2);
      assert.equal((await payments.paymentRows(body.orderId)).length, 1);
      assert.deepEqual(await payments.ledger(rows[0]!.id), []);
    });
  });

  describe('validation and who may call', () => {
    it('when the body is malformed, then 400 and nothing is charged', async () => {
      const calls = payments.processor.calls.length;
      const good = payments.chargeBody();
      for (const payload of [
        { ...good, tip: 1 },
        { ...good, cardToken: TEST_CARDS.approves },
        { ...good, cardToken: 'card_42' },
        { ...good, card: TEST_CARDS.approves },
        { ...good, amount: { amount: -1, currency: 'USD' } },
        { ...good, amount: { amount: 10.5, currency: 'USD' } },
        { ...good, amount: { amount: 100, currency: 'usd' } },
        { ...good, orderId: 'order-1' },
        { ...good, userId: undefined },
      ]) {
        const response = await payments.charge(payload as never);
        assert.equal(response.statusCode, 400, JSON.stringify(payload));
        assert.equal(response.json().code, 'VALIDATION_FAILED');
      }
      assert.equal(payments.processor.calls.length, calls);
    });

    it('when there is no identity, then 401; a user, even an admin, or another service, then 403, and nothing is charged', async () => {
      const body = payments.chargeBody();
      const anonymous = await payments.inject({
        method: 'POST',
        url: '/internal/payments/charges',
        headers: { 'idempotency-key': randomUUID() },
        payload: body,
      });
      assert.equal(anonymous.statusCode, 401);
      for (const headers of [payments.as.customer, payments.as.admin, payments.as.inventory]) {
        assert.equal((await payments.charge(body, undefined, headers)).statusCode, 403);
        assert.equal((await payments.refund(body.orderId, undefined, headers)).statusCode, 403);
      }
      assert.deepEqual(await payments.paymentRows(body.orderId), []);
      assert.equal((await payments.charge(body)).statusCode, 201, 'the order was not closed either');
    });
  });
});
