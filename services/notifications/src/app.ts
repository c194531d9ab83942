// Notifications: tells users what happened to their account, orders and payments, in the app and by email.
import { randomUUID } from 'node:crypto';
import {
  batchedConsumeOnce,
  createService,
  type ConfigSource,
  type Service,
  type ServiceConfig,
  type Subscription,
} from '@souk/chassis';
import Type from 'typebox';
import { DeliveriesRepository } from './data/deliveries.repository.ts';
import { NotificationsRepository } from './data/notifications.repository.ts';
import { RecipientsRepository } from './data/recipients.repository.ts';
import { EmailDelivery } from './email/email-delivery.ts';
import { ConfiguredMailer, type Mailer } from './email/mailer.ts';
import { registerNotificationRoutes } from './http/notifications.routes.ts';
import { notificationSubscriptions } from './subscriptions/notify-user.subscription.ts';

export const settings = {
  smtp: Type.Object(
    {
      url: Type.Optional(
        Type.String({ description: 'e.g. smtp://127.0.0.1:2525; without it, no email is sent' }),
      ),
      from: Type.String({ default: 'Souk <no-reply@souk.local>' }),
      timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    },
    { default: {} },
  ),
  email: Type.Object(
    {
      maxAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
      retryBaseDelayMs: Type.Integer({ minimum: 1, default: 2_000 }),
      sweepIntervalMs: Type.Integer({ minimum: 100, default: 30_000 }),
    },
    { default: {} },
  ),
};

export type NotificationsConfig = ServiceConfig<typeof settings>;

export interface NotificationsOptions {
  env?: NodeJS.ProcessEnv;
  configSource?: ConfigSource;
  /** Sends the emails instead of the SMTP server in `smtp.url`; its owner closes it. */
  mailer?: Mailer;
  newId?: () => string;
  clock?: () => Date;
}

export interface Notifications {
  service: Service<NotificationsConfig>;
  /** The event handlers: `service.subscribe(subscription)` each before `service.start()`. */
  subscriptions: Subscription[];
  email: EmailDelivery;
}

export async function buildNotifications(options: NotificationsOptions = {}): Promise<Notifications> {
  const service = await createService({
    name: 'notifications',
    description: 'Tells users what happened to their account, orders and payments, in the app and by email.',
    config: settings,
    migrations: new URL('./data/migrations/', import.meta.url),
    env: options.env,
    configSource: options.configSource,
  });
  const newId = options.newId ?? randomUUID;
  const clock = options.clock ?? (() => new Date());
  try {
    const smtp = new ConfiguredMailer(() => {
      const { url, from, timeoutMs } = service.config.current.smtp;
      return url === undefined || url === '' ? undefined : { url, from, timeoutMs };
    });
    // Rebuilt as soon as the settings change, so no connection to the old server lingers.
    service.config.onChange(() => smtp.current());
    service.onClose(() => smtp.close());
    const { mailer } = options;
    const email = new EmailDelivery({
      db: service.db,
      deliveries: new DeliveriesRepository(service.db),
      mailer: mailer === undefined ? () => smtp.current() : () => mailer,
      policy: () => service.config.current.email,
      clock,
      log: service.log,
    });
    service.addWorker({ name: 'email', start: () => email.start(), stop: () => email.close() });

    const notifications = new NotificationsRepository(service.db);
    registerNotificationRoutes(service.app, notifications);
    const subscriptions = notificationSubscriptions({
      db: service.db,
      // Under load, the events that arrive together are recorded in one transaction.
      consumeOnce: batchedConsumeOnce(),
      notifications,
      recipients: new RecipientsRepository(),
      notified: (id) => email.schedule(id),
      newId,
      clock,
      log: service.log,
    });
    return { service, subscriptions, email };
  } catch (error) {
    await service.stop();
    throw error;
  }
}
