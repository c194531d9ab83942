// Prometheus metrics: the process defaults plus RED (rate, errors, duration) per route.
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The route label for metrics when the matched URL pattern says too little (the gateway's catch-all). */
    metricsRoute: string | undefined;
  }
}
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // The event-loop lag is sampled every 100 ms: the default 10 ms timer wakes an idle process 100 times a second.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return registry;
}

export function instrumentHttp(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP requests served, by route and status; count is the rate, status >= 500 the errors.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.decorateRequest('metricsRoute', undefined);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.metricsRoute ?? request.routeOptions.url ?? 'unmatched';
    if (route.startsWith('/health') || route === '/metrics') return;
    duration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
