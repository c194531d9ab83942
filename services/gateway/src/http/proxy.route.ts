// The gateway's public route: a path the gateway does not serve itself is looked up in the route table,
// authenticated, rate limited, then proxied to its service through the chassis' resilient upstream client.
import {
  ProblemError,
  UpstreamUnavailableError,
  idempotencyKeyHeader,
  type App,
  type FrontHandler,
  type Logger,
  type Service,
  type UpstreamClient,
} from '@souk/chassis';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessTokenVerifier, VerifiedCaller } from '../auth/access-token.verifier.ts';
import type { RoutedService } from '../gateway.config.ts';
import { normalizeTarget, type CompiledRoute, type RouteTable } from '../routing/route.table.ts';
import { connectionOptions, forwardedRequestHeaders, isForwardedResponseHeader } from './forward.headers.ts';
import { startFastProxy } from './fast-proxy.ts';
import {
  createRateLimit,
  type AddHealthCheck,
  type IpBucket,
  type RateLimitSettings,
} from './rate-limit.hook.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guard: the route this request is proxied along. */
    gatewayRoute: CompiledRoute<RoutedService> | null;
    /** Set by the guard: the request target as routed, limited and forwarded (see normalizeTarget). */
    gatewayTarget: string;
    /** Set by the guard when the request carried a valid access token. */
    gatewayCaller: VerifiedCaller | null;
  }
}

export interface ProxyOptions {
  routes: () => RouteTable<RoutedService>;
  verifier: AccessTokenVerifier;
  upstream: (service: RoutedService) => UpstreamClient;
  rateLimit: () => RateLimitSettings;
  /** Adds to readiness; the shared counter store reports an outage there. */
  addHealthCheck: AddHealthCheck;
  /** Seconds a client should wait before retrying a service whose breaker is open. */
  breakerRetryAfterSeconds: (service: RoutedService) => number;
  /** The service's turn before fastify, for the fast path (fast-proxy.ts). */
  handleFirst: (handler: FrontHandler) => void;
  /** Where the request metric is (the fast path observes it too). */
  metrics: Service<unknown>['metrics'];
}

/** Requests with a stricter per-IP limit of their own: each guess at a password, each new account's hash. */
const IP_BUCKETS: ReadonlyMap<string, IpBucket> = new Map([
  ['POST /api/auth/login', 'login'],
  ['POST /api/users', 'register'],
]);

export async function registerProxyRoute(app: App, options: ProxyOptions): Promise<void> {
  app.decorateRequest('gatewayRoute', null);
  app.decorateRequest('gatewayCaller', null);
  app.decorateRequest('gatewayTarget', '');
  const { check: limit, count } = await createRateLimit(app, {
    settings: options.rateLimit,
    userKey: (request) => request.gatewayCaller?.rateLimitKey,
    ipBucket: (request) => ipBucket(request.method, request.gatewayTarget),
    addHealthCheck: options.addHealthCheck,
  });

  /** Route, then identity, then rate limit, all before the body is read: a refused request costs little. */
  async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    request.gatewayTarget = normalizeTarget(request.url);
    const resolution = options.routes().resolve(request.method, request.gatewayTarget);
    if (resolution.outcome === 'not-found') {
      throw new ProblemError(404, 'ROUTE_NOT_FOUND', `No route ${request.method} ${request.url}.`);
    }
    if (resolution.outcome === 'method-not-allowed') {
      throw new ProblemError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed here.`, {
        headers: { allow: resolution.route.allow },
      });
    }
    request.gatewayRoute = resolution.route;
    request.metricsRoute = resolution.route.prefix;

    const authorization = request.headers.authorization;
    let refused: ProblemError | undefined;
    if (authorization !== undefined) {
      try {
        request.gatewayCaller =
          options.verifier.lookup(authorization) ?? (await options.verifier.verify(authorization));
      } catch (error) {
        if (error instanceof UpstreamUnavailableError) throw upstreamProblem(error, options);
        if (!(error instanceof ProblemError)) throw error;
        refused = error;
      }
    }
    // A refused token is still counted against its IP, so guessing tokens is rate limited too.
    await limit(request, reply);
    if (refused !== undefined) throw refused;
    // Node would forward repeated copies joined into one value; refused here, where the copies are still seen.
    if (request.headers['idempotency-key'] !== undefined) idempotencyKeyHeader(request);
  }

  // Bodies stay raw: the upstream parses them, a retry resends the same bytes, and the chassis' body limit
  // still answers 413 at the edge. Scoped to this plugin, so the gateway's own routes keep their parsers.
  await app.register(async (proxy) => {
    proxy.removeAllContentTypeParsers();
    proxy.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    proxy.all('/*', { schema: { hide: true }, onRequest: guard }, async (request, reply) => {
      const route = request.gatewayRoute!;
      const method = request.method;
      const headers = forwardedRequestHeaders(request.headers, {
        requestId: request.id,
        clientIp: request.ip,
        protocol: request.protocol,
        identity: request.gatewayCaller?.identity,
      });

      let response;
      try {
        response = await options.upstream(route.service).request({
          method,
          path: request.gatewayTarget,
          headers,
          body: request.body as Buffer | undefined,
          idempotent:
            method === 'GET' || method === 'HEAD' || request.headers['idempotency-key'] !== undefined,
          timeoutMs: route.timeoutMs,
          retries: route.retries,
        });
      } catch (error) {
        if (error instanceof UpstreamUnavailableError) throw upstreamProblem(error, options);
        request.log.error({ err: error, service: route.service }, 'proxying failed');
        throw new ProblemError(502, 'BAD_GATEWAY', `The ${route.service} service could not be called.`);
      }

      const named = connectionOptions(response.headers.connection);
      for (const name in response.headers) {
        const value = response.headers[name];
        if (value !== undefined && isForwardedResponseHeader(name, named)) void reply.header(name, value);
      }
      return reply.code(response.status).send(response.body);
    });
  });

  options.handleFirst(
    startFastProxy({
      routes: options.routes,
      verifier: options.verifier,
      upstream: options.upstream,
      count,
      upstreamProblem: (error) => upstreamProblem(error, options),
      log: app.log as Logger,
      metrics: options.metrics,
    }),
  );
}

/** The stricter per-IP bucket of a request, by its method and normalised target; undefined for most. */
function ipBucket(method: string, target: string): IpBucket | undefined {
  const query = target.indexOf('?');
  return IP_BUCKETS.get(`${method} ${query === -1 ? target : target.slice(0, query)}`);
}

/** What a client is told when its route's service cannot answer: 504 on a timeout, else 503 with Retry-After. */
function upstreamProblem(
  error: UpstreamUnavailableError,
  options: Pick<ProxyOptions, 'breakerRetryAfterSeconds'>,
): ProblemError {
  if (error.reason === 'timeout') {
    return new ProblemError(504, 'UPSTREAM_TIMEOUT', `The ${error.upstream} service did not answer in time.`);
  }
  const retryAfter =
    error.reason === 'circuit-open' ? options.breakerRetryAfterSeconds(error.upstream as RoutedService) : 1;
  return new ProblemError(503, 'UPSTREAM_UNAVAILABLE', `The ${error.upstream} service is ${error.reason}.`, {
    headers: { 'retry-after': String(retryAfter) },
  });
}
