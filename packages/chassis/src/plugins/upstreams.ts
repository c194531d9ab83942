// The upstreams plugin: one resilient client per service called, made on first use (and listed for operators), its policy from
// `upstreams.<name>` in config and reapplied live when that changes; each breaker's state is a metric.
import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import type { Registry } from '../registry/index.ts';
import { UpstreamClient, type ResiliencePolicy } from '../resilience.ts';
import type { Closers } from './closers.ts';
import type { BaseLiveConfig } from './config.ts';

export interface UpstreamsPluginOptions {
  config: BaseLiveConfig;
  registry: Registry;
  closers: Closers;
  metrics: MetricsRegistry;
}

/** Returns the function that gives the client for a service. */
export function upstreamsPlugin({ config, registry, closers, metrics }: UpstreamsPluginOptions): {
  upstream: (name: string) => UpstreamClient;
  upstreams: () => readonly UpstreamClient[];
} {
  const upstreams = new Map<string, UpstreamClient>();
  const policyFor = (name: string) => config.current.upstreams[name] ?? defaultPolicy();
  config.onChange(() => {
    for (const [name, client] of upstreams) client.configure(policyFor(name));
  });
  new Gauge({
    name: 'upstream_circuit_open',
    help: '1 while the circuit breaker in front of an upstream refuses calls (open or half-open), else 0.',
    labelNames: ['upstream'],
    registers: [metrics],
    collect() {
      for (const [name, client] of upstreams) this.set({ upstream: name }, client.circuitOpen ? 1 : 0);
    },
  });
  closers.add(() => Promise.all([...upstreams.values()].map((client) => client.close())).then(() => {}));
  return {
    upstream(name) {
      let client = upstreams.get(name);
      if (client === undefined) {
        client = new UpstreamClient(name, registry, policyFor(name));
        upstreams.set(name, client);
      }
      return client;
    },
    upstreams: () => [...upstreams.values()],
  };
}

const defaultPolicy = () =>
  ({
    timeoutMs: 5000,
    retries: 2,
    retryBaseDelayMs: 50,
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 5000 },
    bulkhead: { limit: 128, queue: 512 },
  }) satisfies ResiliencePolicy;
