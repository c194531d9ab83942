import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { withTransaction, type Pool } from '../db.ts';
import { createTestDatabase, testPool, type TestDatabase } from '../testing.ts';
import { createEnvelope } from './envelope.ts';
import { once } from './inbox.ts';
import { createMessaging, type Messaging } from './messaging.ts';
import { eventually, recordingLogger } from './test-helpers.ts';
import type { Envelope } from './transport.ts';

describe('createMessaging on the postgres transport', () => {
  const databases: TestDatabase[] = [];
  const pools: Pool[] = [];
  const started: Messaging[] = [];
  let ordersDb: Pool;
  let notificationsDb: Pool;
  let busUrl: string;
  const { log } = recordingLogger();

  before(async () => {
    databases.push(
      ...(await Promise.all(['bus', 'orders', 'notifications'].map((name) => createTestDatabase(name)))),
    );
    busUrl = databases[0]!.url;
    ordersDb = testPool(databases[1]!.url);
    notificationsDb = testPool(databases[2]!.url);
    pools.push(ordersDb, notificationsDb);
    await ordersDb.query('CREATE TABLE orders (id text PRIMARY KEY)');
    await notificationsDb.query('CREATE TABLE notes (order_id text NOT NULL)');
  });

  after(async () => {
    await Promise.all(started.map((messaging) => messaging.close()));
    await Promise.all(pools.map((pool) => pool.end()));
    await Promise.all(databases.map((database) => database.drop()));
  });

  it('when one service commits an order with its event, then another service applies it once', async () => {
    const orders = createMessaging({
      transport: 'postgres',
      busUrl,
      db: ordersDb,
      source: 'souk/orders',
      log,
      relay: { pollIntervalMs: 100 },
      postgres: { pollIntervalMs: 100 },
    });
    const notifications = createMessaging({
      transport: 'postgres',
      busUrl,
      db: notificationsDb,
      source: 'souk/notifications',
      log,
      postgres: { pollIntervalMs: 100 },
    });
    started.push(orders, notifications);
    await notifications.subscribe({
      group: 'notifications',
      types: ['order.cancelled'],
      handle: once(notificationsDb, 'notifications', async (tx, envelope) => {
        const { orderId } = envelope.data as { orderId: string };
        await tx.query('INSERT INTO notes (order_id) VALUES ($1)', [orderId]);
      }),
    });
    await notifications.start();
    await orders.start();

    const event = await withTransaction(ordersDb, async (tx) => {
      await tx.query(`INSERT INTO orders (id) VALUES ('o-1')`);
      return orders.outbox.add(
        tx,
        'order.cancelled',
        { orderId: 'o-1', userId: 'u-1', reason: 'test' },
        { subject: 'o-1' },
      );
    });
    assert.equal(event.source, 'souk/orders');
    await eventually(
      async () => (await notificationsDb.query('SELECT 1 FROM notes')).rowCount === 1,
      'the notification service applied the event',
    );
    const { rows } = await notificationsDb.query('SELECT message_id FROM inbox');
    assert.deepEqual(rows, [{ message_id: event.id }]);
    await orders.check();
    await notifications.check();
  });

  it('when the bus refuses an event in the outbox (a lone surrogate), then it is parked and the later ones are delivered', async () => {
    await ordersDb.query('TRUNCATE outbox');
    const users = createMessaging({
      transport: 'postgres',
      busUrl,
      db: ordersDb,
      source: 'souk/users',
      log,
      relay: { pollIntervalMs: 100 },
      postgres: { pollIntervalMs: 100 },
    });
    const received: Envelope[] = [];
    const audit = createMessaging({
      transport: 'postgres',
      busUrl,
      source: 'souk/audit',
      log,
      postgres: { pollIntervalMs: 100 },
    });
    started.push(users, audit);
    await audit.subscribe({
      group: 'audit',
      types: ['test.signed-up'],
      handle: async (envelope) => void received.push(envelope),
    });
    await audit.start();
    const metrics = new Registry();
    users.registerMetrics(metrics);

    const [before, poison, after] = await withTransaction(ordersDb, async (tx) => [
      await users.outbox.add(tx, 'test.signed-up', { name: 'Ann' }),
      await users.outbox.add(tx, 'test.signed-up', { name: '\ud800' }),
      await users.outbox.add(tx, 'test.signed-up', { name: 'Bob' }),
    ]);
    await users.start();

    await eventually(() => received.length === 2, 'the events around the refused one are delivered');
    assert.deepEqual(
      received.map((e) => e.id),
      [before.id, after.id],
    );
    const { rows } = await ordersDb.query(
      'SELECT last_error FROM outbox WHERE id = $1 AND parked_at IS NOT NULL',
      [poison.id],
    );
    assert.match(rows[0]?.last_error ?? '', /invalid input syntax for type json/);
    const health = await users.check();
    assert.match(health?.degraded ?? '', /1 event\(s\) parked/);
    // Delivered events are marked published by the relay's next claim, or on their own a moment later.
    await eventually(
      async () => /^outbox_unsent_events 0$/m.test(await metrics.metrics()),
      'the delivered events are marked published',
    );
    const text = await metrics.metrics();
    assert.match(text, /^outbox_parked_events 1$/m);
    assert.match(text, /^outbox_lag_seconds 0$/m);
  });

  it("when a group's message is dead-lettered, then the metrics count it for that group", async () => {
    const failing = createMessaging({
      transport: 'postgres',
      busUrl,
      source: 'souk/failing',
      log,
      postgres: { pollIntervalMs: 100 },
    });
    started.push(failing);
    await failing.subscribe({
      group: 'failing',
      types: ['test.doomed'],
      maxAttempts: 1,
      handle: () => Promise.reject(new Error('cannot handle it')),
    });
    await failing.start();
    const metrics = new Registry();
    failing.registerMetrics(metrics);
    await failing.transport.publish([createEnvelope('test.doomed', {}, { source: 'souk/test' })]);
    await eventually(
      async () => /^messaging_dead_letters\{group="failing"\} 1$/m.test(await metrics.metrics()),
      'the dead letter is counted',
    );
    assert.equal(await failing.check(), undefined);
  });

  it('when the transport lacks its address, then createMessaging refuses to build it', () => {
    assert.throws(() => createMessaging({ transport: 'postgres', source: 'souk/x', log }), /busUrl/);
    assert.throws(() => createMessaging({ transport: 'amqp', source: 'souk/x', log }), /amqpUrl/);
  });
});
