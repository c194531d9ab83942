// The proxy's fast path: the plain requests that make up most of a shop's traffic (a GET or HEAD with no body,
// a plain path, no token or one verified before) are proxied from the raw node:http request, ahead of fastify.
// Fastify's routing, hooks, per-request logger and reply objects cost the gateway more CPU than the proxying
// itself. Every step the fastify route takes is taken here too, with the same helpers and the same counters:
// route table, rate limit, header hygiene, the resilient upstream client (timeouts, retries, breaker), the
// SERVER span, the request metric and log line, and problem+json answers. Anything else (a body, an unknown
// token, an unusual path, a route that does not resolve) is left to fastify, which answers it as before.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ProblemError,
  UpstreamUnavailableError,
  endServerSpan,
  problemBody,
  requestIdOf,
  runWithin,
  startServerSpan,
  type FrontHandler,
  type Logger,
  type Service,
  type UpstreamClient,
  type UpstreamResponse,
} from '@souk/chassis';
import type { AccessTokenVerifier, VerifiedCaller } from '../auth/access-token.verifier.ts';
import type { RoutedService } from '../gateway.config.ts';
import type { CompiledRoute, RouteTable } from '../routing/route.table.ts';
import { connectionOptions, forwardedRequestHeaders, isForwardedResponseHeader } from './forward.headers.ts';
import type { CountRequest, RateLimitCount } from './rate-limit.hook.ts';
import { rateLimited } from './rate-limit.hook.ts';

export interface FastProxyOptions {
  routes: () => RouteTable<RoutedService>;
  verifier: AccessTokenVerifier;
  upstream: (service: RoutedService) => UpstreamClient;
  count: CountRequest;
  /** Maps an unavailable upstream to the problem the client sees (the fastify route's own mapping). */
  upstreamProblem: (error: UpstreamUnavailableError) => ProblemError;
  log: Logger;
  metrics: Service<unknown>['metrics'];
}

/**
 * A target with nothing fastify would refuse or rewrite: no percent-encoding (so it is already normalised, and
 * its path and query decode to themselves), only characters RFC 3986 allows unencoded, and no key that could
 * reach a prototype. The rest (rare in practice) takes the full way.
 */
const PLAIN_TARGET = /^\/[\w\-.~!$&'()*+,;=:@/]*(?:\?[\w\-.~!$&'()*+,;=:@/?]*)?$/;
const MAX_PLAIN_TARGET = 2048;
const NO_BODY_STATUSES = new Set([204, 304]);

type Histogram = { labels(...values: string[]): { observe(value: number): void } };

