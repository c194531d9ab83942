import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry as MetricsRegistry } from 'prom-client';
import { createLogger } from '../logger.ts';
import { freePort } from '../net.ts';
import { StaticRegistry } from '../registry/static.ts';
import { UpstreamUnavailableError } from '../resilience.ts';
import { Closers } from './closers.ts';
import type { BaseLiveConfig } from './config.ts';
import { upstreamsPlugin } from './upstreams.ts';

const policy = {
  timeoutMs: 1000,
  retries: 0,
  retryBaseDelayMs: 1,
  breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 },
  bulkhead: { limit: 8, queue: 8 },
};

describe('upstreams plugin', () => {
  it('when an upstream breaker opens, then upstream_circuit_open reads 1 for it and 0 for the others', async () => {
    const closedPort = await freePort();
    const table = {
      payments: `http://127.0.0.1:${closedPort}`,
      inventory: `http://127.0.0.1:${closedPort}`,
    };
    const config = {
      current: { upstreams: { payments: policy, inventory: policy } },
      onChange: () => () => true,
    } as unknown as BaseLiveConfig;
    const metrics = new MetricsRegistry();
    const closers = new Closers(createLogger('upstreams-test', 'silent'));
    const { upstream } = upstreamsPlugin({
      config,
      registry: new StaticRegistry(() => table),
      closers,
      metrics,
    });
    try {
      upstream('inventory');
      await assert.rejects(
        upstream('payments').request({ method: 'GET', path: '/' }),
        UpstreamUnavailableError,
      );
      const gauge = (await metrics.getMetricsAsJSON()).find((m) => m.name === 'upstream_circuit_open');
      assert.deepEqual(Object.fromEntries(gauge?.values.map((v) => [v.labels.upstream, v.value]) ?? []), {
        payments: 1,
        inventory: 0,
      });
    } finally {
      await closers.closeAll();
    }
  });
});
