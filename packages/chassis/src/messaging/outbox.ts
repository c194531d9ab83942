// The transactional outbox: an event is stored in the same transaction as the state change it announces, and a
// relay publishes it afterwards, marking it sent only once the broker confirmed it. At-least-once: a crash
// between the confirm and the mark publishes the event again, and consumers deduplicate on its id (the inbox).
import { currentTrace } from '../trace-context.ts';
import type { EventEnvelope, EventType, EventTypes } from '@souk/contracts';
import { withTransaction, type Pool, type Queryable } from '../db.ts';
import type { Logger } from '../logger.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { createEnvelope, type UncheckedEventType } from './envelope.ts';
import type { Envelope, MessageTransport } from './transport.ts';
import { PgListener, Wakeup, sleep } from './wakeups.ts';

/** The chassis' messaging tables (`outbox`, `inbox`), for `migrate(db, MESSAGING_MIGRATIONS)`. */
export const MESSAGING_MIGRATIONS = new URL('./migrations/', import.meta.url);

/** Notified on commit of every transaction that added an event, so the relay wakes at once. */
export const OUTBOX_CHANNEL = 'souk_outbox';

export interface OutboxAddOptions {
  /** The entity the event is about, e.g. the order id. */
  subject?: string;
  /** The W3C trace context of the operation raising the event. */
  traceparent?: string;
  /** A deterministic id, when the event must be the same however often its cause is retried. */
  id?: string;
}

export class Outbox {
  readonly source: string;
  readonly #clock: () => Date;

