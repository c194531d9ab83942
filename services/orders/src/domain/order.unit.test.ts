import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  cancel,
  confirm,
  evolve,
  place,
  replay,
  requestCancellation,
  type Order,
  type OrderEvent,
} from './order.ts';

const at = '2026-11-27T12:00:00.000Z';
const usd = (amount: number) => ({ amount, currency: 'USD' });
const placed = (lines = [{ productId: 'p1', quantity: 2, unitPrice: usd(1999) }]) =>
  replay(place({ orderId: 'o1', userId: 'u1', lines, at }))!;

describe('order aggregate', () => {
  it('given no order, when it is placed, then it is PENDING with lines merged and the total computed', () => {
    const order = placed([
      { productId: 'p1', quantity: 1, unitPrice: usd(500) },
      { productId: 'p2', quantity: 3, unitPrice: usd(250) },
      { productId: 'p1', quantity: 2, unitPrice: usd(500) },
    ]);
    assert.equal(order.status, 'PENDING');
    assert.deepEqual(
      order.items.map((line) => [line.productId, line.quantity]),
      [
        ['p1', 3],
        ['p2', 3],
      ],
    );
    assert.deepEqual(order.total, usd(2250));
    assert.equal(order.version, 1);
  });

  it('given lines in two currencies, when placed, then it is refused', () => {
    assert.throws(
      () =>
        place({
          orderId: 'o',
          userId: 'u',
          lines: [
            { productId: 'a', quantity: 1, unitPrice: usd(1) },
            { productId: 'b', quantity: 1, unitPrice: { amount: 1, currency: 'EUR' } },
          ],
          at,
        }),
      /one currency/,
    );
  });

  it('given a pending order, when confirmed, then CONFIRMED; confirming again is refused', () => {
    const confirmed = confirm(placed(), at).reduce<Order>(evolve, placed());
    assert.equal(confirmed.status, 'CONFIRMED');
    assert.throws(() => confirm(confirmed, at), /CONFIRMED/);
  });

  it('given a cancellation was requested, when requested again, then nothing new happens', () => {
    const order = requestCancellation(placed(), 'u1', at).reduce<Order>(evolve, placed());
    assert.equal(order.cancellationRequested, true);
    assert.deepEqual(requestCancellation(order, 'u1', at), []);
  });

  it('given a cancelled order, when cancellation is requested, then it is refused as already cancelled', () => {
    const cancelled = cancel(placed(), 'payment declined', at).reduce<Order>(evolve, placed());
    assert.equal(cancelled.status, 'CANCELLED');
    assert.equal(cancelled.reason, 'payment declined');
    assert.throws(() => requestCancellation(cancelled, 'u1', at), /already cancelled/);
    assert.deepEqual(cancel(cancelled, 'again', at), []);
  });

  it('whatever decisions are taken, the version counts the events and a terminal order stays terminal', () => {
    const decision = fc.constantFrom('confirm', 'request', 'cancel');
    fc.assert(
      fc.property(fc.array(decision, { maxLength: 12 }), (decisions) => {
        const events: OrderEvent[] = place({
          orderId: 'o',
          userId: 'u',
          lines: [{ productId: 'p', quantity: 1, unitPrice: usd(100) }],
          at,
        });
        let order = replay(events)!;
        for (const name of decisions) {
          let next: OrderEvent[];
          try {
            next =
              name === 'confirm'
                ? confirm(order, at)
                : name === 'request'
                  ? requestCancellation(order, 'u', at)
                  : cancel(order, 'because', at);
          } catch {
            continue;
          }
          const before = order.status;
          order = next.reduce<Order>(evolve, order);
          events.push(...next);
          if (before === 'CANCELLED') assert.equal(order.status, 'CANCELLED');
        }
        assert.equal(order.version, events.length);
        assert.deepEqual(replay(events), order);
      }),
    );
  });
});
