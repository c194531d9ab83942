// How a polling loop learns early that there is work: a Wakeup it sleeps on, a PgListener that wakes it on
// NOTIFY, and a sleep that shutdown can cut short.
import { setTimeout as delay } from 'node:timers/promises';
import { backoffDelay } from '@souk/kit';
import type { Logger } from '../logger.ts';
import type { Pool, Transaction } from '../db.ts';

/** Sleeps `ms`, or less when `signal` aborts; never rejects. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => {});
}

/**
 * Sleep until woken or a timeout passes. A wake-up that comes while nobody waits is kept for the next wait, so a
 * notification that arrives during a poll is never lost.
 */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  wake(): void {
    const resolve = this.#resolve;
    if (resolve === undefined) {
      this.#pending = true;
      return;
    }
    this.#resolve = undefined;
    clearTimeout(this.#timer);
    resolve();
  }

  /** Resolves on the next `wake()` (or a pending one), or after `ms`. One waiter at a time. */
  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => {
        this.#resolve = undefined;
        resolve();
      }, ms);
    });
  }
}

/** How often callers poll while their listen connection is down and notifications may be missed. */
const LISTEN_DOWN_POLL_MS = 1000;

export interface PgListenerOptions {
  pool: Pool;
  channel: string;
  log: Logger;
  /** Called with each notification's payload, and with `undefined` after a reconnect (some may be lost). */
  onNotify: (payload: string | undefined) => void;
}

/**
 * Holds one connection that LISTENs on a channel, and re-establishes it with backoff when it drops. Listening
 * is an optimisation (callers also poll), so failing to listen is logged, never thrown.
 */
export class PgListener {
  readonly #options: PgListenerOptions;
  #client: Transaction | undefined;
  #stopped = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;

  constructor(options: PgListenerOptions) {
    this.#options = options;
  }

  /** Whether the listen connection is up, so that notifications arrive; while it is not, some may be missed. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  /**
   * How long a caller may sleep between polls: `safetyPollMs` while notifications arrive (the listen connection
   * is up), at most LISTEN_DOWN_POLL_MS while they may be missed.
   */
  pollInterval(safetyPollMs: number): number {
    return this.listening ? safetyPollMs : Math.min(safetyPollMs, LISTEN_DOWN_POLL_MS);
  }

  start(): Promise<void> {
    this.#stopped = false;
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    try {
      await client.query(`UNLISTEN ${client.escapeIdentifier(this.#options.channel)}`);
      client.release();
    } catch (error) {
      client.release(error as Error);
    }
  }

  async #connect(): Promise<void> {
    const { pool, channel, log, onNotify } = this.#options;
    let client: Transaction | undefined;
    try {
      client = await pool.connect();
      const current = client;
      current.on('notification', (message) => {
        if (message.channel === channel) onNotify(message.payload);
      });
      current.on('error', (error) => this.#lost(current, error));
      await current.query(`LISTEN ${current.escapeIdentifier(channel)}`);
      if (this.#stopped) {
        current.release();
        return;
      }
      this.#client = current;
      if (this.#failures > 0) {
        log.info({ channel }, 'listening again');
        onNotify(undefined);
      }
      this.#failures = 0;
    } catch (error) {
      client?.release(error as Error);
      this.#scheduleRetry(error);
    }
  }

  #lost(client: Transaction, error: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.release(error);
    this.#scheduleRetry(error);
  }

  #scheduleRetry(error: unknown): void {
    if (this.#stopped) return;
    this.#failures += 1;
    const delay = backoffDelay(this.#failures, { baseDelayMs: 200, maxDelayMs: 10_000 });
    this.#options.log.warn(
      { err: error, channel: this.#options.channel, retryInMs: delay },
      'listen connection failed; polling until it is back',
    );
    this.#retry = setTimeout(() => void this.start(), delay);
  }
}