  /** `source` names the publishing service, e.g. `souk/orders`. */
  constructor(source: string, options: { clock?: () => Date } = {}) {
    this.source = source;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Stores the event in the caller's transaction; it is published only if that transaction commits. */
  add<T extends EventType>(
    tx: Queryable,
    type: T,
    data: EventTypes[T],
    options?: OutboxAddOptions,
  ): Promise<EventEnvelope<T, EventTypes[T]>>;
  add<T extends string>(
    tx: Queryable,
    type: UncheckedEventType<T>,
    data: unknown,
    options?: OutboxAddOptions,
  ): Promise<EventEnvelope<T, unknown>>;
  async add(tx: Queryable, type: string, data: unknown, options: OutboxAddOptions = {}): Promise<Envelope> {
    const envelope = createEnvelope(type, data, {
      traceparent: currentTrace()?.traceparent,
      ...options,
      source: this.source,
      clock: this.#clock,
    });
    await tx.query(
      `WITH added AS (INSERT INTO outbox (id, type, envelope) VALUES ($1, $2, $3))
       SELECT pg_notify($4, '')`,
      [envelope.id, envelope.type, JSON.stringify(envelope), OUTBOX_CHANNEL],
    );
    return envelope;
  }
}

export interface OutboxRelayOptions {
  /** The service's own database, where `outbox` lives. */
  db: Pool;
  transport: Pick<MessageTransport, 'publish'>;
  log: Logger;
  /** Events claimed and published together; default 100. */
  batchSize?: number;
  /** The safety-net poll, for notifications missed while the listen connection was down; default 1000. */
  pollIntervalMs?: number;
  /** Backoff between failed publishes; default 100 ms doubling up to 30 s. */
  retry?: BackoffPolicy;
  /** A publish not confirmed by then counts as failed (the rows stay locked meanwhile); default 15 s. */
  publishTimeoutMs?: number;
  /** Published rows are deleted once older than this; default one hour. */
  retainPublishedMs?: number;
  pruneIntervalMs?: number;
}

type BatchResult = { published: number } | { failed: unknown; size: number };

/**
 * Publishes the outbox in order. Each batch is claimed with `FOR UPDATE SKIP LOCKED` inside a transaction that
 * stays open until the transport confirmed it, so any number of relays (one per service instance) share the
 * work without publishing a row twice, and a relay that dies mid-batch releases its rows to the others.
 */
export class OutboxRelay {
  readonly #db: Pool;
  readonly #transport: Pick<MessageTransport, 'publish'>;
  readonly #log: Logger;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #retry: BackoffPolicy;
  readonly #publishTimeoutMs: number;
  readonly #retainPublishedMs: number;
  readonly #pruneIntervalMs: number;
  readonly #wakeup = new Wakeup();
  readonly #listener: PgListener;
  #stop = new AbortController();
  #running: Promise<void> | undefined;
  #lastPrune = 0;

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#transport = options.transport;
    this.#log = options.log;
    this.#batchSize = options.batchSize ?? 100;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#retry = options.retry ?? { baseDelayMs: 100, maxDelayMs: 30_000 };
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 15_000;
    this.#retainPublishedMs = options.retainPublishedMs ?? 3_600_000;
    this.#pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
    this.#listener = new PgListener({
      pool: this.#db,
      channel: OUTBOX_CHANNEL,
      log: this.#log,
      onNotify: () => this.#wakeup.wake(),
    });
  }

  /** Starts relaying in the background; `stop()` ends it. */
  start(): void {
    if (this.#running !== undefined) return;
    this.#stop = new AbortController();
    this.#running = this.#listener
      .start()
      .then(() => this.#run())
      .catch((error: unknown) => this.#log.error({ err: error }, 'outbox relay stopped unexpectedly'));
  }

  /** Finishes the batch in flight, then stops. */
  async stop(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    this.#stop.abort();
    this.#wakeup.wake();
    await running;
    await this.#listener.stop();
    this.#running = undefined;
  }

  /** Publishes one batch now; resolves with how many events went out. Throws when publishing failed. */
  async relayOnce(): Promise<number> {
    const result = await this.#relayBatch();
    if ('failed' in result) throw result.failed;
    return result.published;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      let result: BatchResult;
      try {
        result = await this.#relayBatch();
      } catch (error) {
        result = { failed: error, size: 0 };
      }
      if ('failed' in result) {
        failures += 1;
        const retryInMs = backoffDelay(failures, this.#retry);
        this.#log.warn(
          { err: result.failed, failures, events: result.size, retryInMs },
          'publishing the outbox failed; retrying',
        );
        await sleep(retryInMs, this.#stop.signal);
        continue;
      }
      if (failures > 0) this.#log.info({ failures }, 'publishing the outbox again');
      failures = 0;
      if (result.published === this.#batchSize) continue;
      await this.#pruneWhenDue();
      await this.#wakeup.wait(this.#pollIntervalMs);
    }
  }

  /** Claims, publishes and marks one batch. A failed publish is recorded on its rows and their locks let go. */
  async #relayBatch(): Promise<BatchResult> {
    return withTransaction(this.#db, async (tx) => {
      const { rows } = await tx.query<{ position: number; envelope: Envelope }>(
        `SELECT position, envelope FROM outbox
          WHERE published_at IS NULL
          ORDER BY position
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [this.#batchSize],
      );
      if (rows.length === 0) return { published: 0 };
      const positions = rows.map((row) => row.position);
      try {
        await withTimeout(
          this.#transport.publish(rows.map((row) => row.envelope)),
          this.#publishTimeoutMs,
          'the broker did not confirm the outbox batch in time',
        );
      } catch (error) {
        await tx.query(
          'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE position = ANY($1)',
          [positions, error instanceof Error ? error.message : String(error)],
        );
        return { failed: error, size: rows.length };
      }
      await tx.query(
        'UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE position = ANY($1)',
        [positions],
      );
      return { published: rows.length };
    });
  }

  async #pruneWhenDue(): Promise<void> {
    if (Date.now() - this.#lastPrune < this.#pruneIntervalMs) return;
    this.#lastPrune = Date.now();
    try {
      const { rowCount } = await this.#db.query(
        `DELETE FROM outbox WHERE position IN (
           SELECT position FROM outbox
            WHERE published_at IS NOT NULL AND published_at < now() - $1 * interval '1 millisecond'
            LIMIT 10000)`,
        [this.#retainPublishedMs],
      );
      if (rowCount) this.#log.debug({ deleted: rowCount }, 'pruned published outbox rows');
    } catch (error) {
      this.#log.warn({ err: error }, 'pruning the outbox failed');
    }
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
