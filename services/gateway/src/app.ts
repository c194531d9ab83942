// Builds the gateway: the chassis service plus the route table, token verification, rate limiting, the
// proxy route and the web pages. No database; every setting comes from the live config.
import { createService, type ConfigSource, type Service, type ServiceConfig } from '@souk/chassis';
import { AccessTokenVerifier } from './auth/access-token.verifier.ts';
import { JwksCache, fetchKeySet } from './auth/jwks.cache.ts';
import { gatewayConfig } from './gateway.config.ts';
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
    acceptsIdentity: false,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.configSource === undefined ? {} : { configSource: options.configSource }),
  });
  const { config, log } = service;

  let routes = compileRouteTable(config.current.routes);
  config.onChange((next) => {
    try {
      routes = compileRouteTable(next.routes);
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
  await registerProxyRoute(service.app, {
    routes: () => routes,
    verifier: new AccessTokenVerifier({
      jwks,
      signer: service.identity,
      clock,
      cacheSize: () => config.current.auth.tokenCacheSize,
    }),
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
