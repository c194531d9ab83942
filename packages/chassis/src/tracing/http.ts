// HTTP server spans: one SERVER span per request, continuing the caller's `traceparent`, with everything the
// request causes (its handler, its calls, its queries, the events it stores) inside it.
import type { IncomingMessage } from 'node:http';
import { SpanKind, SpanStatusCode, context, trace, type Context, type Span } from '@opentelemetry/api';
import type { App } from '../plugins/http.ts';
import { contextFromHeaders, tracer } from './tracer.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's SERVER span; undefined for the probes and /metrics, which are not traced. */
    span: Span | undefined;
  }
}

/** Probes and scrapes arrive every few seconds from machines, not people: tracing them would bury the orders. */
const untraced = (url: string) => url.startsWith('/health') || url === '/metrics';

export function traceRequests(app: App): void {
  app.decorateRequest('span', undefined);
  // Callback style on purpose: the rest of the request, handler included, runs inside `done`, in the span.
  app.addHook('onRequest', (request, _reply, done) => {
    if (untraced(request.url)) return done();
    const { span, within } = startServerSpan(request.raw, request.routeOptions.url, request.ip);
    request.span = span;
    context.with(within, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = request.span;
    if (span !== undefined) {
      // A route that serves many paths (the gateway's proxy) names the one it took, as it does for the metrics.
      if (request.metricsRoute !== undefined) {
        span.updateName(`${request.method} ${request.metricsRoute}`);
        span.setAttribute('http.route', request.metricsRoute);
      }
      endServerSpan(span, reply.statusCode);
      request.span = undefined;
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = request.span;
    if (span !== undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client went away' });
      span.end();
      request.span = undefined;
    }
    done();
  });
}

/**
 * The SERVER span of a request, continuing its caller's trace, and the context to run the request in; for the
 * hook above and for a front handler that answers without fastify (the gateway's proxy fast path).
 */
export function startServerSpan(
  request: Pick<IncomingMessage, 'method' | 'url' | 'headers'>,
  route: string | undefined,
  clientAddress: string | undefined,
): { span: Span; within: Context } {
  const parent = contextFromHeaders(request.headers);
  const method = request.method ?? 'GET';
  const span = tracer().startSpan(
    route === undefined ? method : `${method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'url.path': (request.url ?? '/').split('?', 1)[0],
        ...(route === undefined ? {} : { 'http.route': route }),
        ...(clientAddress === undefined ? {} : { 'client.address': clientAddress }),
      },
    },
    parent,
  );
  return { span, within: trace.setSpan(parent, span) };
}

export function endServerSpan(span: Span, statusCode: number): void {
  span.setAttribute('http.response.status_code', statusCode);
  // A 4xx is the client's mistake, not a failure of this server (OpenTelemetry's rule for SERVER spans).
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
