// What this instance's registry knows, as a metric: a caller that sees fewer instances of a service than are
// running routes around the missing ones, which an alert compares with what Prometheus scrapes.
import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import type { Registry } from './index.ts';

export function registerRegistryMetrics(
  registry: Pick<Registry, 'services' | 'instances'>,
  metrics: MetricsRegistry,
): void {
  // A service seen once stays in the metric, at 0 when none of its instances is left: that is what the alert sees.
  const seen = new Set<string>();
  new Gauge({
    name: 'registry_instances',
    help: "Instances of each service this instance's registry knows now (its cache of etcd, or DNS answers).",
    labelNames: ['upstream'],
    registers: [metrics],
    collect() {
      for (const service of registry.services()) seen.add(service);
      for (const service of seen) this.set({ upstream: service }, registry.instances(service).length);
    },
  });
}
