// The distributed profile's broker: RabbitMQ over AMQP 0-9-1. Events go to a durable topic exchange with the
// event type as routing key, on a confirm channel; each subscriber group has a durable quorum queue bound to
// its types, whose delivery limit dead-letters a message that keeps failing into `<namespace>.<group>.dead`.
// A lost connection is re-established with backoff, the topology declared again and every subscription
// resumed; while it is down, publish rejects (the outbox keeps the events) and check() fails.
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { amqplib } from '../heavy-modules.ts';
import type { Logger } from '../logger.ts';
import { backoffDelay, settlesWithin, withTimeout, type BackoffPolicy } from '@souk/kit';
import {
  resolveSubscription,
  runHandler,
  serialise,
  UnpublishableMessageError,
  type DeadLetter,
  type Envelope,
  type MessageTransport,
  type ResolvedSubscription,
  type Subscription,
} from './transport.ts';
import { sleep } from './wakeups.ts';

export interface AmqpTransportOptions {
  /** e.g. `amqp://guest:guest@127.0.0.1:5672`; a `heartbeat` query parameter defaults to 10 s. */
  url: string;
  log: Logger;
  /** Prefixes every exchange and queue name; default `souk`. */
  namespace?: string;
  /** How this process's connection is named in the broker's tools; default `<namespace>:<pid>`. */
  connectionName?: string;
  /** Backoff between reconnection attempts; default 200 ms doubling up to 10 s. */
  reconnect?: BackoffPolicy;
  /** Delay before a failed message is returned for redelivery; default 1 s doubling up to 30 s. */
  retry?: BackoffPolicy;
  /** A publish not confirmed by then rejects; default 10 s. */
  publishTimeoutMs?: number;
  /** How long `close()` waits for running handlers; the rest are redelivered by the broker. Default 10 s. */
  closeTimeoutMs?: number;
  /**
   * A larger message is refused before it is sent (`UnpublishableMessageError`), instead of the broker closing
   * the publish channel over it on every retry; default 16 MiB, RabbitMQ 4's `max_message_size`.
   */
  maxMessageBytes?: number;
}

/** Thrown by publish while the broker is unreachable: the caller keeps the events and retries later. */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
}

/** The exchange and queue names a namespace uses, for operators and tests. */
export function amqpTopology(namespace: string) {
  return {
    exchange: `${namespace}.events`,
    deadLetterExchange: `${namespace}.dead-letter`,
    queue: (group: string) => `${namespace}.${group}`,
    deadLetterQueue: (group: string) => `${namespace}.${group}.dead`,
  };
}

interface Live {
  connection: ChannelModel;
  publisher: ConfirmChannel;
  consumers: Map<ResolvedSubscription, { channel: Channel; consumerTag: string }>;
}

interface Registered {
  subscription: ResolvedSubscription;
  /** Settles when the subscription first consumes (or fails to declare); later reconnects resume it. */
  ready: PromiseWithResolvers<void>;
  established: boolean;
}

type State = 'idle' | 'connecting' | 'open' | 'waiting' | 'closed';

/** Errors the broker raises for a declaration that will never succeed as it stands (access, arguments). */
const PERMANENT_CHANNEL_ERRORS = new Set([403, 404, 405, 406]);

export class AmqpTransport implements MessageTransport {
  readonly name = 'amqp' as const;
  readonly #url: string;
  readonly #log: Logger;
  readonly #topology: ReturnType<typeof amqpTopology>;
  readonly #connectionName: string;
  readonly #reconnect: BackoffPolicy;
  readonly #retry: BackoffPolicy;
  readonly #publishTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #maxMessageBytes: number;
  readonly #subscriptions: Registered[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #closing = new AbortController();
  readonly #whenOpen: PromiseWithResolvers<void>[] = [];
  #state: State = 'idle';
  #live: Live | undefined;
  #connecting: Promise<void> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #lastError: unknown;

