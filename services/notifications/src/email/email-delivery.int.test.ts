// Email on real PostgreSQL and a real SMTP server: sent after the commit, retried a bounded number of times,
// logged attempt by attempt, never twice, and never at the cost of the in-app notification.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { withTransaction } from '@souk/chassis';
import { MemoryConfigSource } from '@souk/chassis/testing';
import type { OutgoingEmail } from './mailer.ts';
import { eventsFor } from '../testing/events.ts';
import {
  newUserId,
  startNotifications,
  type NotificationsFixture,
} from '../testing/notifications.fixture.ts';
import { startSmtpSink, type SmtpSink } from '../testing/smtp-sink.ts';

/** A port nothing listens on: an SMTP server that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const fastRetries = { SOUK__EMAIL__MAX_ATTEMPTS: '2', SOUK__EMAIL__RETRY_BASE_DELAY_MS: '10' };

describe('email delivery', () => {
  describe('when the SMTP server is down', () => {
    let fixture: NotificationsFixture;

    before(async () => {
      fixture = await startNotifications('email_down', {
        env: { ...fastRetries, SOUK__SMTP__URL: `smtp://127.0.0.1:${await closedPort()}` },
      });
    });

    after(async () => {
      await fixture.close();
    });

    it('then the in-app notification is there and the log shows each bounded attempt failed', async () => {
      const userId = newUserId();
      const events = eventsFor(userId);
      await fixture.handle(events['user.registered']);
      await fixture.notifications.email.settled();

      const [welcome] = await fixture.stored(userId);
      assert.equal(welcome?.type, 'user.registered');
      const listed = await fixture.list(userId);
      assert.equal(listed.statusCode, 200);
      assert.equal(listed.json().items.length, 1);

      const deliveries = await fixture.deliveries(userId);
      assert.deepEqual(
        deliveries.map((d) => [d.notification_id, d.channel, d.status, d.recipient]),
        [
          [welcome.id, 'email', 'failed', events['user.registered'].data.email],
          [welcome.id, 'email', 'failed', events['user.registered'].data.email],
        ],
      );
      assert.match(deliveries[0]!.error ?? '', /ECONNREFUSED|connect/i);
    });

    it('then, once the attempts are spent, another try is refused without a new attempt', async () => {
      const userId = newUserId();
      await fixture.handle(eventsFor(userId)['user.registered']);
      await fixture.notifications.email.settled();
      const [welcome] = await fixture.stored(userId);

      assert.deepEqual(await fixture.notifications.email.attempt(welcome!.id), {
        status: 'gave-up',
        failures: 2,
      });
      assert.equal((await fixture.deliveries(userId)).length, 2);
    });
  });

  describe('when the SMTP server is up', () => {
    let fixture: NotificationsFixture;
    let smtp: SmtpSink;
    let now = new Date('2030-01-01T00:00:00.000Z');
    const source = new MemoryConfigSource({});
    const emailsTo = (address: string) => smtp.received.filter((email) => email.to.includes(address));

    before(async () => {
      smtp = await startSmtpSink();
      fixture = await startNotifications('email_up', {
        env: fastRetries,
        configSource: source,
        clock: () => now,
      });
    });

    after(async () => {
      await fixture.close();
      await smtp.close();
    });

    const configureSmtp = async (url: string | undefined) => {
      source.set(url === undefined ? {} : { smtp: { url } });
      const deadline = Date.now() + 2000;
      while (fixture.service.config.current.smtp.url !== url) {
        if (Date.now() > deadline) throw new Error('the configuration did not change');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    it('when no server was configured yet, then the sweep sends what is due once one is', async () => {
      await configureSmtp(undefined);
      const userId = newUserId();
      const registered = eventsFor(userId)['user.registered'];
      await fixture.handle(registered);
      await fixture.notifications.email.settled();
      assert.deepEqual(await fixture.deliveries(userId), []);

      await configureSmtp(smtp.url);
      assert.equal(await fixture.notifications.email.sweep(), 0, 'too recent: left to the in-process path');
      now = new Date(now.getTime() + 60_000);
      assert.equal(await fixture.notifications.email.sweep(), 1);
      assert.equal(await fixture.notifications.email.sweep(), 0);

      assert.equal(emailsTo(registered.data.email).length, 1);
      assert.deepEqual(
        (await fixture.deliveries(userId)).map((d) => d.status),
        ['sent'],
      );
    });

    it('when the server refuses once, then the retry sends it and the log holds both attempts', async () => {
      await configureSmtp(smtp.url);
      const userId = newUserId();
      const registered = eventsFor(userId)['user.registered'];
      smtp.refuseNext(1);
      await fixture.handle(registered);
      await fixture.notifications.email.settled();

      assert.equal(emailsTo(registered.data.email).length, 1);
      const deliveries = await fixture.deliveries(userId);
      assert.deepEqual(
        deliveries.map((d) => d.status),
        ['failed', 'sent'],
      );
      assert.match(deliveries[0]!.error ?? '', /451|Try again later/);
    });

    it('when a sent notification is tried again, even many times at once, then nothing more is sent', async () => {
      await configureSmtp(smtp.url);
      const userId = newUserId();
      const registered = eventsFor(userId)['user.registered'];
      await fixture.handle(registered);
      await fixture.notifications.email.settled();
      const [welcome] = await fixture.stored(userId);

      const results = await Promise.all(
        Array.from({ length: 5 }, () => fixture.notifications.email.attempt(welcome!.id)),
      );
      assert.ok(results.every((result) => ['already-sent', 'unavailable'].includes(result.status)));
      now = new Date(now.getTime() + 60_000);
      await fixture.notifications.email.sweep();
      assert.equal(emailsTo(registered.data.email).length, 1);
      assert.equal((await fixture.deliveries(userId)).length, 1);
    });

    it('when the server address changes, then the next email goes to the new server', async () => {
      const second = await startSmtpSink();
      try {
        await configureSmtp(second.url);
        const registered = eventsFor(newUserId())['user.registered'];
        await fixture.handle(registered);
        await fixture.notifications.email.settled();
        assert.equal(second.received.filter((e) => e.to.includes(registered.data.email)).length, 1);
        assert.equal(emailsTo(registered.data.email).length, 0);
      } finally {
        await configureSmtp(smtp.url);
        await second.close();
      }
    });
  });

  describe('when a mailer is given instead of an SMTP server', () => {
    let fixture: NotificationsFixture;
    const sent: Array<OutgoingEmail & { committed: boolean }> = [];
    const whileSending: string[] = [];

    before(async () => {
      fixture = await startNotifications('email_mailer', {
        mailer: {
          async send(email) {
            // Seen from another connection: only true once the notification's transaction committed.
            const { rowCount } = await fixture.service.db.query(
              'SELECT 1 FROM notifications n JOIN recipients r USING (user_id) WHERE r.email = $1',
              [email.to],
            );
            sent.push({ ...email, committed: rowCount === 1 });
            // Another session can lock the notification meanwhile: no sender holds a transaction over the SMTP I/O.
            const locked = await withTransaction(fixture.service.db, async (tx) => {
              const { rows } = await tx.query(
                `SELECT n.id FROM notifications n JOIN recipients r USING (user_id)
                  WHERE r.email = $1 FOR UPDATE OF n NOWAIT`,
                [email.to],
              );
              return `locked ${rows.length}`;
            }).catch((error: unknown) => (error as Error).message);
            whileSending.push(locked);
          },
          close() {},
        },
      });
    });

    after(async () => {
      await fixture.close();
    });

    it('then it sends each notification, and only after the notification committed', async () => {
      const registered = eventsFor(newUserId())['user.registered'];
      await fixture.handle(registered);
      await fixture.notifications.email.settled();

      assert.deepEqual(sent, [
        {
          to: registered.data.email,
          subject: 'Welcome to Souk',
          text: 'Welcome to Souk, Amina! Your account is ready.',
          committed: true,
        },
      ]);
    });

    it('then no transaction stays open while the mail server is talked to', async () => {
      whileSending.length = 0;
      const registered = eventsFor(newUserId())['user.registered'];
      await fixture.handle(registered);
      await fixture.notifications.email.settled();
      assert.deepEqual(whileSending, ['locked 1']);
    });
  });
});
