import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry as MetricsRegistry } from 'prom-client';
import { registerRegistryMetrics } from './registry-metrics.ts';
import { StaticRegistry } from './static.ts';

describe('registry metrics', () => {
  it('when the registry knows some services, then registry_instances counts each, 0 for one whose instances are gone', async () => {
    const table: Record<string, string> = { users: 'http://127.0.0.1:5001', orders: 'http://127.0.0.1:5002' };
    const metrics = new MetricsRegistry();
    registerRegistryMetrics(new StaticRegistry(() => table), metrics);
    const read = async () =>
      Object.fromEntries(
        (await metrics.getMetricsAsJSON())
          .find((m) => m.name === 'registry_instances')
          ?.values.map((v) => [v.labels.upstream, v.value]) ?? [],
      );
    assert.deepEqual(await read(), { users: 1, orders: 1 });
    delete table.orders;
    assert.deepEqual(await read(), { users: 1, orders: 0 });
  });
});