  constructor(options: AmqpTransportOptions) {
    const url = new URL(options.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', '10');
    this.#url = url.toString();
    this.#log = options.log;
    const namespace = options.namespace ?? 'souk';
    this.#topology = amqpTopology(namespace);
    this.#connectionName = options.connectionName ?? `${namespace}:${process.pid}`;
    this.#reconnect = options.reconnect ?? { baseDelayMs: 200, maxDelayMs: 10_000 };
    this.#retry = options.retry ?? { baseDelayMs: 1000, maxDelayMs: 30_000 };
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
  }

  /** Whether a connection is up and every subscription consuming. */
  get connected(): boolean {
    return this.#state === 'open';
  }

  /**
   * Connects (retrying with backoff) and resolves once connected; publish, subscribe and check start it
   * themselves, so calling it is only needed to wait for the broker at start-up.
   */
  start(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new Error('the AMQP transport is closed'));
    if (this.#state === 'open') return Promise.resolve();
    if (this.#state === 'idle') this.#connect();
    const waiter = Promise.withResolvers<void>();
    this.#whenOpen.push(waiter);
    return waiter.promise;
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    const messages = envelopes.map((envelope) => {
      const content = Buffer.from(serialise(envelope));
      if (content.length > this.#maxMessageBytes)
        throw new UnpublishableMessageError(
          `message ${envelope.id} has ${content.length} bytes, more than the broker takes (${this.#maxMessageBytes})`,
        );
      return { envelope, content };
    });
    if (this.#state === 'idle') this.#connect();
    // Wait for a connection attempt under way, never for one merely scheduled: no buffering during an outage.
    if (this.#state === 'connecting') await this.#connecting;
    const live = this.#live;
    if (this.#state !== 'open' || live === undefined)
      throw new BrokerUnavailableError('not connected to RabbitMQ', { cause: this.#lastError });
    await withTimeout(
      this.#publishTimeoutMs,
      (signal) => this.#publishConfirmed(live.publisher, messages, signal),
      { onTimeout: 'RabbitMQ did not confirm the messages in time' },
    );
  }

  async subscribe(subscription: Subscription): Promise<void> {
    if (this.#state === 'closed') throw new Error('the AMQP transport is closed');
    const registered: Registered = {
      subscription: resolveSubscription(subscription),
      ready: Promise.withResolvers<void>(),
      established: false,
    };
    this.#subscriptions.push(registered);
    if (this.#state === 'idle') this.#connect();
    const live = this.#live;
    if (this.#state === 'open' && live !== undefined) {
      try {
        await this.#consume(live, registered);
      } catch (error) {
        if (!this.#declarationFailed(registered, error)) this.#lost(live, error);
      }
    }
    // Otherwise the connection being (re-)established picks it up.
    await registered.ready.promise;
  }

  async check(): Promise<void> {
    if (this.#state === 'idle') this.#connect();
    if (this.#state !== 'open') throw new BrokerUnavailableError('not connected to RabbitMQ');
  }

  async deadLetterCount(group: string): Promise<number> {
    return this.#withDeadLetters(
      group,
      async (channel, queue) => (await channel.checkQueue(queue)).messageCount,
    );
  }

  /**
   * Reads the dead-letter queue without taking anything: the messages are got unacknowledged and go back when
   * the channel closes (the broker requeues them just after, so a count read at once may still miss them).
   */
  async deadLetters(group: string, limit: number): Promise<DeadLetter[]> {
    return this.#withDeadLetters(group, async (channel, queue) => {
      const found: DeadLetter[] = [];
      while (found.length < limit) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) break;
        found.push(deadLetterOf(message));
      }
      return found;
    });
  }

  /** Each chosen message is sent to the group's queue, confirmed, and only then acknowledged in the dead letters. */
  async replayDeadLetters(group: string, ids?: readonly string[]): Promise<number> {
    return this.#withDeadLetters(group, async (channel, queue) => {
      const { messageCount } = await channel.checkQueue(queue);
      let replayed = 0;
      for (let seen = 0; seen < messageCount; seen++) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) break;
        const { envelope } = deadLetterOf(message);
        if (ids !== undefined && !ids.includes(envelope.id)) continue;
        // As first published, without the broker's `x-death` record of its deaths.
        const { properties } = message;
        channel.sendToQueue(this.#topology.queue(group), message.content, {
          contentType: properties.contentType as string | undefined,
          messageId: properties.messageId as string | undefined,
          type: properties.type as string | undefined,
          appId: properties.appId as string | undefined,
          timestamp: properties.timestamp as number | undefined,
          persistent: true,
        });
        await channel.waitForConfirms();
        channel.ack(message);
        replayed += 1;
      }
      return replayed;
    });
  }

  async #withDeadLetters<T>(
    group: string,
    work: (channel: ConfirmChannel, queue: string) => Promise<T>,
  ): Promise<T> {
    await this.check();
    const live = this.#live;
    if (live === undefined) throw new BrokerUnavailableError('not connected to RabbitMQ');
    // A channel of its own: what it got and did not acknowledge goes back to the queue when it closes, and
    // checking a queue that does not exist closes only this channel.
    const channel = await live.connection.createConfirmChannel();
    channel.on('error', () => {});
    try {
      return await work(channel, this.#topology.deadLetterQueue(group));
    } finally {
      await channel.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closing.abort();
    clearTimeout(this.#reconnectTimer);
    await this.#connecting;
    const closed = new Error('the AMQP transport was closed');
    for (const waiter of [...this.#subscriptions.map((entry) => entry.ready), ...this.#whenOpen.splice(0)]) {
      waiter.promise.catch(() => {});
      waiter.reject(closed);
    }
    const live = this.#live;
    this.#live = undefined;
    if (live === undefined) return;
    await Promise.all(
      [...live.consumers.values()].map(({ channel, consumerTag }) =>
        channel.cancel(consumerTag).catch(() => {}),
      ),
    );
    const finished = await settlesWithin(this.#closeTimeoutMs, Promise.all(this.#inFlight));
    if (!finished)
      this.#log.warn(
        { inFlight: this.#inFlight.size },
        'closed with handlers still running; RabbitMQ redelivers',
      );
    await live.connection.close().catch(() => {});
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#connecting = this.#establish().finally(() => {
      this.#connecting = undefined;
    });
  }

  async #establish(): Promise<void> {
    let connection: ChannelModel | undefined;
    try {
      connection = await amqplib().connect(this.#url, {
        timeout: 5000,
        clientProperties: { connection_name: this.#connectionName },
      });
      let live: Live | undefined;
      let lostDuringSetup: unknown;
      connection.on('error', (error: Error) => this.#log.warn({ err: error }, 'RabbitMQ connection error'));
      connection.on('close', (error?: Error) => {
        lostDuringSetup ??= error ?? new Error('connection closed');
        if (live !== undefined) this.#lost(live, error);
      });
      connection.on('blocked', (reason: string) =>
        this.#log.warn({ reason }, 'RabbitMQ blocked publishing (resource alarm)'),
      );
      connection.on('unblocked', () => this.#log.info('RabbitMQ unblocked publishing'));
      const publisher = await connection.createConfirmChannel();
      const current: Live = (live = { connection, publisher, consumers: new Map() });
      publisher.on('error', (error: Error) => this.#log.warn({ err: error }, 'publish channel error'));
      // Deferred: when the whole connection goes, its own close (with the broker's reason) comes first.
      publisher.on('close', () =>
        setImmediate(() => this.#lost(current, new Error('the publish channel closed'))),
      );
      await publisher.assertExchange(this.#topology.exchange, 'topic', { durable: true });
      await publisher.assertExchange(this.#topology.deadLetterExchange, 'direct', { durable: true });
      // Looks the list up anew each time: subscriptions may be added (or refused and dropped) meanwhile.
      const done = new Set<Registered>();
      for (let next = this.#subscriptions[0]; next !== undefined;) {
        done.add(next);
        try {
          await this.#consume(current, next);
        } catch (error) {
          if (!this.#declarationFailed(next, error)) throw error;
        }
        next = this.#subscriptions.find((registered) => !done.has(registered));
      }
      if (lostDuringSetup !== undefined) throw toError(lostDuringSetup);
      if (this.#state === 'closed') {
        await connection.close().catch(() => {});
        return;
      }
      this.#live = current;
      this.#state = 'open';
      this.#log.info(
        {
          connection: this.#connectionName,
          subscriptions: current.consumers.size,
          afterFailures: this.#failures,
        },
        'connected to RabbitMQ',
      );
      this.#failures = 0;
      for (const waiter of this.#whenOpen.splice(0)) waiter.resolve();
    } catch (error) {
      await connection?.close().catch(() => {});
      this.#scheduleReconnect(error);
    }
  }

  /** Declares the group's queues and bindings and starts consuming; resolves the subscription's `ready`. */
  async #consume(live: Live, registered: Registered): Promise<void> {
    const { subscription } = registered;
    const { group } = subscription;
    const channel = await live.connection.createChannel();
    let consuming = false;
    channel.on('error', (error: Error) => this.#log.warn({ err: error, group }, 'consumer channel error'));
    channel.on('close', () => {
      if (consuming)
        setImmediate(() => this.#lost(live, new Error(`the consumer channel of '${group}' closed`)));
    });
    const queue = this.#topology.queue(group);
    const deadLetterQueue = this.#topology.deadLetterQueue(group);
    await channel.assertQueue(deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(deadLetterQueue, this.#topology.deadLetterExchange, group);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        // The broker counts returns: the first delivery plus `limit` redeliveries, then it dead-letters.
        'x-delivery-limit': subscription.maxAttempts - 1,
        'x-dead-letter-exchange': this.#topology.deadLetterExchange,
        'x-dead-letter-routing-key': group,
      },
    });
    for (const type of subscription.types) await channel.bindQueue(queue, this.#topology.exchange, type);
    await channel.prefetch(subscription.concurrency);
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (message === null) {
        // The broker cancelled the consumer (its queue was deleted): start over, declaring it again.
        this.#lost(live, new Error(`the queue of '${group}' was deleted`));
        return;
      }
      const task = this.#deliver(channel, subscription, message).finally(() => this.#inFlight.delete(task));
      this.#inFlight.add(task);
    });
    consuming = true;
    live.consumers.set(subscription, { channel, consumerTag });
    registered.established = true;
    registered.ready.resolve();
  }

  /**
   * A subscription that was never established and whose declaration the broker refuses for good (say, its
   * queue exists with other arguments) is dropped and its `subscribe` rejects. Returns whether it was.
   */
  #declarationFailed(registered: Registered, error: unknown): boolean {
    const code = (error as { code?: unknown }).code;
    if (registered.established || typeof code !== 'number' || !PERMANENT_CHANNEL_ERRORS.has(code))
      return false;
    this.#subscriptions.splice(this.#subscriptions.indexOf(registered), 1);
    this.#log.error(
      { err: error, group: registered.subscription.group },
      'the broker refused the subscription',
    );
    registered.ready.reject(error);
    return true;
  }

  async #deliver(
    channel: Channel,
    subscription: ResolvedSubscription,
    message: ConsumeMessage,
  ): Promise<void> {
    const { group, maxAttempts } = subscription;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message.content.toString('utf8')) as Envelope;
    } catch (error) {
      this.#log.error({ err: error, group }, 'unreadable message dead-lettered');
      this.#settle(() => channel.nack(message, false, false));
      return;
    }
    const redeliveries = Number(message.properties.headers?.['x-delivery-count'] ?? 0);
    const attempt = redeliveries + 1;
    try {
      await runHandler(subscription, envelope, 'amqp');
    } catch (error) {
      const last = attempt >= maxAttempts;
      const retryInMs = last ? 0 : backoffDelay(attempt, this.#retry);
      const context = { err: error, group, messageId: envelope.id, type: envelope.type, attempt };
      if (last) this.#log.error(context, 'message dead-lettered after its last attempt');
      else this.#log.warn({ ...context, retryInMs }, 'handler failed; retrying');
      await sleep(retryInMs, this.#closing.signal);
      // Returned rather than rejected: RabbitMQ counts the delivery and dead-letters past the limit.
      this.#settle(() => channel.nack(message, false, true));
      return;
    }
    this.#settle(() => channel.ack(message));
  }

  /** Acks or nacks on the channel the message came on; if that channel is gone, the broker redelivers. */
  #settle(settle: () => void): void {
    try {
      settle();
    } catch (error) {
      this.#log.debug(
        { err: error },
        'could not settle a message on a closed channel; it will be redelivered',
      );
    }
  }

  async #publishConfirmed(
    publisher: ConfirmChannel,
    messages: ReadonlyArray<{ envelope: Envelope; content: Buffer }>,
    signal: AbortSignal,
  ): Promise<void> {
    const confirms: Promise<void>[] = [];
    for (const { envelope, content } of messages) {
      if (signal.aborted) throw signal.reason;
      const confirmed = Promise.withResolvers<void>();
      // Handled here too: a nack may arrive while a later message still waits for the socket to drain.
      confirmed.promise.catch(() => {});
      confirms.push(confirmed.promise);
      const accepted = publisher.publish(
        this.#topology.exchange,
        envelope.type,
        content,
        {
          persistent: true,
          contentType: 'application/cloudevents+json',
          messageId: envelope.id,
          type: envelope.type,
          appId: envelope.source,
          timestamp: Math.floor(Date.parse(envelope.time) / 1000) || undefined,
        },
        (error: unknown) => (error ? confirmed.reject(toError(error)) : confirmed.resolve()),
      );
      // Respect the socket's backpressure instead of buffering without bound.
      if (!accepted) {
        this.#log.debug('publish buffer full; waiting for it to drain');
        await drained(publisher, signal);
      }
    }
    await Promise.all(confirms);
  }

  #lost(live: Live, error: unknown): void {
    if (this.#state === 'closed' || this.#live !== live) return;
    this.#live = undefined;
    void live.connection.close().catch(() => {});
    this.#scheduleReconnect(error);
  }

  #scheduleReconnect(error: unknown): void {
    if (this.#state === 'closed') return;
    this.#state = 'waiting';
    this.#lastError = error;
    this.#failures += 1;
    const retryInMs = backoffDelay(this.#failures, this.#reconnect);
    this.#log.warn(
      { err: error, failures: this.#failures, retryInMs },
      'RabbitMQ connection lost or refused; reconnecting',
    );
    this.#reconnectTimer = setTimeout(() => this.#connect(), retryInMs);
  }
}

function drained(channel: Channel, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', closed);
      signal.removeEventListener('abort', aborted);
      resolve();
    };
    const closed = () => {
      done();
      reject(new BrokerUnavailableError('the publish channel closed'));
    };
    const aborted = () => {
      done();
      reject(signal.reason as Error);
    };
    channel.on('drain', done);
    channel.on('close', closed);
    signal.addEventListener('abort', aborted);
  });
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Removes a namespace's exchanges and the queues of `groups` (a test run's or a benchmark's own namespace). */
export async function deleteAmqpTopology(
  url: string,
  namespace: string,
  groups: readonly string[],
): Promise<void> {
  const topology = amqpTopology(namespace);
  const connection = await amqplib().connect(url);
  try {
    const channel = await connection.createChannel();
    for (const group of groups) {
      await channel.deleteQueue(topology.queue(group));
      await channel.deleteQueue(topology.deadLetterQueue(group));
    }
    await channel.deleteExchange(topology.exchange);
    await channel.deleteExchange(topology.deadLetterExchange);
  } finally {
    await connection.close();
  }
}

/** A message of a dead-letter queue; the broker's `x-death` header says how often it died, not why. */
function deadLetterOf(message: {
  content: Buffer;
  properties: { headers?: Record<string, unknown> };
}): DeadLetter {
  const deaths = message.properties.headers?.['x-death'] as
    Array<{ count?: number; time?: { value?: number } | Date }> | undefined;
  const death = deaths?.[0];
  const time = death?.time instanceof Date ? death.time : death?.time?.value;
  return {
    envelope: JSON.parse(message.content.toString('utf8')) as Envelope,
    attempts: death?.count ?? 0,
    lastError: null,
    deadAt: time === undefined ? null : new Date(typeof time === 'number' ? time * 1000 : time),
  };
}
