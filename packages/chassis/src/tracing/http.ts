// HTTP server spans: one SERVER span per request, continuing the caller's `traceparent`, with everything the
// request causes (its handler, its calls, its queries, the events it stores) inside it.
import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
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
    const parent = contextFromHeaders(request.headers);
    const route = request.routeOptions.url;
    const span = tracer().startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?', 1)[0],
          ...(route === undefined ? {} : { 'http.route': route }),
          'client.address': request.ip,
        },
      },
      parent,
    );
    request.span = span;
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = request.span;
    if (span !== undefined) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      // A 4xx is the client's mistake, not a failure of this server (OpenTelemetry's rule for SERVER spans).
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
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
