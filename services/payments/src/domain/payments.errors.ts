// The payments service's stable error codes, as plain data: the HTTP layer turns a rejection into a problem.
import type { Outcome as ContractOutcome, Payment, Rejection as ContractRejection } from '@souk/contracts';

export type PaymentsErrorCode =
  | 'IDEMPOTENCY_KEY_REQUIRED'
  | 'IDEMPOTENCY_KEY_INVALID'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'REQUEST_IN_PROGRESS'
  | 'PAYMENT_IN_PROGRESS'
  | 'PAYMENT_DECLINED'
  | 'ORDER_CLOSED'
  | 'ORDER_ALREADY_PAID'
  | 'PROCESSOR_TIMEOUT'
  | 'PROCESSOR_FAILED';

export type Rejection = ContractRejection<PaymentsErrorCode, 400 | 402 | 409 | 422 | 502 | 504>;
export type Outcome<T> = ContractOutcome<T, Rejection>;
export { accept, refuse } from '@souk/contracts';

export const paymentInProgress = (orderId: string): Rejection => ({
  status: 409,
  code: 'PAYMENT_IN_PROGRESS',
  detail: `Another charge for order ${orderId} is being processed under another key; retry later.`,
  extensions: { orderId },
});

export const paymentDeclined = (payment: Payment, reason: string): Rejection => ({
  status: 402,
  code: 'PAYMENT_DECLINED',
  detail: `The card was declined: ${reason}.`,
  extensions: { payment, reason },
});

/** `payment` is the charge that went through anyway and was refunded at once, when there was one. */
export const orderClosed = (orderId: string, payment?: Payment): Rejection => ({
  status: 409,
  code: 'ORDER_CLOSED',
  detail: `Order ${orderId} was refunded or closed; it takes no more charges.`,
  extensions: payment === undefined ? { orderId } : { orderId, payment },
});

export const orderAlreadyPaid = (orderId: string, payment?: Payment): Rejection => ({
  status: 409,
  code: 'ORDER_ALREADY_PAID',
  detail: `Order ${orderId} already has a successful payment.`,
  extensions: payment === undefined ? { orderId } : { orderId, payment },
});

export const processorTimeout = (timeoutMs: number): Rejection => ({
  status: 504,
  code: 'PROCESSOR_TIMEOUT',
  detail: `The card processor did not answer within ${timeoutMs} ms; retry with the same Idempotency-Key.`,
});

export const processorFailed = (): Rejection => ({
  status: 502,
  code: 'PROCESSOR_FAILED',
  detail: 'The card processor failed; retry with the same Idempotency-Key.',
});
