// The life of a payment, without I/O: admitting a charge, settling it, refunding it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isBalanced, balances } from './ledger.model.ts';
import {
  admitCharge,
  planRefund,
  settleCharge,
  toPayment,
  type PaymentRecord,
  type PaymentState,
} from './payment.model.ts';

const ORDER = '00000000-0000-4000-8000-00000000000a';
const USER = '00000000-0000-4000-8000-00000000000b';
const pending: PaymentRecord = {
  id: '00000000-0000-4000-8000-000000000001',
  orderId: ORDER,
  userId: USER,
  amount: { amount: 1999, currency: 'USD' },
  status: 'PENDING',
};
const approved = { approved: true as const, authorization: 'sim_1' };
const open = { closed: false, paidByAnother: false };

describe('admitCharge', () => {
  it('given an order never seen, when it is charged, then the charge goes ahead', () => {
    assert.deepEqual(admitCharge(ORDER, { closed: false, charges: [] }), { ok: true, value: null });
  });

  it('given failed charges before, when the order is charged again, then the charge goes ahead', () => {
    const charges = [{ status: 'FAILED' as const, active: false }];
    assert.equal(admitCharge(ORDER, { closed: false, charges }).ok, true);
  });

  it('given a closed order, when it is charged, then ORDER_CLOSED (409), whatever its charges', () => {
    const outcome = admitCharge(ORDER, { closed: true, charges: [{ status: 'SUCCEEDED', active: false }] });
    assert.equal(!outcome.ok && outcome.rejection.code, 'ORDER_CLOSED');
    assert.equal(!outcome.ok && outcome.rejection.status, 409);
  });

  it('given a successful charge, when the order is charged under another key, then ORDER_ALREADY_PAID (409)', () => {
    const outcome = admitCharge(ORDER, { closed: false, charges: [{ status: 'SUCCEEDED', active: false }] });
    assert.equal(!outcome.ok && outcome.rejection.code, 'ORDER_ALREADY_PAID');
  });

  it('given a charge in progress under another key, when the order is charged, then PAYMENT_IN_PROGRESS until its lease runs out', () => {
    const live = admitCharge(ORDER, { closed: false, charges: [{ status: 'PENDING', active: true }] });
    assert.equal(!live.ok && live.rejection.code, 'PAYMENT_IN_PROGRESS');
    const abandoned = admitCharge(ORDER, { closed: false, charges: [{ status: 'PENDING', active: false }] });
    assert.equal(abandoned.ok, true);
  });
});

