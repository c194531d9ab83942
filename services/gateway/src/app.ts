// Builds the gateway: the chassis service plus the route table, token verification, rate limiting, the
// proxy route, the web pages and the admin API it answers itself. Its database holds only the audit of its
// admin actions; every setting comes from the live config.
import { createService, type ConfigSource, type Service, type ServiceConfig } from '@souk/chassis';
import { AccessTokenVerifier } from './auth/access-token.verifier.ts';
import { JwksCache, fetchKeySet } from './auth/jwks.cache.ts';
import { adminIdentityHook } from './admin/admin-identity.hook.ts';
import { adminRoutes } from './admin/admin.routes.ts';
import { RedMetrics } from './admin/red-metrics.ts';
import { ADMIN_ROUTES, ROUTED_SERVICES, gatewayConfig, type RouteConfig } from './gateway.config.ts';
import { registerProxyRoute } from './http/proxy.route.ts';
import { registerWebPages } from './http/web-pages.route.ts';
import { compileRouteTable } from './routing/route.table.ts';

/** The gateway's own settings, as every service's app.ts exports them (the CLI validates against them). */
export { gatewayConfig as settings };
export type GatewayConfig = ServiceConfig<typeof gatewayConfig>;
export type Gateway = Service<GatewayConfig>;

export interface GatewayOptions {
  env?: NodeJS.ProcessEnv;
  configSource?: ConfigSource;
  /** Milliseconds since the epoch; token expiry and the key set's cooldown read it. */
  clock?: () => number;
}

export async function buildGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? Date.now;
  const service = await createService({
    name: 'gateway',
    description:
      'The one public entry to Souk: routes, authenticates and rate limits every call to the services.',
    config: gatewayConfig,
    // Only the chassis' tables: the audit of the admin actions the gateway performs itself.
    migrations: [],
    databaseOptional: true,
    acceptsIdentity: false,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.configSource === undefined ? {} : { configSource: options.configSource }),
  });
  const { config, log } = service;

  let routes = compileRouteTable(withAdminRoutes(config.current.routes));
  config.onChange((next) => {
    try {
      routes = compileRouteTable(withAdminRoutes(next.routes));
      log.info({ routes: routes.routes.length }, 'route table reloaded');
    } catch (error) {
      log.error({ err: error }, 'route table rejected; keeping the previous one');
    }
  });

  const users = service.upstream('users');
  const jwks = new JwksCache({
    fetch: () => fetchKeySet(users),
    clock,
    settings: () => config.current.auth,
    onRefreshError: (error) => log.warn({ err: error }, 'could not refresh the users key set'),
  });
  service.health.addCheck('jwks', () => jwks.ready());

  await registerWebPages(service.app, config.current.web.root);

  const verifier = new AccessTokenVerifier({
    jwks,
    signer: service.identity,
    clock,
    cacheSize: () => config.current.auth.tokenCacheSize,
  });
  adminIdentityHook(service.app, verifier, service.identity);
  const red = new RedMetrics(service.metrics, {
    intervalMs: config.current.admin.redSampleMs,
    keep: config.current.admin.redSamples,
  });
  service.addWorker({ name: 'red-metrics', start: () => red.start(), stop: async () => red.stop() });
  adminRoutes(service.app, {
    registry: service.registry,
    upstreams: () => service.upstreams(),
    upstream: (name) => service.upstream(name),
    services: ROUTED_SERVICES,
    red,
    db: () => (service.hasDatabase ? service.db : undefined),
    supervisor: () => {
      const { controlUrl, secret } = config.current.supervisor;
      return controlUrl === undefined || secret === undefined ? undefined : { url: controlUrl, secret };
    },
    signer: service.identity,
  });

  await registerProxyRoute(service.app, {
    routes: () => routes,
    verifier,
    upstream: (name) => service.upstream(name),
    rateLimit: () => config.current.rateLimit,
    addHealthCheck: (name, check) => service.health.addCheck(name, check),
    handleFirst: (handler) => service.handleFirst(handler),
    metrics: service.metrics,
    breakerRetryAfterSeconds: (name) =>
      Math.ceil((config.current.upstreams[name]?.breaker.halfOpenAfterMs ?? 5000) / 1000),
  });
  return service;
}

/** The admin routes first; a configured route with the same prefix gives way to them. */
function withAdminRoutes(configured: readonly RouteConfig[]): RouteConfig[] {
  const admin = new Set(ADMIN_ROUTES.map((route) => route.prefix));
  return [...ADMIN_ROUTES, ...configured.filter((route) => !admin.has(route.prefix))];
}
