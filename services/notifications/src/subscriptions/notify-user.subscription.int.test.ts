// Events in, notifications out, on real PostgreSQL and a real SMTP server: the right text for the right user,
// exactly once however often a message is delivered.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { envelope, eventsFor } from '../testing/events.ts';
import {
  newUserId,
  startNotifications,
  type NotificationsFixture,
} from '../testing/notifications.fixture.ts';
import { startSmtpSink, type SmtpSink } from '../testing/smtp-sink.ts';
import { MalformedEventError } from './notify-user.subscription.ts';

describe('notify-user subscription', () => {
  let fixture: NotificationsFixture;
  let smtp: SmtpSink;
  const emailsTo = (address: string) => smtp.received.filter((email) => email.to.includes(address));

  before(async () => {
    smtp = await startSmtpSink();
    fixture = await startNotifications('notify', { env: { SOUK__SMTP__URL: smtp.url } });
  });

  after(async () => {
    await fixture.close();
    await smtp.close();
  });

  it('when the subscription is declared, then it is one group for every notifiable type', () => {
    const [subscription, ...others] = fixture.notifications.subscriptions;
    assert.equal(others.length, 0);
    assert.equal(subscription?.group, 'notifications');
    assert.deepEqual([...(subscription?.types ?? [])].sort(), [
      'order.cancelled',
      'order.confirmed',
      'order.created',
      'payment.failed',
      'payment.refunded',
      'payment.succeeded',
      'user.registered',
    ]);
  });

  it('when each event type arrives, then its user gets the right notification at the event’s time', async () => {
    const userId = newUserId();
    const orderId = randomUUID();
    const events = eventsFor(userId, orderId);
    const ref = orderId.slice(0, 8);
    const expected: Record<keyof typeof events, string> = {
      'user.registered': 'Welcome to Souk, Amina! Your account is ready.',
      'order.created': `We received your order ${ref}: 3 items, 45.00 USD.`,
      'order.confirmed': `Your order ${ref} is confirmed: 45.00 USD.`,
      'order.cancelled': `Your order ${ref} was cancelled: Out of stock.`,
      'payment.succeeded': `We received your payment of 45.00 USD for order ${ref}.`,
      'payment.failed': `Your payment of 45.00 USD for order ${ref} failed: Card declined.`,
      'payment.refunded': `We refunded 45.00 USD for order ${ref}.`,
    };
    for (const event of Object.values(events)) await fixture.handle(event);

    const stored = await fixture.stored(userId);
    assert.equal(stored.length, 7);
    for (const event of Object.values(events)) {
      const notification = stored.find((n) => n.type === event.type);
      assert.ok(notification, event.type);
      assert.equal(notification.message, expected[event.type]);
      assert.equal(notification.createdAt, event.time);
      assert.equal(notification.orderId, event.type === 'user.registered' ? undefined : orderId);
    }
    assert.deepEqual(await fixture.stored(newUserId()), []);
  });

  it('when a user registers, then their address and name are kept and a welcome email goes to them', async () => {
    const { 'user.registered': registered } = eventsFor(newUserId());
    await fixture.handle(registered);
    await fixture.notifications.email.settled();

    const { rows } = await fixture.service.db.query('SELECT email, name FROM recipients WHERE user_id = $1', [
      registered.data.userId,
    ]);
    assert.deepEqual(rows, [{ email: registered.data.email, name: 'Amina' }]);
    const emails = emailsTo(registered.data.email);
    assert.equal(emails.length, 1);
    assert.equal(emails[0]!.subject, 'Welcome to Souk');
    assert.match(emails[0]!.raw, /Welcome to Souk, Amina!/);
    const deliveries = await fixture.deliveries(registered.data.userId);
    assert.deepEqual(
      deliveries.map((d) => [d.channel, d.status, d.recipient, d.error]),
      [['email', 'sent', registered.data.email, null]],
    );
  });

  it('when a registered user’s order is confirmed, then the email has their address and the order in the subject', async () => {
    const userId = newUserId();
    const events = eventsFor(userId);
    await fixture.handle(events['user.registered']);
    await fixture.handle(events['order.confirmed']);
    await fixture.notifications.email.settled();

    const subjects = emailsTo(events['user.registered'].data.email).map((email) => email.subject);
    assert.deepEqual(subjects.sort(), [
      `Order ${events['order.confirmed'].data.orderId.slice(0, 8)} confirmed`,
      'Welcome to Souk',
    ]);
  });

  it('when the same envelope is handled twice, then there is one notification and one email', async () => {
    const userId = newUserId();
    const events = eventsFor(userId);
    await fixture.handle(events['user.registered']);
    await fixture.handle(events['order.confirmed']);
    await fixture.handle(events['order.confirmed']);
    await fixture.handle(structuredClone(events['order.confirmed']));
    await fixture.notifications.email.settled();

    const confirmed = (await fixture.stored(userId)).filter((n) => n.type === 'order.confirmed');
    assert.equal(confirmed.length, 1);
    assert.equal(emailsTo(events['user.registered'].data.email).length, 2);
  });

  it('when the same envelope is handled ten times at once, then there is one notification and one email', async () => {
    const userId = newUserId();
    const events = eventsFor(userId);
    await fixture.handle(events['user.registered']);
    await Promise.all(Array.from({ length: 10 }, () => fixture.handle(events['payment.succeeded'])));
    await fixture.notifications.email.settled();

    const paid = (await fixture.stored(userId)).filter((n) => n.type === 'payment.succeeded');
    assert.equal(paid.length, 1);
    const paymentEmails = emailsTo(events['user.registered'].data.email).filter((email) =>
      email.subject?.startsWith('Payment received'),
    );
    assert.equal(paymentEmails.length, 1);
    const sent = (await fixture.deliveries(userId)).filter((d) => d.notification_id === paid[0]!.id);
    assert.deepEqual(
      sent.map((d) => d.status),
      ['sent'],
    );
  });

  it('when the inbox has forgotten an event, then the notification table still refuses a second one', async () => {
    const userId = newUserId();
    const event = eventsFor(userId)['order.cancelled'];
    await fixture.handle(event);
    await fixture.service.db.query('DELETE FROM inbox WHERE consumer = $1 AND message_id = $2', [
      'notifications',
      event.id,
    ]);
    await fixture.handle(event);
    assert.equal((await fixture.stored(userId)).length, 1);
  });

  it('when the user’s email address is unknown, then the notification is there and no email is tried', async () => {
    const userId = newUserId();
    await fixture.handle(eventsFor(userId)['order.created']);
    await fixture.notifications.email.settled();

    assert.equal((await fixture.stored(userId)).length, 1);
    assert.deepEqual(await fixture.deliveries(userId), []);
  });

  it('when an event is malformed, then handling throws, for the transport to dead-letter, and nothing is written', async () => {
    const userId = newUserId();
    const event = eventsFor(userId)['order.confirmed'];
    await assert.rejects(
      fixture.handle({ ...event, data: { ...event.data, total: { amount: -5, currency: 'USD' } } }),
      (error) => error instanceof MalformedEventError && /total\/amount/.test(error.message),
    );
    assert.deepEqual(await fixture.stored(userId), []);
  });

  it('when an event of a type this service does not notify arrives, then it is acknowledged and ignored', async () => {
    await fixture.handle({
      ...envelope('order.confirmed', eventsFor(newUserId())['order.confirmed'].data),
      type: 'stock.reserved',
    });
  });
});
