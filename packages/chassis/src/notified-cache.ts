// A read-through cache of rows that the database itself says are stale: a trigger NOTIFYs the changed row's key,
// every instance LISTENs and forgets it. While the listen connection is down nothing is cached or served from
// memory, so a notification lost with the connection can leave nothing stale behind.
import { LRUCache } from 'lru-cache';
import type { Pool } from './db.ts';
import type { Logger } from './logger.ts';
import { PgListener } from './messaging/wakeups.ts';
import type { Worker } from './service.ts';

/**
 * How long an entry may be served at most: a listen connection can die without a word (a half-open TCP
 * connection), and this bounds what such a loss could leave stale.
 */
const MAX_AGE_MS = 60_000;

export interface NotifiedCacheOptions<V> {
  /** Names the worker that listens, e.g. `account-cache`. */
  name: string;
  pool: Pool;
  /** The channel a trigger notifies with the key of each updated or deleted row as its payload. */
  channel: string;
  log: Logger;
  /** How many entries are kept; the least recently used go first. */
  max: number;
  /** Reads the rows of those keys that exist, keyed as the notifications name them. */
  load: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>;
}

export class NotifiedCache<V extends object> {
  readonly #load: NotifiedCacheOptions<V>['load'];
  readonly #entries: LRUCache<string, V>;
  readonly #listener: PgListener;
  readonly #name: string;
  /**
   * Counts what made entries stale (an eviction, or notifications that may have been missed). A read that
   * overlapped one may hold a row from before the change, so it is returned but not kept.
   */
  #generation = 0;

  constructor(options: NotifiedCacheOptions<V>) {
    this.#load = options.load;
    this.#name = options.name;
    this.#entries = new LRUCache({ max: options.max, ttl: MAX_AGE_MS });
    this.#listener = new PgListener({
      pool: options.pool,
      channel: options.channel,
      log: options.log,
      onNotify: (key) => (key === undefined ? this.#forgetAll() : this.#forget(key)),
    });
  }

  /** The listening, from start to stop; until it listens, every read goes to the database. */
  worker(): Worker {
    return {
      name: this.#name,
      start: () => this.#listener.start(),
      // What is kept now could go stale unnoticed until the listener is back.
      stop: async () => {
        await this.#listener.stop();
        this.#forgetAll();
      },
    };
  }

  async get(key: string): Promise<V | undefined> {
    return (await this.getMany([key])).get(key);
  }

  /** The rows of those keys that exist: from memory when known, the rest from the database in one read. */
  async getMany(keys: readonly string[]): Promise<Map<string, V>> {
    if (!this.#listener.listening) {
      this.#forgetAll();
      return new Map(await this.#load(keys));
    }
    const found = new Map<string, V>();
    const missing = keys.filter((key) => {
      const entry = this.#entries.get(key);
      if (entry !== undefined) found.set(key, entry);
      return entry === undefined;
    });
    if (missing.length === 0) return found;
    const generation = this.#generation;
    const loaded = await this.#load(missing);
    const fresh = generation === this.#generation && this.#listener.listening;
    for (const [key, value] of loaded) {
      found.set(key, value);
      if (fresh) this.#entries.set(key, value);
    }
    return found;
  }

  #forget(key: string): void {
    this.#generation += 1;
    this.#entries.delete(key);
  }

  #forgetAll(): void {
    this.#generation += 1;
    this.#entries.clear();
  }
}