export function startFastProxy(options: FastProxyOptions): FrontHandler {
  const duration = options.metrics.getSingleMetric(
    'http_server_request_duration_seconds',
  ) as unknown as Histogram;
  // Label children made once per (method, route, status): observing then costs no label hashing.
  const observers = new Map<string, { observe(value: number): void }>();
  const observe = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${route} ${status}`;
    let observer = observers.get(key);
    if (observer === undefined) {
      observer = duration.labels(method, route, String(status));
      observers.set(key, observer);
    }
    observer.observe(seconds);
  };

  return (request, response) => {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const headers = request.headers;
    // A body (or the promise of one) and an Idempotency-Key each have checks of their own on the full way.
    if (
      headers['content-length'] !== undefined ||
      headers['transfer-encoding'] !== undefined ||
      headers['idempotency-key'] !== undefined
    )
      return false;
    const target = request.url!;
    if (target.length > MAX_PLAIN_TARGET || !PLAIN_TARGET.test(target) || target.includes('__proto__'))
      return false;
    const resolution = options.routes().resolve(method, target);
    if (resolution.outcome !== 'proxy') return false;
    let caller: VerifiedCaller | null = null;
    if (headers.authorization !== undefined) {
      // A token not verified yet is verified on the full way, which remembers it for the next request.
      caller = options.verifier.lookup(headers.authorization) ?? null;
      if (caller === null) return false;
    }
    void proxy(request, response, resolution.route, caller);
    return true;
  };

  async function proxy(
    request: IncomingMessage,
    response: ServerResponse,
    route: CompiledRoute<RoutedService>,
    caller: VerifiedCaller | null,
  ): Promise<void> {
    const started = performance.now();
    const method = request.method!;
    const target = request.url!;
    const requestId = requestIdOf(request.headers);
    const clientIp = request.socket.remoteAddress ?? '';
    // Named by the route taken, as the fastify way names it (tracing/http.ts).
    const { span, within } = startServerSpan(request, route.prefix, clientIp);
    const answer: string[] = ['x-request-id', requestId];
    try {
      const limit = await countRequest(clientIp, caller);
      answer.push(
        'x-ratelimit-limit',
        String(limit.max),
        'x-ratelimit-remaining',
        String(limit.exceeded ? 0 : limit.remaining),
        'x-ratelimit-reset',
        String(limit.resetSeconds),
      );
      if (limit.exceeded) {
        answer.push('retry-after', String(limit.resetSeconds));
        throw rateLimited(limit.resetSeconds * 1000);
      }
      const upstream = await runWithin(within, () =>
        options.upstream(route.service).request({
          method,
          path: target,
          headers: forwardedRequestHeaders(request.headers, {
            requestId,
            clientIp,
            protocol: 'http',
            identity: caller?.identity,
          }),
          idempotent: true,
          timeoutMs: route.timeoutMs,
          retries: route.retries,
        }),
      );
      sendUpstream(response, method, upstream, answer);
    } catch (error) {
      sendProblem(response, target, requestId, answer, problemFor(error, route.service, requestId));
    } finally {
      const status = response.statusCode;
      endServerSpan(span, status);
      const elapsedMs = performance.now() - started;
      observe(method, route.prefix, status, elapsedMs / 1000);
      if (options.log.isLevelEnabled('info'))
        options.log.info(
          // The span is no longer active here, so its trace is named as the logger's mixin would name it.
          {
            requestId,
            traceId: span.spanContext().traceId,
            method,
            url: target,
            status,
            ms: Math.round(elapsedMs),
          },
          'request served',
        );
    }
  }

  function countRequest(ip: string, caller: VerifiedCaller | null): Promise<RateLimitCount> {
    return new Promise((resolve, reject) => {
      // GET and HEAD have no stricter per-IP bucket (those are for logins and registrations).
      options.count({ userKey: caller?.rateLimitKey, ip }, (error, count) => {
        if (error !== null || count === undefined) reject(error ?? new Error('the request was not counted'));
        else resolve(count);
      });
    });
  }

  function problemFor(error: unknown, service: RoutedService, requestId: string): ProblemError {
    if (error instanceof ProblemError) return error;
    if (error instanceof UpstreamUnavailableError) return options.upstreamProblem(error);
    options.log.error({ err: error, service, requestId }, 'proxying failed');
    return new ProblemError(502, 'BAD_GATEWAY', `The ${service} service could not be called.`);
  }
}

/** The upstream's answer, its hop-by-hop headers dropped, in one write with the gateway's own headers. */
function sendUpstream(
  response: ServerResponse,
  method: string,
  upstream: UpstreamResponse,
  answer: string[],
): void {
  const named = connectionOptions(upstream.headers.connection);
  let typed = false;
  let sized = false;
  for (const name in upstream.headers) {
    const value = upstream.headers[name];
    if (value === undefined || !isForwardedResponseHeader(name, named)) continue;
    if (name === 'content-type') typed = true;
    else if (name === 'content-length') {
      // As fastify does: a length that does not match the body is replaced by the body's (HEAD aside).
      if (method !== 'HEAD' && Number(value) !== upstream.body.length) continue;
      sized = true;
    }
    if (Array.isArray(value)) for (const item of value) answer.push(name, item);
    else answer.push(name, value);
  }
  const body = upstream.body;
  if (!NO_BODY_STATUSES.has(upstream.status)) {
    if (!typed && body.length > 0) answer.push('content-type', 'application/octet-stream');
    if (!sized) answer.push('content-length', String(body.length));
  }
  response.writeHead(upstream.status, answer);
  response.end(body);
}

/** A problem+json answer, as the chassis' error handler words it for the full way. */
function sendProblem(
  response: ServerResponse,
  target: string,
  requestId: string,
  answer: string[],
  problem: ProblemError,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  for (const name in problem.headers) answer.push(name, problem.headers[name]!);
  const body = Buffer.from(
    JSON.stringify({
      ...problemBody(problem.status, problem.code, problem.message, target, requestId),
      ...problem.extensions,
    }),
  );
  answer.push(
    'content-type',
    'application/problem+json; charset=utf-8',
    'content-length',
    String(body.length),
  );
  response.writeHead(problem.status, answer);
  response.end(body);
}
