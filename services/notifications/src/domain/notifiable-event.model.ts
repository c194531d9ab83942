// The events this service turns into notifications, checked at the door: a producer's message is data from
// another process, so its shape is verified before anything is written.
import { Money, Uuid, type EventEnvelope, type EventType, type EventTypes } from '@souk/contracts';
import Type, { type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';

export type NotifiableType = Exclude<EventType, 'stock.reserved' | 'stock.released'>;

export type NotifiableEvent = {
  [T in NotifiableType]: EventEnvelope<T, EventTypes[T]>;
}[NotifiableType];

const Text = Type.String({ minLength: 1, maxLength: 1000 });
const OrderLine = Type.Object({ productId: Uuid, quantity: Type.Integer({ minimum: 1 }), unitPrice: Money });

// Open objects: a producer may add fields without breaking this consumer (tolerant reader).
const DATA = {
  'user.registered': Type.Object({
    userId: Uuid,
    email: Type.String({ minLength: 3, maxLength: 320 }),
    name: Text,
  }),
  'order.created': Type.Object({ orderId: Uuid, userId: Uuid, items: Type.Array(OrderLine), total: Money }),
  'order.confirmed': Type.Object({ orderId: Uuid, userId: Uuid, total: Money }),
  'order.cancelled': Type.Object({ orderId: Uuid, userId: Uuid, reason: Type.String({ maxLength: 1000 }) }),
  'payment.succeeded': Type.Object({ paymentId: Uuid, orderId: Uuid, userId: Uuid, amount: Money }),
  'payment.failed': Type.Object({
    paymentId: Uuid,
    orderId: Uuid,
    userId: Uuid,
    amount: Money,
    reason: Type.String({ maxLength: 1000 }),
  }),
  'payment.refunded': Type.Object({ paymentId: Uuid, orderId: Uuid, userId: Uuid, amount: Money }),
} satisfies Record<NotifiableType, TSchema>;

/** Each type whose schema admits only data its contract allows; a drift between the two fails to compile. */
type Agreeing = {
  [T in NotifiableType]: Static<(typeof DATA)[T]> extends EventTypes[T] ? T : never;
}[NotifiableType];

export const NOTIFIABLE_TYPES: readonly Agreeing[] = Object.keys(DATA) as NotifiableType[];

const Envelope = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.String(),
  time: Type.String({ format: 'date-time' }),
  data: Type.Unknown(),
});

const isNotifiableType = (type: string): type is NotifiableType => Object.hasOwn(DATA, type);

export type Parsed =
  | { ok: true; event: NotifiableEvent }
  | { ok: false; reason: 'UNSUBSCRIBED_TYPE' | 'MALFORMED_EVENT'; detail: string };

export function parseNotifiableEvent(envelope: EventEnvelope): Parsed {
  const malformed = (detail: string): Parsed => ({ ok: false, reason: 'MALFORMED_EVENT', detail });
  if (!Value.Check(Envelope, envelope)) return malformed(firstError(Envelope, envelope));
  if (!isNotifiableType(envelope.type)) {
    return { ok: false, reason: 'UNSUBSCRIBED_TYPE', detail: `${envelope.type} is not notified.` };
  }
  const schema = DATA[envelope.type];
  if (!Value.Check(schema, envelope.data)) return malformed(`data${firstError(schema, envelope.data)}`);
  return { ok: true, event: envelope as NotifiableEvent };
}

function firstError(schema: TSchema, value: unknown): string {
  const [error] = Value.Errors(schema, value);
  return error === undefined ? ' is invalid' : `${error.instancePath} ${error.message}`;
}
