// What a user is told about an event: the in-app message and the email subject, from the event alone.
import { formatMoney } from './money.model.ts';
import type { NotifiableEvent } from './notifiable-event.model.ts';

export interface NotificationDraft {
  /** The event it comes from; one notification per event. */
  eventId: string;
  userId: string;
  type: NotifiableEvent['type'];
  subject: string;
  message: string;
  orderId?: string;
  /** The event's time. */
  createdAt: Date;
}

/** How an order is named to its owner: the first eight characters of its id, as on a receipt. */
export const orderReference = (orderId: string): string => orderId.slice(0, 8).toLowerCase();

/** A reason as a clause: trimmed, without the full stop the sentence adds itself. */
const clause = (reason: string): string => reason.trim().replace(/[.!\s]+$/u, '');

const because = (reason: string): string => {
  const text = clause(reason);
  return text === '' ? '.' : `: ${text}.`;
};

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

function texts(event: NotifiableEvent): { subject: string; message: string } {
  switch (event.type) {
    case 'user.registered':
      return {
        subject: 'Welcome to Souk',
        message: `Welcome to Souk, ${event.data.name.trim()}! Your account is ready.`,
      };
    case 'order.created': {
      const ref = orderReference(event.data.orderId);
      const units = event.data.items.reduce((sum, line) => sum + line.quantity, 0);
      return {
        subject: `Order ${ref} received`,
        message: `We received your order ${ref}: ${plural(units, 'item')}, ${formatMoney(event.data.total)}.`,
      };
    }
    case 'order.confirmed': {
      const ref = orderReference(event.data.orderId);
      return {
        subject: `Order ${ref} confirmed`,
        message: `Your order ${ref} is confirmed: ${formatMoney(event.data.total)}.`,
      };
    }
    case 'order.cancelled': {
      const ref = orderReference(event.data.orderId);
      return {
        subject: `Order ${ref} cancelled`,
        message: `Your order ${ref} was cancelled${because(event.data.reason)}`,
      };
    }
    case 'payment.succeeded': {
      const ref = orderReference(event.data.orderId);
      return {
        subject: `Payment received for order ${ref}`,
        message: `We received your payment of ${formatMoney(event.data.amount)} for order ${ref}.`,
      };
    }
    case 'payment.failed': {
      const ref = orderReference(event.data.orderId);
      return {
        subject: `Payment failed for order ${ref}`,
        message: `Your payment of ${formatMoney(event.data.amount)} for order ${ref} failed${because(event.data.reason)}`,
      };
    }
    case 'payment.refunded': {
      const ref = orderReference(event.data.orderId);
      return {
        subject: `Refund for order ${ref}`,
        message: `We refunded ${formatMoney(event.data.amount)} for order ${ref}.`,
      };
    }
  }
}

export function draftNotification(event: NotifiableEvent): NotificationDraft {
  const orderId = 'orderId' in event.data ? event.data.orderId : undefined;
  return {
    eventId: event.id,
    userId: event.data.userId,
    type: event.type,
    ...texts(event),
    ...(orderId === undefined ? {} : { orderId }),
    createdAt: new Date(event.time),
  };
}
