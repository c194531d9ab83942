import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../logger.ts';
import { Balancer, defaultBalancing } from './balancer.ts';
import { DnsRegistry } from './dns.ts';

const log = createLogger('dns-test', 'silent');
const dns = (services: string[]) =>
  new DnsRegistry({
    services,
    pattern: 'http://{service}:4321',
    refreshMs: 60_000,
    balancer: new Balancer(defaultBalancing),
    log,
  });

describe('DnsRegistry', () => {
  it('when the name resolves, then each address is an instance at the pattern port', async () => {
    const registry = dns(['localhost']);
    await registry.start();
    try {
      assert.equal(registry.resolve('localhost'), 'http://127.0.0.1:4321');
      assert.deepEqual(
        registry.instances('localhost').map((instance) => instance.url),
        ['http://127.0.0.1:4321'],
      );
      assert.equal(await registry.check(), undefined);
    } finally {
      await registry.close();
    }
  });

  it('when a name does not resolve, then it has no instance and the registry reports degraded', async () => {
    const registry = dns(['souk-no-such-service.invalid']);
    await registry.start();
    try {
      assert.throws(() => registry.resolve('souk-no-such-service.invalid'), { name: 'NoInstanceError' });
      assert.match((await registry.check())?.degraded ?? '', /souk-no-such-service\.invalid/);
    } finally {
      await registry.close();
    }
  });

  it('when the pattern has no {service}, then it is refused at once', () => {
    assert.throws(
      () =>
        new DnsRegistry({
          services: [],
          pattern: 'http://x:1',
          refreshMs: 1000,
          balancer: new Balancer(defaultBalancing),
          log,
        }),
      /\{service\}/,
    );
  });
});
