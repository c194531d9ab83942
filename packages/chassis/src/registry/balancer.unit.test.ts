import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Balancer, type BalancingSettings } from './balancer.ts';
import type { ServiceInstance } from './index.ts';

const instance = (id: string): ServiceInstance => ({
  id,
  service: 'orders',
  url: `http://${id}`,
  version: 'test',
  startedAt: '',
});
const [a, b, c] = [instance('a'), instance('b'), instance('c')];
const settings: BalancingSettings = {
  balancing: 'least-pending',
  ejection: { consecutiveFailures: 3, cooldownMs: 10_000 },
};

describe('Balancer', () => {
  it('when an instance refuses 3 times in a row, then it is passed over until the cool-down ends', () => {
    let now = 0;
    const balancer = new Balancer(
      () => settings,
      () => now,
    );
    for (let i = 0; i < 3; i++) balancer.track(a)('unreachable');
    for (let i = 0; i < 10; i++) assert.equal(balancer.choose('orders', [a, b])?.id, 'b');
    now = 10_001;
    const chosen = new Set(Array.from({ length: 4 }, () => balancer.choose('orders', [a, b])?.id));
    assert.deepEqual([...chosen].sort(), ['a', 'b']);
  });

  it('when failures are interrupted by an answer, then the instance is not ejected', () => {
    const balancer = new Balancer(
      () => settings,
      () => 0,
    );
    balancer.track(a)('unreachable');
    balancer.track(a)('unreachable');
    balancer.track(a)('ok');
    balancer.track(a)('unreachable');
    const chosen = new Set(Array.from({ length: 4 }, () => balancer.choose('orders', [a, b])?.id));
    assert.deepEqual([...chosen].sort(), ['a', 'b']);
  });

  it('when every instance is ejected, then one is still chosen rather than none', () => {
    const balancer = new Balancer(
      () => settings,
      () => 0,
    );
    for (const each of [a, b]) for (let i = 0; i < 3; i++) balancer.track(each)('unreachable');
    assert.ok(balancer.choose('orders', [a, b]) !== undefined);
  });

  it('when the ones to avoid are all there is, then none is chosen', () => {
    const balancer = new Balancer(() => settings);
    assert.equal(balancer.choose('orders', [a, b], new Set(['a', 'b'])), undefined);
    assert.equal(balancer.choose('orders', [a, b], new Set(['a']))?.id, 'b');
  });

  it('when calls are pending, then least-pending chooses the instance with the fewest', () => {
    const balancer = new Balancer(() => settings);
    balancer.track(a);
    balancer.track(a);
    const doneB = balancer.track(b);
    for (let i = 0; i < 5; i++) assert.equal(balancer.choose('orders', [a, b, c])?.id, 'c');
    balancer.track(c);
    balancer.track(c);
    doneB('ok');
    assert.equal(balancer.choose('orders', [a, b, c])?.id, 'b');
  });

  it('when round robin is set, then pending calls do not matter', () => {
    const balancer = new Balancer(() => ({ ...settings, balancing: 'round-robin' }));
    balancer.track(a);
    const chosen = Array.from({ length: 4 }, () => balancer.choose('orders', [a, b])?.id);
    assert.deepEqual(chosen, ['a', 'b', 'a', 'b']);
  });
});
