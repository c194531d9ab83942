// The transactional outbox: an event is stored in the same transaction as the state change it announces, and a
// relay publishes it afterwards, marking it sent only once the broker confirmed it. At-least-once: a crash
// between the confirm and the mark publishes the event again, and consumers deduplicate on its id (the inbox).
import { randomUUID } from 'node:crypto';
import { activeTraceparent } from '../tracing/tracer.ts';
import { startPublishSpans } from '../tracing/messaging.ts';
import type { EventEnvelope, EventType, EventTypes } from '@souk/contracts';
import type { Pool, Queryable } from '../db.ts';
import type { Logger } from '../logger.ts';
import { backoffDelay, withTimeout, type BackoffPolicy } from '@souk/kit';
import { createEnvelope, type UncheckedEventType } from './envelope.ts';
import { UnpublishableMessageError, type Envelope, type MessageTransport } from './transport.ts';
import { Settlements } from './settlements.ts';
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
      traceparent: activeTraceparent(),
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
  transport: Pick<MessageTransport, 'publish'> & Partial<Pick<MessageTransport, 'name'>>;
  log: Logger;
  /** Events claimed and published together; default 100. */
  batchSize?: number;
  /**
   * The safety-net poll behind LISTEN/NOTIFY, for work no notification announces (a claim that ran out with its
   * relay); default 10 s, so that an idle relay costs next to nothing. While the listen connection is down it
   * polls at least every second.
   */
  pollIntervalMs?: number;
  /** Backoff between failed publishes; default 100 ms doubling up to 30 s. */
  retry?: BackoffPolicy;
  /** A publish not confirmed by then counts as failed; default 15 s. Claims last twice as long. */
  publishTimeoutMs?: number;
  /**
   * The longest a published batch waits to be marked by the next claim's statement before it is marked on its
   * own; default 100 ms. A busy relay so pays one commit per batch instead of two.
   */
  markWithinMs?: number;
  /** The relay reports itself degraded when an unsent event is older than this; default one minute. */
  stalledAfterMs?: number;
  /** ... or when this many publishes failed in a row; default 3. */
  degradedAfterFailures?: number;
}

/** Where the outbox stands: for the metrics and the health check. */
export interface OutboxStats {
  /** Events not published yet, parked ones excluded. */
  unsent: number;
  /** Age of the oldest of them in seconds; 0 when there is none. */
  lagSeconds: number;
  /** Events the broker refused for good, waiting for a person (see the README). */
  parked: number;
}

export async function outboxStats(db: Queryable): Promise<OutboxStats> {
  const { rows } = await db.query<OutboxStats>(
    `SELECT count(*) FILTER (WHERE parked_at IS NULL)::int AS unsent,
            coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL)), 0)::float8
              AS "lagSeconds",
            count(*) FILTER (WHERE parked_at IS NOT NULL)::int AS parked
       FROM outbox WHERE published_at IS NULL`,
  );
  return rows[0]!;
}

export interface ParkedEvent {
  id: string;
  type: string;
  attempts: number;
  lastError: string | null;
  parkedAt: Date;
}

/** The events the broker refused for good, oldest first. */
export async function listParked(db: Queryable, limit: number): Promise<ParkedEvent[]> {
  const { rows } = await db.query<ParkedEvent>(
    `SELECT id, type, attempts, last_error AS "lastError", parked_at AS "parkedAt"
       FROM outbox WHERE published_at IS NULL AND parked_at IS NOT NULL ORDER BY position LIMIT $1`,
    [limit],
  );
  return rows;
}

/**
 * Hands parked events (all, or those with the given ids) back to the relay, once the cause was fixed; they keep
 * their ids, so a consumer that somehow has one already skips it. Resolves with the count.
 */
export async function releaseParked(db: Queryable, ids?: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ released: number }>(
    `WITH released AS (
       UPDATE outbox SET parked_at = NULL
        WHERE published_at IS NULL AND parked_at IS NOT NULL AND ($1::text[] IS NULL OR id = ANY($1::text[]))
        RETURNING 1)
     SELECT count(*)::int AS released, pg_notify($2, '') FROM released`,
    [ids ?? null, OUTBOX_CHANNEL],
  );
  return rows[0]?.released ?? 0;
}

/** Deletes published rows older than `olderThan`; never an unsent or a parked one. Resolves with the count. */
export async function pruneSentOutbox(db: Queryable, olderThan: Date): Promise<number> {
  let deleted = 0;
  for (;;) {
    // In slices, so that a large backlog never makes one long transaction.
    const { rowCount } = await db.query(
      `DELETE FROM outbox WHERE position IN (
         SELECT position FROM outbox WHERE published_at IS NOT NULL AND published_at < $1 LIMIT 10000)`,
      [olderThan],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < 10_000) return deleted;
  }
}

