// The subscription wired as main.ts wires it, behind the local profile's PostgreSQL transport: events a producer
// publishes, duplicates included, become one notification each and one email each.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { activeTraceId, PostgresTransport } from '@souk/chassis';
import { createTestDatabase, type TestDatabase } from '@souk/chassis/testing';
import { eventsFor } from '../testing/events.ts';
import {
  newUserId,
  startNotifications,
  type NotificationsFixture,
} from '../testing/notifications.fixture.ts';
import { startSmtpSink, type SmtpSink } from '../testing/smtp-sink.ts';

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('notify-user subscription on the PostgreSQL transport', () => {
  let bus: TestDatabase;
  let smtp: SmtpSink;
  let fixture: NotificationsFixture;
  let producer: PostgresTransport;

  before(async () => {
    bus = await createTestDatabase('notify_bus');
    smtp = await startSmtpSink();
    fixture = await startNotifications('notify_transport', {
      env: { SOUK__MESSAGING__BUS_URL: bus.url, SOUK__SMTP__URL: smtp.url },
    });
    for (const subscription of fixture.notifications.subscriptions) fixture.service.subscribe(subscription);
    await fixture.service.start();
    producer = new PostgresTransport({ url: bus.url, log: fixture.service.log });
  });

  after(async () => {
    await producer.close();
    await fixture.close();
    await smtp.close();
    await bus.drop();
  });

  it('when events are published, one of them twice, then each makes one notification and one email', async () => {
    const userId = newUserId();
    const events = eventsFor(userId);
    await producer.publish([events['user.registered']]);
    // Different producers' events come in no set order; here the address is known before the orders' events.
    await eventually(async () => (await fixture.stored(userId)).length === 1);
    await producer.publish([events['order.confirmed'], events['payment.succeeded']]);
    await producer.publish([events['order.confirmed']]);

    await eventually(async () => (await fixture.stored(userId)).length === 3);
    await eventually(async () => (await fixture.deliveries(userId)).length === 3);
    await fixture.notifications.email.settled();

    const stored = await fixture.stored(userId);
    assert.deepEqual(stored.map((n) => n.type).sort(), [
      'order.confirmed',
      'payment.succeeded',
      'user.registered',
    ]);
    const address = events['user.registered'].data.email;
    assert.equal(smtp.received.filter((email) => email.to.includes(address)).length, 3);
    const listed = await fixture.list(userId);
    assert.equal(listed.json().items.length, 3);
  });
});

describe('notify-user subscription and the trace', () => {
  let bus: TestDatabase;
  let fixture: NotificationsFixture;
  let producer: PostgresTransport;
  const traces: Array<string | undefined> = [];

  before(async () => {
    bus = await createTestDatabase('notify_trace_bus');
    fixture = await startNotifications('notify_trace', {
      env: { SOUK__MESSAGING__BUS_URL: bus.url },
      mailer: {
        async send() {
          traces.push(activeTraceId());
        },
        close() {},
      },
    });
    for (const subscription of fixture.notifications.subscriptions) fixture.service.subscribe(subscription);
    await fixture.service.start();
    producer = new PostgresTransport({ url: bus.url, log: fixture.service.log });
  });

  after(async () => {
    await producer.close();
    await fixture.close();
    await bus.drop();
  });

  it("when an event carries the publisher's traceparent, then the work it causes runs in that trace", async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const registered = {
      ...eventsFor(newUserId())['user.registered'],
      traceparent: `00-${traceId}-b7ad6b7169203331-01`,
    };
    await producer.publish([registered]);
    await eventually(async () => traces.length === 1);
    assert.deepEqual(traces, [traceId]);
  });
});
