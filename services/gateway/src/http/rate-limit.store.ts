// Rate-limit counters shared by every gateway through Redis, in the memory store's fixed windows; while Redis is
// unreachable or slow, each gateway counts in its own memory, so a Redis outage never refuses or stalls a request.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { backoffDelay, withTimeout } from '@souk/chassis';

type Counted = { current: number; ttl: number };
type Counter = Pick<FastifyRateLimitStore, 'incr'>;

/** A counter store as the plugin uses it, its children included. */
export interface Counters extends Counter {
  child(): Counters;
}

/** The plugin's own in-memory store (not in its typed surface): the very counters the memory setting uses. */
const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache: number,
) => Counter;

/** The plugin's memory store as one set of counters: a child (what `app.rateLimit()` asks for) is the same
 * store, so that a request counted outside fastify counts in the very counters fastify's check reads. */
export function memoryCounters(clients: number): Counters {
  const store = new LocalStore(false, false, clients);
  const counters: Counters = {
    incr: store.incr.bind(store),
    child: () => counters,
  };
  return counters;
}

/** One atomic step of a fixed window: the first request opens it for `windowMs`; returns {count, ms left}. */
const COUNT_REQUEST = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`;

interface CountingRedis extends Redis {
  soukCountRequest(key: string, windowMs: number): Promise<[number, number]>;
}

/** While Redis is out, at most one request in this many milliseconds tries it again; the rest go to memory. */
const PROBE_INTERVAL_MS = 1000;

export interface SharedCountersOptions {
  url: string;
  keyPrefix: string;
  /** A command slower than this fails, and the request is counted in memory. */
  timeoutMs: number;
  /** How many clients the memory fallback tracks. */
  clients: number;
  log: FastifyBaseLogger;
}

export class SharedCounters implements Counter {
  readonly #redis: CountingRedis;
  readonly #memory: Counter;
  readonly #keyPrefix: string;
  readonly #log: FastifyBaseLogger;
  readonly #connectTimeoutMs: number;
  #degraded = false;
  #probeAt = 0;

  constructor(options: SharedCountersOptions) {
    this.#keyPrefix = options.keyPrefix;
    this.#log = options.log;
    this.#memory = new LocalStore(false, false, options.clients);
    this.#connectTimeoutMs = Math.max(options.timeoutMs, 1000);
    // No queue and no retries: a command either answers within the timeout or the request is counted locally.
    this.#redis = new Redis(options.url, {
      commandTimeout: options.timeoutMs,
      connectTimeout: this.#connectTimeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: (attempt) => backoffDelay(attempt, { baseDelayMs: 200, maxDelayMs: 2000 }),
    }) as CountingRedis;
    // ioredis reports every failed reconnect here; the outage is logged once by incr instead.
    this.#redis.on('error', () => {});
    this.#redis.defineCommand('soukCountRequest', { numberOfKeys: 1, lua: COUNT_REQUEST });
  }

  /** Waits, at most a connect timeout, for the first connection, so a starting gateway shares from its first request. */
  async connect(): Promise<void> {
    if (this.#redis.status === 'ready') return;
    await withTimeout(this.#connectTimeoutMs, (signal) => once(this.#redis, 'ready', { signal })).catch(
      () => {}, // not yet: counted locally until it connects
    );
  }

  incr(
    key: string,
    callback: (error: Error | null, result?: Counted) => void,
    timeWindow: number,
    max: number,
  ) {
    if (this.#degraded && (this.#redis.status !== 'ready' || Date.now() < this.#probeAt)) {
      this.#memory.incr(key, callback, timeWindow, max);
      return;
    }
    this.#redis.soukCountRequest(this.#keyPrefix + key, timeWindow).then(
      ([current, ttl]) => {
        if (this.#degraded) {
          this.#degraded = false;
          this.#log.info('Redis is back; rate limits are shared across gateways again');
        }
        callback(null, { current, ttl });
      },
      (error: unknown) => {
        if (!this.#degraded) {
          this.#degraded = true;
          this.#log.warn(
            { err: error },
            'Redis unreachable; rate limits are counted per gateway until it is back',
          );
        }
        this.#probeAt = Date.now() + PROBE_INTERVAL_MS;
        this.#memory.incr(key, callback, timeWindow, max);
      },
    );
  }

  /** For readiness: degraded, never down, while Redis does not answer (each gateway then counts alone). */
  readonly check = async (): Promise<void | { degraded: string }> => {
    if (!this.#degraded && this.#redis.status === 'ready') return undefined;
    return { degraded: 'Redis unreachable; rate limits are counted per gateway until it is back' };
  };

  /** A route with limits of its own counts under the same keys; the gateway's buckets are in the keys already. */
  child(): this {
    return this;
  }

  close(): void {
    this.#redis.disconnect();
  }
}
