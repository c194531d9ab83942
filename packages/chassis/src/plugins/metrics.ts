// The metrics plugin: the service's Prometheus registry, its HTTP instrumentation and the /metrics route.
import type { Registry as MetricsRegistry } from 'prom-client';
import { createMetrics, instrumentHttp } from '../metrics.ts';
import type { App } from './http.ts';

/** The registry comes first, before the app, so the config plugin can count reloads in it. */
export function metricsRegistry(name: string): MetricsRegistry {
  return createMetrics(name);
}

export function metricsPlugin(app: App, metrics: MetricsRegistry): void {
  instrumentHttp(app, metrics);
}
