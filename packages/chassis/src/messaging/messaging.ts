// One call wires a service's reliable messaging: the transport its profile uses, the outbox and its relay in
// the service's database, the inbox tables, and the service's subscriptions.
import { Gauge, type Registry } from 'prom-client';
import { migrate, type Pool } from '../db.ts';
import type { Logger } from '../logger.ts';
import { AmqpTransport, type AmqpTransportOptions } from './amqp.transport.ts';
import {
  MESSAGING_MIGRATIONS,
  Outbox,
  OutboxRelay,
  outboxStats,
  type OutboxRelayOptions,
  type OutboxStats,
} from './outbox.ts';
import { PostgresTransport, type PostgresTransportOptions } from './postgres.transport.ts';
import type { MessageTransport, Subscription } from './transport.ts';

export interface MessagingOptions {
  /** `postgres` in the local profile (the `bus` database), `amqp` (RabbitMQ) in the distributed one. */
  transport: 'postgres' | 'amqp';
  /** The bus database, for the `postgres` transport. */
  busUrl?: string;
  /** The broker, for the `amqp` transport, e.g. `amqp://guest:guest@127.0.0.1:5672`. */
  amqpUrl?: string;
  /** The service's own database: where the outbox and inbox live. Without it, no relay runs. */
  db?: Pool;
  /** The publishing service, e.g. `souk/orders`: every event's `source`. */
  source: string;
  log: Logger;
  /** Prefix of the RabbitMQ exchanges and queues; default `souk`. */
  namespace?: string;
  relay?: Omit<OutboxRelayOptions, 'db' | 'transport' | 'log'>;
  postgres?: Omit<PostgresTransportOptions, 'url' | 'pool' | 'log'>;
  amqp?: Omit<AmqpTransportOptions, 'url' | 'log' | 'namespace'>;
  /** Whether start() applies the outbox and inbox migrations; off when the caller already did (createService). */
  migrate?: boolean;
  clock?: () => Date;
}

export interface Messaging {
  readonly transport: MessageTransport;
  /** `outbox.add(tx, type, data)` inside the transaction that changes the state the event announces. */
  readonly outbox: Outbox;
  /** Publishes the outbox; only when the service has a database. */
  readonly relay: OutboxRelay | undefined;
  /** The subscriber groups this service consumes as. */
  groups(): string[];
  /** Registers a subscription; it consumes from `start()` on, or at once when already started. */
  subscribe(subscription: Subscription): Promise<void>;
  /** Migrates the messaging tables, connects, starts consuming and relaying. */
  start(): Promise<void>;
  /**
   * For /health/ready: throws while the broker is unreachable; resolves `{ degraded }` while the relay has
   * parked events or stalled (the instance stays ready: another one would fare no better).
   */
  check(): Promise<{ degraded: string } | undefined>;
  /**
   * Adds the messaging gauges to `registry`, read at each scrape: `outbox_lag_seconds`, `outbox_unsent_events`,
   * `outbox_parked_events` (with a database) and `messaging_dead_letters` per subscribed group.
   */
  registerMetrics(registry: Registry): void;
  /** Stops relaying, lets running handlers finish, closes the transport. */
  close(): Promise<void>;
}

export function createMessaging(options: MessagingOptions): Messaging {
  const { db, log } = options;
  const transport = createTransport(options);
  const outbox = new Outbox(options.source, { clock: options.clock });
  const relay = db === undefined ? undefined : new OutboxRelay({ ...options.relay, db, transport, log });
  const subscriptions: Subscription[] = [];
  let started = false;

  return {
    transport,
    outbox,
    relay,
    groups: () => [...new Set(subscriptions.map((subscription) => subscription.group))],
    async subscribe(subscription) {
      subscriptions.push(subscription);
      if (started) await transport.subscribe(subscription);
    },
    async start() {
      if (started) return;
      if (db !== undefined && options.migrate !== false) {
        const applied = await migrate(db, MESSAGING_MIGRATIONS);
        if (applied.length > 0) log.info({ applied }, 'messaging tables migrated');
      }
      await transport.start?.();
      started = true;
      for (const subscription of subscriptions) await transport.subscribe(subscription);
      relay?.start();
    },
    async check() {
      await transport.check();
      const degraded = await relay?.degradation();
      return degraded === undefined ? undefined : { degraded };
    },
    registerMetrics(registry) {
      registerMessagingMetrics(registry, {
        outbox: db === undefined ? undefined : cachedFor(1000, () => outboxStats(db)),
        transport,
        groups: () => [...new Set(subscriptions.map((subscription) => subscription.group))],
        log,
      });
    },
    async close() {
      await relay?.stop();
      await transport.close();
    },
  };
}

function createTransport(options: MessagingOptions): MessageTransport {
  if (options.transport === 'postgres') {
    if (options.busUrl === undefined)
      throw new Error('the postgres transport needs busUrl (the bus database)');
    return new PostgresTransport({ ...options.postgres, url: options.busUrl, log: options.log });
  }
  if (options.amqpUrl === undefined) throw new Error('the amqp transport needs amqpUrl');
  return new AmqpTransport({
    ...options.amqp,
    url: options.amqpUrl,
    namespace: options.namespace,
    log: options.log,
  });
}

function registerMessagingMetrics(
  registry: Registry,
  sources: {
    outbox: (() => Promise<OutboxStats>) | undefined;
    transport: MessageTransport;
    groups: () => string[];
    log: Logger;
  },
): void {
  const { outbox, transport, groups, log } = sources;
  if (outbox !== undefined) {
    const gauge = (name: string, help: string, read: (stats: OutboxStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          this.set(read(await outbox()));
        },
      });
    gauge('outbox_lag_seconds', 'Age of the oldest unsent outbox event, in seconds.', (s) => s.lagSeconds);
    gauge('outbox_unsent_events', 'Outbox events not published yet (parked ones excluded).', (s) => s.unsent);
    gauge('outbox_parked_events', 'Outbox events the broker refused for good.', (s) => s.parked);
  }
  new Gauge({
    name: 'messaging_dead_letters',
    help: "Messages in a subscriber group's dead letters.",
    labelNames: ['group'],
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        groups().map(async (group) => {
          try {
            this.set({ group }, await transport.deadLetterCount(group));
          } catch (error) {
            // Left out of this scrape: the broker is away, which the health check reports.
            log.debug({ err: error, group }, 'could not count dead letters');
          }
        }),
      );
    },
  });
}

/** One query per scrape however many gauges read it. */
function cachedFor<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (last === undefined || Date.now() - last.at > ms) {
      last = { at: Date.now(), value: read() };
      last.value.catch(() => (last = undefined));
    }
    return last.value;
  };
}
