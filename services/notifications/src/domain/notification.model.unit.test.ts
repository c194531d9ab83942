// What users are told, without I/O: given an event, when it is drafted, then the text says what happened.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { eventsFor } from '../testing/events.ts';
import { draftNotification, orderReference } from './notification.model.ts';

const userId = '0b7c3f5e-8a41-4c2e-9d1a-3f6e2b8c7d10';
const orderId = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const given = eventsFor(userId, orderId);

describe('drafting a notification', () => {
  it('when a user registers, then they are welcomed by name', () => {
    const draft = draftNotification(given['user.registered']);
    assert.equal(draft.message, 'Welcome to Souk, Amina! Your account is ready.');
    assert.equal(draft.subject, 'Welcome to Souk');
    assert.equal(draft.orderId, undefined);
    assert.ok(!('orderId' in draft));
  });

  it('when an order is created, then it is acknowledged with its units and total', () => {
    const draft = draftNotification(given['order.created']);
    assert.equal(draft.message, 'We received your order 1a2b3c4d: 3 items, 45.00 USD.');
    assert.equal(draft.subject, 'Order 1a2b3c4d received');
  });

  it('when an order is confirmed, then its total is stated', () => {
    const draft = draftNotification(given['order.confirmed']);
    assert.equal(draft.message, 'Your order 1a2b3c4d is confirmed: 45.00 USD.');
    assert.equal(draft.subject, 'Order 1a2b3c4d confirmed');
  });

  it('when an order is cancelled, then the reason is given', () => {
    assert.equal(
      draftNotification(given['order.cancelled']).message,
      'Your order 1a2b3c4d was cancelled: Out of stock.',
    );
  });

  it('when the reason ends a sentence itself or is blank, then the message has exactly one full stop', () => {
    const withReason = (reason: string) =>
      draftNotification({ ...given['order.cancelled'], data: { ...given['order.cancelled'].data, reason } })
        .message;
    assert.equal(withReason('Payment declined. '), 'Your order 1a2b3c4d was cancelled: Payment declined.');
    assert.equal(withReason('   '), 'Your order 1a2b3c4d was cancelled.');
  });

  it('when payments succeed, fail or are refunded, then the amount and order are named', () => {
    assert.equal(
      draftNotification(given['payment.succeeded']).message,
      'We received your payment of 45.00 USD for order 1a2b3c4d.',
    );
    assert.equal(
      draftNotification(given['payment.failed']).message,
      'Your payment of 45.00 USD for order 1a2b3c4d failed: Card declined.',
    );
    assert.equal(
      draftNotification(given['payment.refunded']).message,
      'We refunded 45.00 USD for order 1a2b3c4d.',
    );
  });

  it('when the amount is in yen, then no decimals are invented', () => {
    const event = given['order.confirmed'];
    const draft = draftNotification({
      ...event,
      data: { ...event.data, total: { amount: 4500, currency: 'JPY' } },
    });
    assert.equal(draft.message, 'Your order 1a2b3c4d is confirmed: 4,500 JPY.');
  });

  it('when one unit is ordered, then it says "1 item"', () => {
    const event = given['order.created'];
    const line = event.data.items[0]!;
    const draft = draftNotification({ ...event, data: { ...event.data, items: [{ ...line, quantity: 1 }] } });
    assert.match(draft.message, /: 1 item, /);
  });

  it('when any event is drafted, then it is for the event’s user, of its type, at its time, about its order', () => {
    for (const event of Object.values(given)) {
      const draft = draftNotification(event);
      assert.equal(draft.eventId, event.id);
      assert.equal(draft.userId, userId);
      assert.equal(draft.type, event.type);
      assert.equal(draft.createdAt.toISOString(), event.time);
      assert.equal(draft.orderId, event.type === 'user.registered' ? undefined : orderId);
      assert.ok(draft.subject.length > 0 && !/[\r\n]/.test(draft.subject));
    }
  });

  it('when any order id is referenced, then the reference is its first eight characters in lower case', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        assert.equal(orderReference(id), id.slice(0, 8).toLowerCase());
      }),
    );
  });
});
