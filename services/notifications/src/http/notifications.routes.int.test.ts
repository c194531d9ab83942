// GET /api/notifications end to end on real PostgreSQL: only the caller's own, newest first, a page at a time.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Notification } from '@souk/contracts';
import { envelope } from '../testing/events.ts';
import {
  newUserId,
  startNotifications,
  type NotificationsFixture,
} from '../testing/notifications.fixture.ts';

describe('notifications API', () => {
  let fixture: NotificationsFixture;
  const alice = newUserId();
  const bob = newUserId();
  /** Alice's order events, an hour apart, handled out of order. */
  const times = [3, 0, 4, 1, 2].map((hour) => new Date(Date.UTC(2030, 0, 1, hour)));

  before(async () => {
    fixture = await startNotifications('notifications_api');
    for (const time of times) {
      const orderId = randomUUID();
      await fixture.handle(
        envelope(
          'order.confirmed',
          { orderId, userId: alice, total: { amount: 1000, currency: 'EUR' } },
          { time },
        ),
      );
    }
    await fixture.handle(
      envelope('order.cancelled', { orderId: randomUUID(), userId: bob, reason: 'Changed my mind' }),
    );
  });

  after(async () => {
    await fixture.close();
  });

  it('when a user asks, then they get only their own, newest first, in the contract’s shape', async () => {
    const response = await fixture.list(alice);
    assert.equal(response.statusCode, 200);
    const body = response.json<{ items: Notification[]; nextCursor?: string }>();
    assert.equal(body.nextCursor, undefined);
    assert.deepEqual(
      body.items.map((n) => n.createdAt),
      times
        .map((t) => t.toISOString())
        .sort()
        .reverse(),
    );
    for (const item of body.items) {
      assert.deepEqual(Object.keys(item).sort(), ['createdAt', 'id', 'message', 'orderId', 'type']);
      assert.equal(item.type, 'order.confirmed');
      assert.equal(item.message, `Your order ${item.orderId!.slice(0, 8)} is confirmed: 10.00 EUR.`);
    }
    assert.deepEqual(body.items, await fixture.stored(alice));

    const bobs = (await fixture.list(bob)).json<{ items: Notification[] }>().items;
    assert.deepEqual(
      bobs.map((n) => n.type),
      ['order.cancelled'],
    );
  });

  it('when a user has no notifications, then the list is empty', async () => {
    const response = await fixture.list(newUserId());
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { items: [] });
  });

  it('when the list is walked two at a time, then every notification comes once, in order, and the last page has no cursor', async () => {
    const seen: Notification[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const response = await fixture.list(alice, cursor === undefined ? { limit: 2 } : { limit: 2, cursor });
      assert.equal(response.statusCode, 200);
      const body = response.json<{ items: Notification[]; nextCursor?: string }>();
      assert.ok(body.items.length <= 2);
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor !== undefined);
    assert.equal(pages, 3);
    assert.deepEqual(seen, await fixture.stored(alice));
  });

  it('when two notifications share a time, then paging still returns each exactly once', async () => {
    const carol = newUserId();
    const time = new Date(Date.UTC(2030, 5, 1));
    for (let i = 0; i < 5; i++) {
      await fixture.handle(
        envelope('order.cancelled', { orderId: randomUUID(), userId: carol, reason: '' }, { time }),
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const body = (
        await fixture.list(carol, cursor === undefined ? { limit: 1 } : { limit: 1, cursor })
      ).json();
      seen.push(...body.items.map((n: Notification) => n.id));
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    assert.deepEqual(
      seen,
      (await fixture.stored(carol)).map((n) => n.id),
    );
    assert.equal(new Set(seen).size, 5);
  });

  it('when another user’s cursor is used, then it only ever pages through the caller’s own', async () => {
    const first = (await fixture.list(alice, { limit: 1 })).json();
    const response = await fixture.list(bob, { cursor: first.nextCursor });
    assert.equal(response.statusCode, 200);
    for (const item of response.json().items) assert.equal(item.type, 'order.cancelled');
  });

  it('when the cursor was not issued by this service, then 400 INVALID_CURSOR', async () => {
    const response = await fixture.list(alice, { cursor: 'bm90LWEtY3Vyc29y' });
    assert.equal(response.statusCode, 400);
    assert.match(response.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(response.json().code, 'INVALID_CURSOR');
  });

  it('when the limit is outside 1..100 or an unknown parameter is given, then 400', async () => {
    const queries: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 101 },
      { limit: 'many' },
      { page: 2 },
    ];
    for (const query of queries) {
      const response = await fixture.list(alice, query);
      assert.equal(response.statusCode, 400, JSON.stringify(query));
      assert.equal(response.json().code, 'VALIDATION_FAILED');
    }
    assert.equal((await fixture.list(alice, { limit: 100 })).statusCode, 200);
  });

  it('when no identity is presented, then 401 problem+json', async () => {
    const response = await fixture.service.app.inject({ url: '/api/notifications?limit=0' });
    assert.equal(response.statusCode, 401);
    assert.match(response.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(response.json().code, 'UNAUTHORIZED');
  });

  it('when a service rather than a user calls, or the identity is forged, then 401', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const service = fixture.service.identity.sign({ kind: 'service', name: 'orders', exp });
    const forged = `${fixture.as(alice)['x-souk-identity']!.split('.')[0]}.AAAA`;
    for (const credential of [service, forged]) {
      const response = await fixture.service.app.inject({
        url: '/api/notifications',
        headers: { 'x-souk-identity': credential },
      });
      assert.equal(response.statusCode, 401);
    }
  });
});
