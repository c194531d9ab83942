// The one place where payments' events are written. It is called inside the transaction of the state change the
// event describes, so that the event exists if and only if the change committed (the transactional outbox).
import type { Transaction } from '@souk/chassis';
import type { EventTypes } from '@souk/contracts';
import type { PaymentEventType } from '../domain/payment.model.ts';

/**
 * Records `payment.succeeded`, `payment.failed` or `payment.refunded` in `tx`. The chassis outbox is not
 * available yet; when it is, this body becomes `await outbox.add(tx, type, data, { subject: data.orderId })`.
 */
export async function recordPaymentEvent<T extends PaymentEventType>(
  _tx: Transaction,
  _type: T,
  _data: EventTypes[T],
): Promise<void> {}
