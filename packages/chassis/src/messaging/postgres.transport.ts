// The local profile's broker: durable queues in a PostgreSQL database of their own (`bus`). A publish stores
// each message and one delivery per subscribed group in one transaction; a group's consumers compete for its
// deliveries with FOR UPDATE SKIP LOCKED, hold a lease while handling one (extended while the handler runs,
// so only a consumer that died loses it), retry failures with backoff and dead-letter them past maxAttempts.
import { createPool, migrate, type Pool, type Queryable } from '../db.ts';
import type { Logger } from '../logger.ts';
import { backoffDelay, settlesWithin, type BackoffPolicy } from '@souk/kit';
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
import { Settlements } from './settlements.ts';
import { PgListener, Wakeup } from './wakeups.ts';

export const BUS_MIGRATIONS = new URL('./bus-migrations/', import.meta.url);

/** Notified with the group's name when a delivery for it was committed. */
export const BUS_CHANNEL = 'souk_bus';

export interface PostgresTransportOptions {
  /** The bus database; alternatively `pool`, which the transport then uses but does not end. */
  url?: string;
  pool?: Pool;
  log: Logger;
  /**
   * The safety-net poll behind LISTEN/NOTIFY, for work no notification announces (a lease that ran out with its
   * consumer); default 10 s. While the listen connection is down, consumers poll at least every second.
   */
  pollIntervalMs?: number;
  /** How long a claimed delivery stays invisible to others without its consumer renewing the lease. */
  visibilityTimeoutMs?: number;
  /**
   * The longest a handled delivery waits to be acknowledged by its group's next claim before it is acknowledged
   * on its own; default 100 ms. A busy group so pays one commit for a claim and the acknowledgements before it.
   */
  acknowledgeWithinMs?: number;
  /** Delay before redelivering a failed message; default 1 s doubling up to 30 s, jittered. */
  retry?: BackoffPolicy;
  /** How long `close()` waits for running handlers; the rest are redelivered after their lease. Default 10 s. */
  closeTimeoutMs?: number;
  /** Handled messages are deleted once older than this; default one hour. */
  retainMessagesMs?: number;
  pruneIntervalMs?: number;
}

/** The group's dead letters, oldest first: messages whose handler failed `maxAttempts` times. */
export async function listDeadLetters(
  db: Queryable,
  group: string,
  options: { limit?: number } = {},
): Promise<DeadLetter[]> {
  const { rows } = await db.query<{
    envelope: Envelope;
    attempts: number;
    last_error: string | null;
    dead_at: Date;
  }>(
    `SELECT m.envelope, d.attempts, d.last_error, d.dead_at
       FROM bus_deliveries d JOIN bus_messages m ON m.position = d.message_position
      WHERE d.group_name = $1 AND d.status = 'dead'
      ORDER BY d.dead_at, d.message_position
      LIMIT $2`,
    [group, options.limit ?? 100],
  );
  return rows.map((row) => ({
    envelope: row.envelope,
    attempts: row.attempts,
    lastError: row.last_error,
    deadAt: row.dead_at,
  }));
}

/**
 * Puts the group's dead letters (all, or those whose envelope id is in `ids`) back in its queue with fresh
 * attempts, after the cause was fixed. The message is the same one, so the consumer's inbox still applies it once.
 */
export async function redriveDeadLetters(
  db: Queryable,
  group: string,
  ids?: readonly string[],
): Promise<number> {
  const { rows } = await db.query<{ redriven: number }>(
    `WITH redriven AS (
       UPDATE bus_deliveries d
          SET status = 'pending', attempts = 0, available_at = now(), locked_until = NULL, dead_at = NULL
         FROM bus_messages m
        WHERE m.position = d.message_position AND d.group_name = $1 AND d.status = 'dead'
          AND ($3::text[] IS NULL OR m.envelope->>'id' = ANY($3::text[]))
        RETURNING 1)
     SELECT count(*)::int AS redriven, pg_notify($2, $1) FROM redriven`,
    [group, BUS_CHANNEL, ids ?? null],
  );
  return rows[0]?.redriven ?? 0;
}

interface Claimed {
  position: number;
  attempts: number;
  envelope: Envelope;
}

interface Settings {
  pool: Pool;
  log: Logger;
  /** The wait between polls now: slow while notifications arrive. */
  pollInterval: () => number;
  visibilityTimeoutMs: number;
  acknowledgeWithinMs: number;
  retry: BackoffPolicy;
}

