// The life of a payment: which charges an order admits, what a processor's answer turns a charge into, and what
// a refund does. At most one successful charge per order; a closed order takes none; money that moved for an
// order that can no longer keep it is moved back at once.
import type { EventTypes, Money, Payment, PaymentStatus } from '@souk/contracts';
import type { Answer } from '@souk/kit';
import { chargeJournal, refundJournal, type Journal } from './ledger.model.ts';
import {
  accept,
  orderAlreadyPaid,
  orderClosed,
  paymentDeclined,
  paymentInProgress,
  refuse,
  type Outcome,
} from './payments.errors.ts';

/** PENDING: the processor was or is being asked; only the final statuses are ever shown to a client. */
export type PaymentState = PaymentStatus | 'PENDING';

export interface PaymentRecord {
  readonly id: string;
  readonly orderId: string;
  readonly userId: string;
  readonly amount: Money;
  readonly status: PaymentState;
}

/** What the card processor said about one charge. */
export type ProcessorDecision =
  { approved: true; authorization: string } | { approved: false; reason: string };

export type PaymentEventType = 'payment.succeeded' | 'payment.failed' | 'payment.refunded';
export type PaymentEvent = { [K in PaymentEventType]: { type: K; data: EventTypes[K] } }[PaymentEventType];

export function toPayment(record: PaymentRecord): Payment {
  if (record.status === 'PENDING') throw new Error(`payment ${record.id} is still pending`);
  return { id: record.id, orderId: record.orderId, status: record.status, amount: record.amount };
}

/** Another charge of the same order, as a new charge sees it. */
export interface OtherCharge {
  readonly status: PaymentState;
  /** For a PENDING charge: whether its worker still holds it (its lease has not run out). */
  readonly active: boolean;
}

/**
 * Whether an order takes a new charge. A pending charge under another key whose worker died does not block
 * the order forever: once its lease ran out, a new charge may go ahead, and whichever succeeds second is
 * refunded when it settles.
 */
export function admitCharge(
  orderId: string,
  order: { closed: boolean; charges: readonly OtherCharge[] },
): Outcome<null> {
  if (order.closed) return refuse(orderClosed(orderId));
  if (order.charges.some((charge) => charge.status === 'SUCCEEDED')) return refuse(orderAlreadyPaid(orderId));
  if (order.charges.some((charge) => charge.status === 'PENDING' && charge.active))
    return refuse(paymentInProgress(orderId));
  return accept(null);
}

export interface Settlement {
  readonly status: PaymentStatus;
  readonly authorization: string | null;
  readonly failureReason: string | null;
  /** Ledger journals to write, in order. */
  readonly journals: readonly Journal[];
  /** Events to record, in order, in the same transaction. */
  readonly events: readonly PaymentEvent[];
  readonly answer: Answer<Payment>;
}

/**
 * What a pending charge becomes once the processor answered. An approval for an order that was closed, or paid
 * under another key, in the meantime is kept on record and refunded in the same breath.
 */
export function settleCharge(
  payment: PaymentRecord,
  decision: ProcessorDecision,
  order: { closed: boolean; paidByAnother: boolean },
): Settlement {
  if (payment.status !== 'PENDING') throw new Error(`payment ${payment.id} is already ${payment.status}`);
  const about = {
    paymentId: payment.id,
    orderId: payment.orderId,
    userId: payment.userId,
    amount: payment.amount,
  };
  if (!decision.approved) {
    const failed = toPayment({ ...payment, status: 'FAILED' });
    return {
      status: 'FAILED',
      authorization: null,
      failureReason: decision.reason,
      journals: [],
      events: [{ type: 'payment.failed', data: { ...about, reason: decision.reason } }],
      answer: { ok: false, rejection: paymentDeclined(failed, decision.reason) },
    };
  }
  const charged = {
    authorization: decision.authorization,
    failureReason: null,
  };
  if (order.closed || order.paidByAnother) {
    const refunded = toPayment({ ...payment, status: 'REFUNDED' });
    return {
      ...charged,
      status: 'REFUNDED',
      journals: [
        chargeJournal(payment.userId, payment.amount),
        refundJournal(payment.userId, payment.amount),
      ],
      events: [
        { type: 'payment.succeeded', data: about },
        { type: 'payment.refunded', data: about },
      ],
      answer: {
        ok: false,
        rejection: order.closed
          ? orderClosed(payment.orderId, refunded)
          : orderAlreadyPaid(payment.orderId, refunded),
      },
    };
  }
  return {
    ...charged,
    status: 'SUCCEEDED',
    journals: [chargeJournal(payment.userId, payment.amount)],
    events: [{ type: 'payment.succeeded', data: about }],
    answer: { ok: true, status: 201, value: toPayment({ ...payment, status: 'SUCCEEDED' }) },
  };
}

export type RefundPlan =
  | { action: 'refund'; payment: PaymentRecord; journal: Journal; event: PaymentEvent; refunded: Payment }
  | { action: 'none'; refunded: Payment | null };

/**
 * What refunding an order does: its successful charge is refunded; one refunded before is reported again and
 * nothing moves; an order without a successful charge has nothing to refund.
 */
export function planRefund(charges: readonly PaymentRecord[]): RefundPlan {
  const succeeded = charges.find((charge) => charge.status === 'SUCCEEDED');
  if (succeeded !== undefined) {
    return {
      action: 'refund',
      payment: succeeded,
      journal: refundJournal(succeeded.userId, succeeded.amount),
      event: {
        type: 'payment.refunded',
        data: {
          paymentId: succeeded.id,
          orderId: succeeded.orderId,
          userId: succeeded.userId,
          amount: succeeded.amount,
        },
      },
      refunded: toPayment({ ...succeeded, status: 'REFUNDED' }),
    };
  }
  const earlier = charges.find((charge) => charge.status === 'REFUNDED');
  return { action: 'none', refunded: earlier === undefined ? null : toPayment(earlier) };
}
