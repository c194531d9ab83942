// The notifications service's public API: a user's own notifications, newest first.
import Type, { type Static } from 'typebox';
import { Uuid } from './common.ts';

export const Notification = Type.Object({
  id: Uuid,
  /** The event that caused it, e.g. `order.confirmed`. */
  type: Type.String(),
  message: Type.String(),
  orderId: Type.Optional(Uuid),
  createdAt: Type.String({ format: 'date-time' }),
});
export type Notification = Static<typeof Notification>;
