// Reservations: how stock is held for an order (all items or none), and the life of a reservation.
import type { Money, ReservationStatus } from '@souk/contracts';
import {
  accept,
  insufficientStock,
  mixedCurrencies,
  refuse,
  reservationReleased,
  unknownProduct,
  type Outcome,
} from './inventory.errors.ts';

export interface Line {
  readonly productId: string;
  readonly quantity: number;
}

export interface ReservedItem extends Line {
  readonly unitPrice: Money;
}

/** A product as a reservation sees it: what can be taken, at what price. */
export interface StockLevel {
  readonly id: string;
  readonly available: number;
  readonly price: Money;
}

/** One line per product, quantities summed, in the order each product first appeared. */
export function mergeLines(lines: readonly Line[]): Line[] {
  const totals = new Map<string, number>();
  for (const { productId, quantity } of lines) {
    const key = productId.toLowerCase();
    totals.set(key, (totals.get(key) ?? 0) + quantity);
  }
  return [...totals].map(([productId, quantity]) => ({ productId, quantity }));
}

/** Whether two requests for the same reservation ask for the same stock, whatever the order of their lines. */
export function sameLines(a: readonly Line[], b: readonly Line[]): boolean {
  const left = mergeLines(a);
  const right = new Map(mergeLines(b).map((line) => [line.productId, line.quantity]));
  return left.length === right.size && left.every((line) => right.get(line.productId) === line.quantity);
}

/**
 * Decides a reservation against the current stock: every product known, one currency, enough of each.
 * `lines` must be merged; the items keep their order and capture today's price.
 */
export function planReservation(
  lines: readonly Line[],
  stock: readonly StockLevel[],
): Outcome<ReservedItem[]> {
  const byId = new Map(stock.map((level) => [level.id.toLowerCase(), level]));
  const levels: StockLevel[] = [];
  for (const line of lines) {
    const level = byId.get(line.productId.toLowerCase());
    if (level === undefined) return refuse(unknownProduct(line.productId));
    levels.push(level);
  }
  const currencies = [...new Set(levels.map((level) => level.price.currency))];
  if (currencies.length > 1) return refuse(mixedCurrencies(currencies.sort()));
  const items: ReservedItem[] = [];
  for (const [index, line] of lines.entries()) {
    const level = levels[index]!;
    if (level.available < line.quantity) {
      return refuse(insufficientStock(line.productId, line.quantity, level.available));
    }
    items.push({ productId: line.productId, quantity: line.quantity, unitPrice: level.price });
  }
  return accept(items);
}

/** Committing turns held stock into sold stock; a released reservation has nothing left to commit. */
export function commitTransition(
  reservationId: string,
  status: ReservationStatus,
): Outcome<{ status: 'COMMITTED'; changed: boolean }> {
  if (status === 'RELEASED') return refuse(reservationReleased(reservationId));
  return accept({ status: 'COMMITTED', changed: status === 'RESERVED' });
}

/**
 * Releasing always ends RELEASED; stock goes back only the first time. A committed reservation can be
 * released too: that is how a confirmed order that is cancelled gets its stock back.
 */
export function releaseTransition(status: ReservationStatus): { status: 'RELEASED'; returnsStock: boolean } {
  return { status: 'RELEASED', returnsStock: status !== 'RELEASED' };
}
