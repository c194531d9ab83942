// The gateway's own settings beside the chassis' ones: the route table, rate limits and token verification.
// Every value here is read live, so a change in the config center applies without a restart unless noted.
import { fileURLToPath } from 'node:url';
import Type, { type Static } from 'typebox';

/** The services a public route may lead to; the gateway itself is not one of them. */
export const ROUTED_SERVICES = ['users', 'orders', 'payments', 'inventory', 'notifications'] as const;
export type RoutedService = (typeof ROUTED_SERVICES)[number];

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const RouteConfig = Type.Object(
  {
    // Whole segments, no trailing slash, never under /internal (route.table.ts checks the rest).
    prefix: Type.String({ pattern: '^(?!/internal(?:/|$))(?:/[^/?#\\s]+)+$' }),
    service: Type.Enum(ROUTED_SERVICES),
    methods: Type.Array(Type.Enum(HTTP_METHODS), { minItems: 1 }),
    timeoutMs: Type.Integer({ minimum: 1, maximum: 120_000, default: 5000 }),
    retries: Type.Integer({ minimum: 0, maximum: 5, default: 1 }),
  },
  { additionalProperties: false },
);
export type RouteConfig = Static<typeof RouteConfig>;

/** The public API (docs/api.md). Reads are retried; orders and payments get more time (a saga runs behind). */
export const DEFAULT_ROUTES: RouteConfig[] = [
  { prefix: '/api/users', service: 'users', methods: ['GET', 'POST', 'PATCH'], timeoutMs: 5000, retries: 2 },
  { prefix: '/api/auth', service: 'users', methods: ['POST'], timeoutMs: 5000, retries: 2 },
  { prefix: '/.well-known/jwks.json', service: 'users', methods: ['GET'], timeoutMs: 5000, retries: 2 },
  {
    prefix: '/api/products',
    service: 'inventory',
    methods: ['GET', 'POST', 'PATCH'],
    timeoutMs: 5000,
    retries: 2,
  },
  { prefix: '/api/orders', service: 'orders', methods: ['GET', 'POST'], timeoutMs: 10_000, retries: 1 },
  { prefix: '/api/payments', service: 'payments', methods: ['GET'], timeoutMs: 10_000, retries: 1 },
  { prefix: '/api/notifications', service: 'notifications', methods: ['GET'], timeoutMs: 5000, retries: 2 },
];

/** The repository's web/ folder (the storefront and the console), found from this file, so any cwd works. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

/**
 * The admin API parts served by the services that own the data: always routed, whatever `routes` says. A
 * service answers for itself under /api/admin/services/<name>; orders also for its sagas.
 */
export const ADMIN_ROUTES: RouteConfig[] = [
  { prefix: '/api/admin/sagas', service: 'orders', methods: ['GET', 'POST'], timeoutMs: 10_000, retries: 1 },
  ...ROUTED_SERVICES.map((service): RouteConfig => ({
    prefix: `/api/admin/services/${service}`,
    service,
    methods: ['GET', 'PUT', 'POST'],
    timeoutMs: 10_000,
    retries: 1,
  })),
];

export const gatewayConfig = {
  routes: Type.Array(RouteConfig, { default: DEFAULT_ROUTES }),
  rateLimit: Type.Object(
    {
      /**
       * Where counters live; read once at start. `redis` shares one limit across every gateway; while Redis is
       * unreachable each gateway counts in its own memory instead.
       */
      store: Type.Enum(['memory', 'redis'], { default: 'memory' }),
      /** The Redis the shared counters live in; read once at start. */
      redisUrl: Type.String({ default: 'redis://127.0.0.1:6379' }),
      /** Prepended to every counter's Redis key, so gateways of one shop share counters and others don't. */
      redisKeyPrefix: Type.String({ default: 'souk:rate-limit:' }),
      /** A Redis command slower than this counts the request in memory instead; read once at start. */
      redisTimeoutMs: Type.Integer({ minimum: 10, maximum: 5000, default: 200 }),
      /** Requests per window for one user, or for one client IP when no token is presented. */
      max: Type.Integer({ minimum: 1, default: 6000 }),
      /** `POST /api/auth/login` per client IP per window, whoever the caller claims to be. */
      loginMax: Type.Integer({ minimum: 1, default: 600 }),
      /** `POST /api/users` per client IP per window: each registration costs an argon2id hash. */
      registerMax: Type.Integer({ minimum: 1, default: 10 }),
      windowMs: Type.Integer({ minimum: 1000, default: 60_000 }),
      clients: Type.Integer({
        minimum: 100,
        default: 10_000,
        description:
          'How many clients the in-memory store tracks (least recently seen dropped first); read once at start.',
      }),
    },
    { default: {} },
  ),
  admin: Type.Object(
    {
      /** How often the RED charts of the console get a point; read once at start. */
      redSampleMs: Type.Integer({ minimum: 100, default: 5000 }),
      /** How many points they keep (61 at 5 s: the last five minutes); read once at start. */
      redSamples: Type.Integer({ minimum: 2, maximum: 1000, default: 61 }),
    },
    { default: {} },
  ),
  supervisor: Type.Object(
    {
      /** The local profile's supervisor control endpoint (loopback), for the break panel; the supervisor sets it. */
      controlUrl: Type.Optional(Type.String()),
      secret: Type.Optional(Type.String({ minLength: 32 })),
    },
    { default: {}, description: 'Absent in a fleet or a container, where nothing supervises the processes.' },
  ),
  auth: Type.Object(
    {
      /** After an unknown key id, the users service's key set is fetched again at most this often. */
      jwksRefetchCooldownMs: Type.Integer({ minimum: 0, default: 30_000 }),
      /** A key set older than this is refreshed in the background, so a removed key stops being trusted. */
      jwksMaxAgeMs: Type.Integer({ minimum: 1000, default: 600_000 }),
      /** Verified tokens remembered until they expire, so a repeated token costs a map lookup. */
      tokenCacheSize: Type.Integer({ minimum: 1, default: 10_000 }),
    },
    { default: {} },
  ),
  web: Type.Object(
    {
      /**
       * The folder whose subfolders are served as pages at /<subfolder>/ (web/store at /store/, web/console at
       * /console/); read once at start. A folder that does not exist serves no pages, and the API still runs.
       */
      root: Type.String({ default: DEFAULT_WEB_ROOT }),
    },
    { default: {} },
  ),
};
