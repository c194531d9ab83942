// Rate limits per verified user, or per client IP when no token was presented, and more strictly per IP for
// logins and registrations. The limits are read from the live config on every request; the counter store is chosen here, once.
import rateLimit, { normalizeIP, type RateLimitPluginOptions } from '@fastify/rate-limit';
import { ProblemError, type App } from '@souk/chassis';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SharedCounters } from './rate-limit.store.ts';

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

/** Registers @fastify/rate-limit on `app` without attaching it to any route, and returns the check. */
export async function createRateLimit(app: App, options: RateLimitOptions): Promise<RateLimitCheck> {
  const { settings, userKey, ipBucket } = options;
  await app.register(rateLimit, {
    global: false,
    ...(await storeOptions(app, settings(), options.addHealthCheck)),
    keyGenerator: (request) => {
      const bucket = ipBucket(request);
      return bucket === undefined
        ? (userKey(request) ?? clientKey(request.ip))
        : `${bucket}:${clientKey(request.ip)}`;
    },
    max: (request) => {
      const bucket = ipBucket(request);
      return bucket === 'login'
        ? settings().loginMax
        : bucket === 'register'
          ? settings().registerMax
          : settings().max;
    },
    timeWindow: () => settings().windowMs,
    errorResponseBuilder: (_request, context) =>
      new ProblemError(429, 'RATE_LIMITED', `Too many requests; retry in ${context.after}.`),
  });
  const check = app.rateLimit();
  return async (request, reply) => {
    await check.call(app, request, reply);
  };
}

/** The one place the counter store is chosen. */
async function storeOptions(
  app: App,
  settings: RateLimitSettings,
  addHealthCheck: AddHealthCheck,
): Promise<Partial<RateLimitPluginOptions>> {
  switch (settings.store) {
    case 'memory':
      return { cache: settings.clients };
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
      // The plugin constructs its store itself; a constructor returning an object hands it this one.
      return {
        store: function sharedCounters() {
          return counters;
        } as unknown as RateLimitPluginOptions['store'],
      };
    }
  }
}

/** IPv6 clients are counted per /64, which one subscriber usually holds whole. */
function clientKey(ip: string): string {
  return ip.includes(':') ? normalizeIP(ip) : ip;
}
