// The messaging plugin: the event transport the profile implies, its health and metrics; without a transport,
// events wait in the outbox.
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Pool } from '../db.ts';
import type { Health } from '../health.ts';
import type { Logger } from '../logger.ts';
import { Outbox, createMessaging, type Messaging } from '../messaging/index.ts';
import type { Closers } from './closers.ts';
import type { BaseConfig } from './config.ts';

export interface MessagingPluginOptions {
  name: string;
  config: BaseConfig;
  db: Pool | undefined;
  log: Logger;
  health: Health;
  metrics: MetricsRegistry;
  closers: Closers;
}

export function messagingPlugin(options: MessagingPluginOptions): {
  messaging: Messaging | undefined;
  outbox: Outbox;
} {
  const messaging = createServiceMessaging(options);
  if (messaging !== undefined) {
    options.closers.add(() => messaging.close());
    options.health.addCheck('messaging', () => messaging.check());
    messaging.registerMetrics(options.metrics);
  }
  return { messaging, outbox: messaging?.outbox ?? new Outbox(`souk/${options.name}`) };
}

/** The transport the profile implies, when its address is configured; none means events wait in the outbox. */
function createServiceMessaging({ name, config, db, log }: MessagingPluginOptions): Messaging | undefined {
  const { messaging, profile } = config;
  const transport = messaging.transport ?? (profile === 'distributed' ? 'amqp' : 'postgres');
  if (transport === 'postgres' && messaging.busUrl === undefined) return undefined;
  return createMessaging({
    transport,
    busUrl: messaging.busUrl,
    amqpUrl: messaging.amqpUrl,
    namespace: messaging.namespace,
    relay: messaging.relay,
    db,
    source: `souk/${name}`,
    log,
    migrate: false,
  });
}
