// Events at the door, without I/O: well-formed ones pass as they are; anything else is named and refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventEnvelope } from '@souk/contracts';
import { eventsFor } from '../testing/events.ts';
import { NOTIFIABLE_TYPES, parseNotifiableEvent } from './notifiable-event.model.ts';

const given = eventsFor('0b7c3f5e-8a41-4c2e-9d1a-3f6e2b8c7d10');

describe('parsing an event', () => {
  it('when each notifiable type arrives well formed, then it is accepted unchanged', () => {
    assert.deepEqual([...NOTIFIABLE_TYPES].sort(), Object.keys(given).sort());
    for (const event of Object.values(given)) {
      const parsed = parseNotifiableEvent(event);
      assert.ok(parsed.ok, event.type);
      assert.equal(parsed.event, event);
    }
  });

  it('when a producer adds a field, then the event is still accepted', () => {
    const event = given['order.confirmed'];
    assert.ok(parseNotifiableEvent({ ...event, data: { ...event.data, channel: 'web' } }).ok);
  });

  it('when the type is not one this service notifies, then it says so rather than calling it malformed', () => {
    const parsed = parseNotifiableEvent({ ...given['order.confirmed'], type: 'stock.reserved' });
    assert.deepEqual(parsed.ok ? undefined : parsed.reason, 'UNSUBSCRIBED_TYPE');
  });

  it('when the data or envelope is malformed, then it is refused with the field named', () => {
    const event = given['order.confirmed'];
    const cases: Array<[EventEnvelope, RegExp]> = [
      [{ ...event, data: { ...event.data, userId: 'not-a-uuid' } }, /\/userId/],
      [{ ...event, data: { ...event.data, total: { amount: 1.5, currency: 'USD' } } }, /\/total\/amount/],
      [{ ...event, data: { orderId: event.data.orderId } }, /userId|total/],
      [{ ...event, data: null }, /data/],
      [{ ...event, time: 'yesterday' }, /\/time/],
      [{ ...event, id: '' }, /\/id/],
    ];
    for (const [envelope, field] of cases) {
      const parsed = parseNotifiableEvent(envelope);
      assert.equal(parsed.ok, false, JSON.stringify(envelope));
      if (!parsed.ok) {
        assert.equal(parsed.reason, 'MALFORMED_EVENT');
        assert.match(parsed.detail, field);
      }
    }
  });
});