interface Claimed {
  position: number;
  envelope: Envelope;
}

interface BatchResult {
  published: number;
  parked: number;
  /** Set when a publish failed in a way a retry may fix; the rest of the batch was released. */
  failed?: unknown;
}

/**
 * Publishes the outbox in order. A batch is claimed in a short transaction (`FOR UPDATE SKIP LOCKED`, then a
 * lease in `claimed_until`), published outside any transaction, and marked sent by the statement that claims
 * the next batch (or on its own, when none comes within `markWithinMs`), so any number of relays (one per
 * service instance) share the work, none holds a connection in a transaction across network I/O, and a busy
 * relay commits once per batch. A relay that dies before the mark leaves its lease to run out; another relay
 * then publishes those rows again (at-least-once). A batch the transport refuses is retried one event at a
 * time, so that an event the broker refuses for good is parked and the ones after it still go out.
 */
export class OutboxRelay {
  readonly #db: Pool;
  readonly #transport: OutboxRelayOptions['transport'];
  readonly #log: Logger;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #retry: BackoffPolicy;
  readonly #publishTimeoutMs: number;
  readonly #stalledAfterMs: number;
  readonly #degradedAfterFailures: number;
  readonly #wakeup = new Wakeup();
  readonly #listener: PgListener;
  /** Positions published and not yet marked: the next claim marks them. */
  readonly #marks: Settlements<number>;
  #stop = new AbortController();
  #running: Promise<void> | undefined;
  #failures = 0;

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#transport = options.transport;
    this.#log = options.log;
    this.#batchSize = options.batchSize ?? 100;
    this.#pollIntervalMs = options.pollIntervalMs ?? 10_000;
    this.#retry = options.retry ?? { baseDelayMs: 100, maxDelayMs: 30_000 };
    this.#publishTimeoutMs = options.publishTimeoutMs ?? 15_000;
    this.#stalledAfterMs = options.stalledAfterMs ?? 60_000;
    this.#degradedAfterFailures = options.degradedAfterFailures ?? 3;
    this.#listener = new PgListener({
      pool: this.#db,
      channel: OUTBOX_CHANNEL,
      log: this.#log,
      onNotify: () => this.#wakeup.wake(),
    });
    this.#marks = new Settlements({
      write: (positions) => this.#markPublished(positions),
      withinMs: options.markWithinMs ?? 100,
      log: this.#log,
      what: 'marking published events',
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
    await this.#marks.flush();
    await this.#listener.stop();
    this.#running = undefined;
  }

  /** Publishes and marks one batch now; resolves with how many events went out. Throws when publishing failed. */
  async relayOnce(): Promise<number> {
    const result = await this.#relayBatch();
    await this.#marks.flush();
    if (result.failed !== undefined)
      throw result.failed instanceof Error
        ? result.failed
        : new Error('publishing the outbox failed', { cause: result.failed });
    return result.published;
  }

  /**
   * Why the relay needs a person's attention, or undefined when it does not: parked events, an unsent event
   * older than `stalledAfterMs`, or `degradedAfterFailures` failed publishes in a row.
   */
  async degradation(): Promise<string | undefined> {
    const stats = await outboxStats(this.#db);
    const reasons: string[] = [];
    if (stats.parked > 0) reasons.push(`${stats.parked} event(s) parked`);
    if (stats.lagSeconds * 1000 > this.#stalledAfterMs)
      reasons.push(`the oldest unsent event is ${Math.round(stats.lagSeconds)} s old`);
    if (this.#failures >= this.#degradedAfterFailures)
      reasons.push(`${this.#failures} failed publishes in a row`);
    return reasons.length === 0 ? undefined : reasons.join('; ');
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      let result: BatchResult;
      try {
        result = await this.#relayBatch();
      } catch (error) {
        result = { published: 0, parked: 0, failed: error };
      }
      if (result.failed !== undefined) {
        this.#failures += 1;
        const retryInMs = backoffDelay(this.#failures, this.#retry);
        this.#log.warn(
          { err: result.failed, failures: this.#failures, retryInMs },
          'publishing the outbox failed; retrying',
        );
        await sleep(retryInMs, this.#stop.signal);
        continue;
      }
      if (this.#failures > 0) this.#log.info({ failures: this.#failures }, 'publishing the outbox again');
      this.#failures = 0;
      if (result.published + result.parked === this.#batchSize) continue;
      await this.#wakeup.wait(this.#listener.pollInterval(this.#pollIntervalMs));
    }
  }

  /** Claims, publishes and marks one batch; if the batch is refused, its events one by one. */
  async #relayBatch(): Promise<BatchResult> {
    const claim = randomUUID();
    const rows = await this.#claim(claim);
    if (rows.length === 0) return { published: 0, parked: 0 };
    if (rows.length > 1) {
      try {
        await this.#publish(rows);
        for (const row of rows) this.#marks.add(row.position);
        return { published: rows.length, parked: 0 };
      } catch (error) {
        this.#log.debug(
          { err: error, events: rows.length },
          'the batch failed; publishing its events one by one',
        );
      }
    }
    return this.#publishEach(rows, claim);
  }

  /**
   * In order, one event per publish: an event the broker refuses for good is parked and the next one tried; at
   * the first failure a retry may fix (the broker is away), the rest of the batch is released for later.
   */
  async #publishEach(rows: Claimed[], claim: string): Promise<BatchResult> {
    let published = 0;
    let parked = 0;
    for (const [index, row] of rows.entries()) {
      // The claim covered one publish of the batch; each event alone may take as long.
      if (index > 0) await this.#renewClaim(rows.slice(index), claim);
      try {
        await this.#publish([row]);
      } catch (error) {
        if (error instanceof UnpublishableMessageError) {
          await this.#park(row, error);
          parked += 1;
          continue;
        }
        await this.#release(rows.slice(index), claim, error);
        return { published, parked, failed: error };
      }
      this.#marks.add(row.position);
      published += 1;
    }
    return { published, parked };
  }

  /**
   * One short transaction: marks what was published since the last claim, and leases the first unsent,
   * unparked, unclaimed rows to `claim`.
   */
  async #claim(claim: string): Promise<Claimed[]> {
    const published = this.#marks.take();
    try {
      const { rows } = await this.#db.query<Claimed>(
        `WITH marked AS (${markPublished('$4')})
         UPDATE outbox o
            SET claimed_by = $2, claimed_until = now() + $3 * interval '1 millisecond'
           FROM (SELECT position FROM outbox
                  WHERE published_at IS NULL AND parked_at IS NULL
                    AND (claimed_until IS NULL OR claimed_until < now())
                    AND position <> ALL($4::bigint[])
                  ORDER BY position
                  LIMIT $1
                  FOR UPDATE SKIP LOCKED) next
          WHERE o.position = next.position
         RETURNING o.position, o.envelope`,
        [this.#batchSize, claim, this.#claimMs, published],
      );
      return rows.sort((a, b) => a.position - b.position);
    } catch (error) {
      this.#marks.putBack(published);
      throw error;
    }
  }

  get #claimMs(): number {
    return 2 * this.#publishTimeoutMs;
  }

  async #renewClaim(rows: Claimed[], claim: string): Promise<void> {
    await this.#db.query(
      `UPDATE outbox SET claimed_until = now() + $3 * interval '1 millisecond'
        WHERE position = ANY($1) AND claimed_by = $2`,
      [rows.map((row) => row.position), claim, this.#claimMs],
    );
  }

  async #publish(rows: Claimed[]): Promise<void> {
    // Each event is sent as the child of a PRODUCER span of its own trace (tracing/messaging.ts).
    const publishing = startPublishSpans(
      rows.map((row) => row.envelope),
      this.#transport.name,
    );
    try {
      await withTimeout(this.#publishTimeoutMs, () => this.#transport.publish(publishing.envelopes), {
        onTimeout: 'the broker did not confirm the outbox batch in time',
      });
      publishing.end();
    } catch (error) {
      publishing.end(error);
      throw error;
    }
  }

  async #markPublished(positions: number[]): Promise<void> {
    await this.#db.query(markPublished('$1'), [positions]);
  }

  /** Records the error on the event that failed and lets the rest of the claim go, unless it was lost. */
  async #release(rows: Claimed[], claim: string, error: unknown): Promise<void> {
    await this.#db.query(
      `UPDATE outbox
          SET claimed_by = NULL, claimed_until = NULL,
              attempts = attempts + CASE WHEN position = $3 THEN 1 ELSE 0 END,
              last_error = CASE WHEN position = $3 THEN $4 ELSE last_error END
        WHERE position = ANY($1) AND claimed_by = $2`,
      [rows.map((row) => row.position), claim, rows[0]!.position, describe(error)],
    );
  }

  async #park(row: Claimed, error: UnpublishableMessageError): Promise<void> {
    await this.#db.query(
      `UPDATE outbox
          SET parked_at = now(), last_error = $2, attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL
        WHERE position = $1 AND published_at IS NULL`,
      [row.position, describe(error)],
    );
    this.#log.error(
      { err: error, eventId: row.envelope.id, type: row.envelope.type },
      'the broker refused an event for good; parked it and went on',
    );
  }
}

/** The statement marking the events at the positions in parameter `positions` (e.g. `$1`) published. */
const markPublished = (positions: string) => `UPDATE outbox
    SET published_at = now(), attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL
  WHERE position = ANY(${positions}::bigint[])`;

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 2000);
}
