// Test support: the envelopes other services publish, built the way the contract says they look.
import { randomUUID } from 'node:crypto';
import type { EventEnvelope, EventTypes, Money } from '@souk/contracts';
import type { NotifiableType } from '../domain/notifiable-event.model.ts';

export function envelope<T extends NotifiableType>(
  type: T,
  data: EventTypes[T],
  options: { id?: string; time?: Date } = {},
): EventEnvelope<T, EventTypes[T]> {
  return {
    specversion: '1.0',
    id: options.id ?? randomUUID(),
    type,
    source: `souk/${type.split('.')[0]}s`,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}

const usd = (amount: number): Money => ({ amount, currency: 'USD' });

/** One envelope of each type for `userId`, about one order, in the order they would happen. */
export function eventsFor(userId: string, orderId = randomUUID(), paymentId = randomUUID()) {
  return {
    'user.registered': envelope('user.registered', { userId, email: `${userId}@example.com`, name: 'Amina' }),
    'order.created': envelope('order.created', {
      orderId,
      userId,
      items: [
        { productId: randomUUID(), quantity: 2, unitPrice: usd(1500) },
        { productId: randomUUID(), quantity: 1, unitPrice: usd(1500) },
      ],
      total: usd(4500),
    }),
    'order.confirmed': envelope('order.confirmed', { orderId, userId, total: usd(4500) }),
    'order.cancelled': envelope('order.cancelled', { orderId, userId, reason: 'Out of stock' }),
    'payment.succeeded': envelope('payment.succeeded', { paymentId, orderId, userId, amount: usd(4500) }),
    'payment.failed': envelope('payment.failed', {
      paymentId,
      orderId,
      userId,
      amount: usd(4500),
      reason: 'Card declined',
    }),
    'payment.refunded': envelope('payment.refunded', { paymentId, orderId, userId, amount: usd(4500) }),
  } satisfies { [T in NotifiableType]: EventEnvelope<T, EventTypes[T]> };
}