describe('settleCharge', () => {
  it('when the processor approves for an open order, then SUCCEEDED, one charge journal, payment.succeeded, 201', () => {
    const settlement = settleCharge(pending, approved, open);
    assert.equal(settlement.status, 'SUCCEEDED');
    assert.equal(settlement.authorization, 'sim_1');
    assert.deepEqual(
      settlement.journals.map((journal) => journal.kind),
      ['charge'],
    );
    assert.deepEqual(
      settlement.events.map((event) => event.type),
      ['payment.succeeded'],
    );
    assert.deepEqual(settlement.answer, {
      ok: true,
      status: 201,
      value: { id: pending.id, orderId: ORDER, status: 'SUCCEEDED', amount: pending.amount },
    });
  });

  it('when the processor declines, then FAILED with the reason, nothing booked, payment.failed, 402 with the payment', () => {
    const settlement = settleCharge(pending, { approved: false, reason: 'card declined' }, open);
    assert.equal(settlement.status, 'FAILED');
    assert.equal(settlement.failureReason, 'card declined');
    assert.deepEqual(settlement.journals, []);
    assert.deepEqual(settlement.events, [
      {
        type: 'payment.failed',
        data: {
          paymentId: pending.id,
          orderId: ORDER,
          userId: USER,
          amount: pending.amount,
          reason: 'card declined',
        },
      },
    ]);
    assert.equal(!settlement.answer.ok && settlement.answer.rejection.status, 402);
    assert.equal(!settlement.answer.ok && settlement.answer.rejection.code, 'PAYMENT_DECLINED');
    assert.deepEqual(!settlement.answer.ok && settlement.answer.rejection.extensions?.payment, {
      ...toPayment({ ...pending, status: 'FAILED' }),
    });
  });

  it('when an approval comes for an order closed meanwhile, then the money goes back at once: REFUNDED, charge and refund booked, 409 ORDER_CLOSED', () => {
    const settlement = settleCharge(pending, approved, { closed: true, paidByAnother: false });
    assert.equal(settlement.status, 'REFUNDED');
    assert.deepEqual(
      settlement.journals.map((journal) => journal.kind),
      ['charge', 'refund'],
    );
    assert.deepEqual(balances(settlement.journals.flatMap((journal) => journal.entries)), new Map());
    assert.deepEqual(
      settlement.events.map((event) => event.type),
      ['payment.succeeded', 'payment.refunded'],
    );
    assert.equal(!settlement.answer.ok && settlement.answer.rejection.code, 'ORDER_CLOSED');
  });

  it('when an approval comes for an order paid under another key meanwhile, then it is refunded too: 409 ORDER_ALREADY_PAID', () => {
    const settlement = settleCharge(pending, approved, { closed: false, paidByAnother: true });
    assert.equal(settlement.status, 'REFUNDED');
    assert.equal(!settlement.answer.ok && settlement.answer.rejection.code, 'ORDER_ALREADY_PAID');
  });

  it('when a payment that is no longer pending is settled, then it throws: a payment settles once', () => {
    assert.throws(() => settleCharge({ ...pending, status: 'SUCCEEDED' }, approved, open));
  });

  it('for any decision and order, then every journal balances and money is kept only by an open, unpaid order', () => {
    const decision = fc.oneof(
      fc.constant(approved),
      fc.constant({ approved: false as const, reason: 'card declined' }),
    );
    fc.assert(
      fc.property(
        decision,
        fc.boolean(),
        fc.boolean(),
        fc.nat({ max: 10_000 }),
        (answer, closed, paid, cents) => {
          const payment = { ...pending, amount: { amount: cents, currency: 'EUR' } };
          const settlement = settleCharge(payment, answer, { closed, paidByAnother: paid });
          for (const journal of settlement.journals) assert.equal(isBalanced(journal.entries), true);
          const kept = balances(settlement.journals.flatMap((journal) => journal.entries)).size > 0;
          assert.equal(kept, cents > 0 && answer.approved && !closed && !paid);
          assert.equal(settlement.status === 'SUCCEEDED', answer.approved && !closed && !paid);
        },
      ),
    );
  });
});

describe('planRefund', () => {
  const charge = (status: PaymentState, id = pending.id): PaymentRecord => ({ ...pending, id, status });

  it('given a successful charge, when the order is refunded, then that charge is refunded with a reversing journal', () => {
    const plan = planRefund([charge('FAILED', '00000000-0000-4000-8000-000000000002'), charge('SUCCEEDED')]);
    assert.equal(plan.action, 'refund');
    assert.equal(plan.action === 'refund' && plan.payment.id, pending.id);
    assert.equal(plan.action === 'refund' && plan.journal.kind, 'refund');
    assert.equal(plan.action === 'refund' && plan.event.type, 'payment.refunded');
    assert.equal(plan.refunded?.status, 'REFUNDED');
  });

  it('given a charge refunded before, when the order is refunded again, then it is reported and nothing moves', () => {
    const plan = planRefund([charge('REFUNDED')]);
    assert.deepEqual(plan, { action: 'none', refunded: toPayment(charge('REFUNDED')) });
  });

  it('given no successful charge, when the order is refunded, then there is nothing to refund', () => {
    assert.deepEqual(planRefund([]), { action: 'none', refunded: null });
    assert.deepEqual(planRefund([charge('FAILED'), charge('PENDING')]), { action: 'none', refunded: null });
  });
});
