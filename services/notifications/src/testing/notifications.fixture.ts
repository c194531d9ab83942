// Test support: a notifications service on a throwaway database, and ways to read what it told whom.
import { randomUUID } from 'node:crypto';
import type { ConfigSource, Service } from '@souk/chassis';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import type { EventEnvelope, Notification } from '@souk/contracts';
import type { LightMyRequestResponse } from 'fastify';
import { buildNotifications, type Notifications, type NotificationsConfig } from '../app.ts';
import type { Mailer } from '../email/mailer.ts';

export interface DeliveryRow {
  notification_id: string;
  channel: string;
  status: 'sent' | 'failed';
  recipient: string;
  error: string | null;
}

export interface NotificationsFixture {
  notifications: Notifications;
  service: Service<NotificationsConfig>;
  database: TestDatabase;
  /** What the transport would do with a message for the notifications group. */
  handle(envelope: EventEnvelope): Promise<void>;
  /** `x-souk-identity` header of a customer. */
  as(userId: string): Record<string, string>;
  list(userId: string, query?: Record<string, string | number>): Promise<LightMyRequestResponse>;
  /** Every notification of the user, read from the table, newest first. */
  stored(userId: string): Promise<Notification[]>;
  deliveries(userId: string): Promise<DeliveryRow[]>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  env?: NodeJS.ProcessEnv;
  configSource?: ConfigSource;
  mailer?: Mailer;
  clock?: () => Date;
}

export async function startNotifications(
  label: string,
  options: FixtureOptions = {},
): Promise<NotificationsFixture> {
  const database = await createTestDatabase(label);
  const notifications = await buildNotifications({
    env: { ...testEnvironment(database.url), ...options.env },
    ...(options.configSource === undefined ? {} : { configSource: options.configSource }),
    ...(options.mailer === undefined ? {} : { mailer: options.mailer }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const { service } = notifications;
  await service.app.ready();
  const [subscription] = notifications.subscriptions;
  if (subscription === undefined) throw new Error('no subscription');
  const exp = Math.floor(Date.now() / 1000) + 600;
  const as = (userId: string) => ({
    'x-souk-identity': service.identity.sign({ kind: 'user', sub: userId, role: 'customer', exp }),
  });
  return {
    notifications,
    service,
    database,
    handle: (envelope) => subscription.handle(envelope),
    as,
    list: (userId, query = {}) =>
      service.app.inject({
        url: '/api/notifications',
        query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
        headers: as(userId),
      }),
    async stored(userId) {
      const { rows } = await service.db.query<{
        id: string;
        type: string;
        message: string;
        order_id: string | null;
        created_at: Date;
      }>(
        `SELECT id, type, message, order_id, created_at FROM notifications WHERE user_id = $1
         ORDER BY created_at DESC, id DESC`,
        [userId],
      );
      return rows.map((row) => ({
        id: row.id,
        type: row.type,
        message: row.message,
        ...(row.order_id === null ? {} : { orderId: row.order_id }),
        createdAt: row.created_at.toISOString(),
      }));
    },
    async deliveries(userId) {
      const { rows } = await service.db.query<DeliveryRow>(
        `SELECT d.notification_id, d.channel, d.status, d.recipient, d.error
         FROM deliveries d JOIN notifications n ON n.id = d.notification_id
         WHERE n.user_id = $1 ORDER BY d.id`,
        [userId],
      );
      return rows;
    },
    async close() {
      await service.stop();
      await database.drop();
    },
  };
}

export const newUserId = (): string => randomUUID();
