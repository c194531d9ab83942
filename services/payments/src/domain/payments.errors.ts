// The payments service's stable error codes, as plain data: the HTTP layer turns a rejection into a problem.
import {
  PaymentsErrorCode,
  type IdempotencyErrorCode,
  type Outcome as ContractOutcome,
  type Payment,
  type Rejection as ContractRejection,
} from '@souk/contracts';

export type Rejection = ContractRejection<
  PaymentsErrorCode | IdempotencyErrorCode,
  400 | 402 | 409 | 422 | 502 | 504
>;
export type Outcome<T> = ContractOutcome<T, Rejection>;
export { accept, refuse } from '@souk/contracts';

export const paymentInProgress = (orderId: string): Rejection => ({
  status: 409,
  code: PaymentsErrorCode.PaymentInProgress,
  detail: `Another charge for order ${orderId} is being processed under another key; retry later.`,
  extensions: { orderId },
});

export const paymentDeclined = (payment: Payment, reason: string): Rejection => ({
  status: 402,
  code: PaymentsErrorCode.PaymentDeclined,
  detail: `The card was declined: ${reason}.`,
  extensions: { payment, reason },
});

/** `payment` is the charge that went through anyway and was refunded at once, when there was one. */
export const orderClosed = (orderId: string, payment?: Payment): Rejection => ({
  status: 409,
  code: PaymentsErrorCode.OrderClosed,
  detail: `Order ${orderId} was refunded or closed; it takes no more charges.`,
  extensions: payment === undefined ? { orderId } : { orderId, payment },
});

export const orderAlreadyPaid = (orderId: string, payment?: Payment): Rejection => ({
  status: 409,
  code: PaymentsErrorCode.OrderAlreadyPaid,
  detail: `Order ${orderId} already has a successful payment.`,
  extensions: payment === undefined ? { orderId } : { orderId, payment },
});

export const processorTimeout = (timeoutMs: number): Rejection => ({
  status: 504,
  code: PaymentsErrorCode.ProcessorTimeout,
  detail: `The card processor did not answer within ${timeoutMs} ms; retry with the same Idempotency-Key.`,
});

export const processorFailed = (): Rejection => ({
  status: 502,
  code: PaymentsErrorCode.ProcessorFailed,
  detail: 'The card processor failed; retry with the same Idempotency-Key.',
});

export const invalidCard = (): Rejection => ({
  status: 400,
  code: PaymentsErrorCode.InvalidCard,
  detail: 'The card number is not valid.',
});

/** The token names no card this service keeps: a definitive no, for no retry will make the card appear. */
export const unknownCard = (): Rejection => ({
  status: 422,
  code: PaymentsErrorCode.UnknownCard,
  detail: 'The card token names no card.',
});
