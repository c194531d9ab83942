// The order aggregate, event-sourced: its state is a fold of its events, and each decision returns the
// events to append. Pure: no I/O, no clock, no ids of its own.
import type { Money, OrderLine } from '@souk/contracts';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';

export type OrderEvent =
  | {
      type: 'OrderPlaced';
      data: { orderId: string; userId: string; items: OrderLine[]; total: Money; at: string };
    }
  | { type: 'OrderConfirmed'; data: { at: string } }
  | { type: 'OrderCancellationRequested'; data: { by: string; at: string } }
  | { type: 'OrderCancelled'; data: { reason: string; at: string } };

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  items: OrderLine[];
  total: Money;
  reason?: string;
  cancellationRequested: boolean;
  /** How many events the order has: the expected version of the next append. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export class OrderRuleViolation extends Error {
  override name = 'OrderRuleViolation';
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export function evolve(order: Order | undefined, event: OrderEvent): Order {
  if (event.type === 'OrderPlaced') {
    const { orderId, userId, items, total, at } = event.data;
    return {
      id: orderId,
      userId,
      status: 'PENDING',
      items,
      total,
      cancellationRequested: false,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
  }
  if (order === undefined) throw new Error(`${event.type} before OrderPlaced`);
  const next = { ...order, version: order.version + 1, updatedAt: event.data.at };
  switch (event.type) {
    case 'OrderConfirmed':
      return { ...next, status: 'CONFIRMED' };
    case 'OrderCancellationRequested':
      return { ...next, cancellationRequested: true };
    case 'OrderCancelled':
      return { ...next, status: 'CANCELLED', reason: event.data.reason };
  }
}

export const replay = (events: readonly OrderEvent[]): Order | undefined =>
  events.reduce<Order | undefined>(evolve, undefined);

export interface PricedLine {
  productId: string;
  quantity: number;
  unitPrice: Money;
}

/** Places an order: lines for one product are merged, and every price must be in one currency. */
export function place(command: {
  orderId: string;
  userId: string;
  lines: readonly PricedLine[];
  at: string;
}): OrderEvent[] {
  if (command.lines.length === 0)
    throw new OrderRuleViolation('EMPTY_ORDER', 'An order needs at least one item.');
  const merged = new Map<string, PricedLine>();
  for (const line of command.lines) {
    const existing = merged.get(line.productId);
    merged.set(
      line.productId,
      existing ? { ...existing, quantity: existing.quantity + line.quantity } : { ...line },
    );
  }
  const items = [...merged.values()];
  const currencies = new Set(items.map((line) => line.unitPrice.currency));
  if (currencies.size > 1)
    throw new OrderRuleViolation('MIXED_CURRENCIES', 'All items of an order must be priced in one currency.');
  const amount = items.reduce((sum, line) => sum + line.unitPrice.amount * line.quantity, 0);
  if (!Number.isSafeInteger(amount))
    throw new OrderRuleViolation('TOTAL_TOO_LARGE', 'The order total is too large.');
  return [
    {
      type: 'OrderPlaced',
      data: {
        orderId: command.orderId,
        userId: command.userId,
        items,
        total: { amount, currency: items[0]!.unitPrice.currency },
        at: command.at,
      },
    },
  ];
}

export function confirm(order: Order, at: string): OrderEvent[] {
  if (order.status !== 'PENDING')
    throw new OrderRuleViolation('NOT_PENDING', `The order is ${order.status}.`);
  return [{ type: 'OrderConfirmed', data: { at } }];
}

/** Asking twice is not an error: the second request changes nothing. */
export function requestCancellation(order: Order, by: string, at: string): OrderEvent[] {
  if (order.status === 'CANCELLED')
    throw new OrderRuleViolation('ALREADY_CANCELLED', 'The order is already cancelled.');
  if (order.cancellationRequested) return [];
  return [{ type: 'OrderCancellationRequested', data: { by, at } }];
}

export function cancel(order: Order, reason: string, at: string): OrderEvent[] {
  if (order.status === 'CANCELLED') return [];
  return [{ type: 'OrderCancelled', data: { reason, at } }];
}