export class PostgresTransport implements MessageTransport {
  readonly name = 'postgres' as const;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #settings: Settings;
  readonly #closeTimeoutMs: number;
  readonly #retainMessagesMs: number;
  readonly #pruneIntervalMs: number;
  readonly #listener: PgListener;
  readonly #consumers = new Set<GroupConsumer>();
  #ready: Promise<void> | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PostgresTransportOptions) {
    if (options.pool === undefined && options.url === undefined)
      throw new TypeError('PostgresTransport needs the bus database: url or pool');
    this.#ownsPool = options.pool === undefined;
    // Its statements are short and few at a time (a claim per group, a publish, acknowledgements, one held for
    // LISTEN); every connection more is a server process idling on the shared PostgreSQL.
    this.#pool = options.pool ?? createPool(options.url!, { applicationName: 'souk-bus', max: 4 });
    if (this.#ownsPool)
      this.#pool.on('error', (error) => options.log.warn({ err: error }, 'idle bus connection failed'));
    this.#settings = {
      pool: this.#pool,
      log: options.log,
      pollInterval: () => this.#listener.pollInterval(options.pollIntervalMs ?? 10_000),
      visibilityTimeoutMs: options.visibilityTimeoutMs ?? 30_000,
      acknowledgeWithinMs: options.acknowledgeWithinMs ?? 100,
      retry: options.retry ?? { baseDelayMs: 1000, maxDelayMs: 30_000 },
    };
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#retainMessagesMs = options.retainMessagesMs ?? 3_600_000;
    this.#pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
    this.#listener = new PgListener({
      pool: this.#pool,
      channel: BUS_CHANNEL,
      log: options.log,
      onNotify: (group) => {
        for (const consumer of this.#consumers)
          if (group === undefined || consumer.group === group) consumer.wake();
      },
    });
  }

  /** Creates the bus tables (once) and starts listening; publish and subscribe call it themselves. */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the bus transport is closed'));
    this.#ready ??= (async () => {
      await migrate(this.#pool, BUS_MIGRATIONS);
      await this.#listener.start();
      this.#pruneTimer = setInterval(() => void this.prune().catch(() => {}), this.#pruneIntervalMs);
      this.#pruneTimer.unref();
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    await this.start();
    const batch = serialise(envelopes);
    try {
      await this.#insert(batch);
    } catch (error) {
      // A data exception (class 22: invalid JSON text, a lone surrogate, a value out of range) is the
      // messages' fault and will recur on every retry; anything else (connection, lock, server) may pass.
      if (/^22/.test(String((error as { code?: unknown }).code)))
        throw new UnpublishableMessageError(`the bus refused the messages: ${describe(error)}`, {
          cause: error,
        });
      throw error;
    }
  }

  async #insert(batch: string): Promise<void> {
    await this.#pool.query(
      `WITH messages AS (
         INSERT INTO bus_messages (id, type, envelope)
         SELECT e.value->>'id', e.value->>'type', e.value
           FROM json_array_elements($1::json) WITH ORDINALITY AS e(value, n)
          ORDER BY e.n
         RETURNING position, type),
       deliveries AS (
         INSERT INTO bus_deliveries (group_name, message_position)
         SELECT s.group_name, m.position FROM messages m JOIN bus_subscriptions s ON s.type = m.type
         RETURNING group_name)
       SELECT pg_notify($2, g.group_name) FROM (SELECT DISTINCT group_name FROM deliveries) g`,
      [batch, BUS_CHANNEL],
    );
  }

  async subscribe(subscription: Subscription): Promise<void> {
    const resolved = resolveSubscription(subscription);
    await this.start();
    await this.#pool.query(
      `INSERT INTO bus_subscriptions (group_name, type)
       SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
      [resolved.group, resolved.types],
    );
    if (this.#closed) return;
    const consumer = new GroupConsumer(resolved, this.#settings);
    this.#consumers.add(consumer);
    consumer.start();
  }

  async check(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    await Promise.all([...this.#consumers].map((consumer) => consumer.stop(this.#closeTimeoutMs)));
    this.#consumers.clear();
    await this.#ready?.catch(() => {});
    await this.#listener.stop();
    if (this.#ownsPool) await this.#pool.end();
  }

  async deadLetterCount(group: string): Promise<number> {
    await this.start();
    const { rows } = await this.#pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM bus_deliveries WHERE group_name = $1 AND status = 'dead'`,
      [group],
    );
    return rows[0]?.count ?? 0;
  }

  async deadLetters(group: string, limit: number): Promise<DeadLetter[]> {
    await this.start();
    return listDeadLetters(this.#pool, group, { limit });
  }

  async replayDeadLetters(group: string, ids?: readonly string[]): Promise<number> {
    await this.start();
    return redriveDeadLetters(this.#pool, group, ids);
  }

  /** Deletes handled messages older than the retention; runs on a timer too. */
  async prune(): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `DELETE FROM bus_messages WHERE position IN (
         SELECT m.position FROM bus_messages m
          WHERE m.published_at < now() - $1 * interval '1 millisecond'
            AND NOT EXISTS (SELECT 1 FROM bus_deliveries d WHERE d.message_position = m.position)
          LIMIT 10000)`,
      [this.#retainMessagesMs],
    );
    return rowCount ?? 0;
  }
}

