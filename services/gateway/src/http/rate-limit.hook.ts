// Rate limits per verified user, or per client IP when no token was presented, and more strictly per IP for
// logins and registrations. The limits are read from the live config on every request; the counter store is chosen here, once.
import rateLimit, { normalizeIP, type RateLimitPluginOptions } from '@fastify/rate-limit';
import { ProblemError, type App } from '@souk/chassis';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SharedCounters, memoryCounters, type Counters } from './rate-limit.store.ts';

export interface RateLimitSettings {
  store: 'memory' | 'redis';
  redisUrl: string;
  redisKeyPrefix: string;
  redisTimeoutMs: number;
  max: number;
  loginMax: number;
  registerMax: number;
  windowMs: number;
  clients: number;
}

export interface RateLimitOptions {
  settings: () => RateLimitSettings;
  /** The key of a verified user; undefined for a request without a token. */
  userKey: (request: FastifyRequest) => string | undefined;
  /** The stricter per-IP bucket a request counts in, whoever the caller claims to be; undefined for none. */
  ipBucket: (request: FastifyRequest) => IpBucket | undefined;
  addHealthCheck: AddHealthCheck;
}

/** The service's `health.addCheck`: a check that throws is down, one that resolves `{ degraded }` is not. */
export type AddHealthCheck = (name: string, check: () => Promise<void | { degraded: string }>) => void;

export type IpBucket = 'login' | 'register';

/** Counts the request and throws a 429 problem (Retry-After and x-ratelimit-* set) once over the limit. */
export type RateLimitCheck = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Where one request counted: its window's limit, what is left of it, and when it resets. */
export interface RateLimitCount {
  max: number;
  remaining: number;
  resetSeconds: number;
  exceeded: boolean;
}

/**
 * Counts a request made without fastify (the proxy fast path) in the same counters as the check, as the
 * client `ip` or `userKey`, in the general limit (the fast path takes no request with a stricter per-IP
 * bucket). Calls back at once when the counters are in memory, after a Redis round trip when they are shared.
 */
export type CountRequest = (
  request: { userKey: string | undefined; ip: string },
  done: (error: Error | null, count?: RateLimitCount) => void,
) => void;

/** Registers @fastify/rate-limit on `app` without attaching it to any route, and returns the check and the
 * counting function; both count in one store. */
export async function createRateLimit(
  app: App,
  options: RateLimitOptions,
): Promise<{ check: RateLimitCheck; count: CountRequest }> {
  const { settings, userKey, ipBucket } = options;
  const counters = await countersFor(app, settings(), options.addHealthCheck);
  const keyOf = (bucket: IpBucket | undefined, user: string | undefined, ip: string) =>
    bucket === undefined ? (user ?? clientKey(ip)) : `${bucket}:${clientKey(ip)}`;
  const maxOf = (bucket: IpBucket | undefined) =>
    bucket === 'login'
      ? settings().loginMax
      : bucket === 'register'
        ? settings().registerMax
        : settings().max;
  await app.register(rateLimit, {
    global: false,
    // The plugin constructs its store itself; a constructor returning an object hands it this one.
    store: function counting() {
      return counters;
    } as unknown as RateLimitPluginOptions['store'],
    keyGenerator: (request) => keyOf(ipBucket(request), userKey(request), request.ip),
    max: (request) => maxOf(ipBucket(request)),
    timeWindow: () => settings().windowMs,
    errorResponseBuilder: (_request, context) => rateLimited(context.ttl),
  });
  const check = app.rateLimit();
  return {
    check: async (request, reply) => {
      await check.call(app, request, reply);
    },
    count: ({ userKey: user, ip }, done) => {
      const max = maxOf(undefined);
      counters.incr(
        keyOf(undefined, user, ip),
        (error, counted) => {
          if (error !== null || counted === undefined) return done(error ?? new Error('not counted'));
          done(null, {
            max,
            remaining: Math.max(0, max - counted.current),
            resetSeconds: Math.ceil(counted.ttl / 1000),
            exceeded: counted.current > max,
          });
        },
        settings().windowMs,
        max,
      );
    },
  };
}

/** The answer past the limit, the same whichever way the request was counted. */
export function rateLimited(ttlMs: number): ProblemError {
  return new ProblemError(429, 'RATE_LIMITED', `Too many requests; retry in ${Math.ceil(ttlMs / 1000)} s.`);
}

/** The one place the counter store is chosen. */
async function countersFor(
  app: App,
  settings: RateLimitSettings,
  addHealthCheck: AddHealthCheck,
): Promise<Counters> {
  switch (settings.store) {
    case 'memory':
      return memoryCounters(settings.clients);
    case 'redis': {
      const counters = new SharedCounters({
        url: settings.redisUrl,
        keyPrefix: settings.redisKeyPrefix,
        timeoutMs: settings.redisTimeoutMs,
        clients: settings.clients,
        log: app.log,
      });
      app.addHook('onClose', async () => counters.close());
      addHealthCheck('rateLimitStore', counters.check);
      await counters.connect();
      return counters;
    }
  }
}

/** IPv6 clients are counted per /64, which one subscriber usually holds whole. */
function clientKey(ip: string): string {
  return ip.includes(':') ? normalizeIP(ip) : ip;
}
