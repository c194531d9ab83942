// Event types, past tense. The envelope follows CloudEvents 1.0 (id, type, source, time, data), with the W3C
// trace context carried beside the data.
import type { Money } from './common.ts';

export interface EventEnvelope<TType extends string = string, TData = unknown> {
  specversion: '1.0';
  /** Unique per event; consumers deduplicate on it (the inbox). */
  id: string;
  type: TType;
  /** The publishing service, e.g. `souk/orders`. */
  source: string;
  time: string;
  /** The entity the event is about, e.g. the order id. */
  subject?: string;
  datacontenttype: 'application/json';
  traceparent?: string;
  data: TData;
}

export interface OrderLine {
  productId: string;
  quantity: number;
  unitPrice: Money;
}

export interface EventTypes {
  'user.registered': { userId: string; email: string; name: string };
  'order.created': { orderId: string; userId: string; items: OrderLine[]; total: Money };
  'order.confirmed': { orderId: string; userId: string; total: Money };
  'order.cancelled': { orderId: string; userId: string; reason: string };
  'payment.succeeded': { paymentId: string; orderId: string; userId: string; amount: Money };
  'payment.failed': { paymentId: string; orderId: string; userId: string; amount: Money; reason: string };
  'payment.refunded': { paymentId: string; orderId: string; userId: string; amount: Money };
  'stock.reserved': { reservationId: string; items: { productId: string; quantity: number }[] };
  'stock.released': { reservationId: string; items: { productId: string; quantity: number }[] };
}
export type EventType = keyof EventTypes;
export type Event<T extends EventType = EventType> = EventEnvelope<T, EventTypes[T]>;