/** One subscription's consumer: claims up to `concurrency` deliveries at a time and settles each. */
class GroupConsumer {
  readonly group: string;
  readonly #subscription: ResolvedSubscription;
  readonly #settings: Settings;
  readonly #wakeup = new Wakeup();
  readonly #inFlight = new Map<number, { attempts: number; done: Promise<void> }>();
  #stopping = false;
  #loop: Promise<void> | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  /** Whether the last claim took as many deliveries as it had slots for, so that more may be waiting. */
  #mayHaveMore = true;
  /** Handled deliveries not yet deleted: the next claim deletes them. */
  readonly #acks: Settlements<Claimed>;

  constructor(subscription: ResolvedSubscription, settings: Settings) {
    this.group = subscription.group;
    this.#subscription = subscription;
    this.#settings = settings;
    this.#acks = new Settlements({
      write: (handled) => this.#deleteAcknowledged(handled),
      withinMs: settings.acknowledgeWithinMs,
      log: settings.log,
      what: `acknowledging ${this.group}'s messages`,
    });
  }

  start(): void {
    this.#loop = this.#run();
    const renewEvery = Math.max(50, Math.floor(this.#settings.visibilityTimeoutMs / 3));
    this.#leaseTimer = setInterval(() => void this.#renewLeases(), renewEvery);
  }

  wake(): void {
    this.#wakeup.wake();
  }

  /** Stops claiming, then waits up to `timeoutMs` for running handlers; the others keep running unleased. */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#wakeup.wake();
    await this.#loop;
    const abandoned = !(await settlesWithin(
      timeoutMs,
      Promise.all([...this.#inFlight.values()].map((entry) => entry.done)),
    ));
    clearInterval(this.#leaseTimer);
    await this.#acks.flush();
    if (abandoned)
      this.#settings.log.warn(
        { group: this.group, inFlight: this.#inFlight.size },
        'closed with handlers still running; their messages will be redelivered',
      );
  }

  async #run(): Promise<void> {
    const { log, pollInterval, retry } = this.#settings;
    let failures = 0;
    while (!this.#stopping) {
      const free = this.#subscription.concurrency - this.#inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const deliveries = await this.#claim(free);
          failures = 0;
          claimed = deliveries.length;
          this.#mayHaveMore = claimed === free;
          for (const delivery of deliveries) this.#dispatch(delivery);
        } catch (error) {
          failures += 1;
          const retryInMs = backoffDelay(failures, retry);
          log.warn({ err: error, group: this.group, retryInMs }, 'claiming messages failed');
          await this.#wakeup.wait(retryInMs);
          continue;
        }
      }
      if (free === 0 || claimed < free) await this.#wakeup.wait(pollInterval());
    }
  }

  /** One short transaction: deletes the deliveries handled since the last claim, and leases the next ones. */
  async #claim(limit: number): Promise<Claimed[]> {
    const handled = this.#acks.take();
    try {
      const { rows } = await this.#settings.pool.query<Claimed>(
        `WITH acknowledged AS (${deleteHandled('$4', '$5')}),
         next AS (
           SELECT group_name, message_position FROM bus_deliveries
            WHERE group_name = $1 AND status = 'pending' AND available_at <= now()
              AND (locked_until IS NULL OR locked_until <= now())
              AND message_position <> ALL($4::bigint[])
            ORDER BY message_position
            LIMIT $2
            FOR UPDATE SKIP LOCKED)
         UPDATE bus_deliveries d
            SET attempts = d.attempts + 1, locked_until = now() + $3 * interval '1 millisecond'
           FROM next, bus_messages m
          WHERE d.group_name = next.group_name AND d.message_position = next.message_position
            AND m.position = d.message_position
         RETURNING d.message_position AS position, d.attempts, m.envelope`,
        [this.group, limit, this.#settings.visibilityTimeoutMs, ...handledColumns(handled)],
      );
      return rows.sort((a, b) => a.position - b.position);
    } catch (error) {
      this.#acks.putBack(handled);
      throw error;
    }
  }

  #dispatch(delivery: Claimed): void {
    const done = this.#handle(delivery).finally(() => {
      this.#inFlight.delete(delivery.position);
      // A freed slot is worth a claim only when the last one was cut short by the lack of slots; otherwise the
      // queue was empty then, and what came since announces itself with a notification.
      if (this.#mayHaveMore || this.#stopping) this.#wakeup.wake();
    });
    this.#inFlight.set(delivery.position, { attempts: delivery.attempts, done });
  }

  async #handle(delivery: Claimed): Promise<void> {
    const { log } = this.#settings;
    const { maxAttempts } = this.#subscription;
    const context = {
      group: this.group,
      messageId: delivery.envelope.id,
      type: delivery.envelope.type,
      attempt: delivery.attempts,
    };
    if (delivery.attempts > maxAttempts) {
      // Its earlier consumers died holding it (their attempts count): a crash-looping message stops here.
      await this.#settle(delivery, { dead: true, error: 'consumers lost it more than maxAttempts times' });
      log.error(context, 'message dead-lettered: delivered too often');
      return;
    }
    try {
      await runHandler(this.#subscription, delivery.envelope, 'postgres');
    } catch (error) {
      const dead = delivery.attempts >= maxAttempts;
      const retryInMs = dead ? 0 : backoffDelay(delivery.attempts, this.#settings.retry);
      await this.#settle(delivery, { dead, error: describe(error), retryInMs });
      if (dead) log.error({ ...context, err: error }, 'message dead-lettered after its last attempt');
      else {
        log.warn({ ...context, err: error, retryInMs }, 'handler failed; retrying');
        setTimeout(() => this.#wakeup.wake(), retryInMs + 5).unref();
      }
      return;
    }
    await this.#settle(delivery);
  }

  /** Deletes handled deliveries that no claim carried, fenced on the attempts this consumer claimed. */
  async #deleteAcknowledged(handled: Claimed[]): Promise<void> {
    await this.#settings.pool.query(deleteHandled('$2', '$3'), [this.group, ...handledColumns(handled)]);
  }

  /**
   * Acknowledges the delivery (its next claim, or a moment later a delete of its own, removes it; see
   * Settlements), or fails it, fenced on the attempt this consumer claimed.
   */
  async #settle(
    delivery: Claimed,
    failure?: { dead: boolean; error: string; retryInMs?: number },
  ): Promise<void> {
    if (failure === undefined) {
      this.#acks.add(delivery);
      return;
    }
    try {
      await this.#settings.pool.query(
        `UPDATE bus_deliveries
            SET status = CASE WHEN $4 THEN 'dead' ELSE 'pending' END,
                dead_at = CASE WHEN $4 THEN now() END,
                available_at = now() + $5 * interval '1 millisecond',
                locked_until = NULL,
                last_error = $6
          WHERE group_name = $1 AND message_position = $2 AND attempts = $3`,
        [
          this.group,
          delivery.position,
          delivery.attempts,
          failure.dead,
          failure.retryInMs ?? 0,
          failure.error.slice(0, 2000),
        ],
      );
    } catch (error) {
      // Unsettled, the delivery comes back when its lease runs out; the inbox absorbs the repeat.
      this.#settings.log.warn(
        { err: error, group: this.group, messageId: delivery.envelope.id },
        'settling a message failed; it will be redelivered',
      );
    }
  }

  async #renewLeases(): Promise<void> {
    if (this.#inFlight.size === 0) return;
    const positions = [...this.#inFlight.keys()];
    const attempts = positions.map((position) => this.#inFlight.get(position)!.attempts);
    try {
      await this.#settings.pool.query(
        `UPDATE bus_deliveries d SET locked_until = now() + $2 * interval '1 millisecond'
           FROM unnest($3::bigint[], $4::int[]) AS held(position, attempts)
          WHERE d.group_name = $1 AND d.message_position = held.position AND d.attempts = held.attempts
            AND d.status = 'pending'`,
        [this.group, this.#settings.visibilityTimeoutMs, positions, attempts],
      );
    } catch (error) {
      this.#settings.log.warn({ err: error, group: this.group }, 'renewing message leases failed');
    }
  }
}

/** Deletes the deliveries of the group `$1` handled at the attempts given, in the parameters named. */
const deleteHandled = (positions: string, attempts: string) => `DELETE FROM bus_deliveries d
    USING unnest(${positions}::bigint[], ${attempts}::int[]) AS handled(position, attempts)
    WHERE d.group_name = $1 AND d.message_position = handled.position AND d.attempts = handled.attempts`;

/** The parameters `deleteHandled` names: the deliveries' positions, and the attempts they were handled at. */
const handledColumns = (handled: readonly Claimed[]) => [
  handled.map((delivery) => delivery.position),
  handled.map((delivery) => delivery.attempts),
];

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
