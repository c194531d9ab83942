import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SUBSCRIPTION_DEFAULTS, resolveSubscription } from './transport.ts';

const handle = async () => {};

describe('resolveSubscription', () => {
  it('when maxAttempts and concurrency are left out, then the defaults apply', () => {
    const resolved = resolveSubscription({ group: 'notifications', types: ['order.created'], handle });
    assert.equal(resolved.maxAttempts, SUBSCRIPTION_DEFAULTS.maxAttempts);
    assert.equal(resolved.concurrency, SUBSCRIPTION_DEFAULTS.concurrency);
  });

  it('when the group or a type could act as a wildcard or is empty, then it is refused', () => {
    assert.throws(() => resolveSubscription({ group: '', types: ['a.b'], handle }), TypeError);
    assert.throws(() => resolveSubscription({ group: 'g', types: [], handle }), TypeError);
    assert.throws(() => resolveSubscription({ group: 'g', types: ['order.*'], handle }), TypeError);
    assert.throws(() => resolveSubscription({ group: 'g', types: ['#'], handle }), TypeError);
  });

  it('when maxAttempts or concurrency is not a positive integer, then it is refused', () => {
    assert.throws(
      () => resolveSubscription({ group: 'g', types: ['a.b'], handle, maxAttempts: 0 }),
      TypeError,
    );
    assert.throws(
      () => resolveSubscription({ group: 'g', types: ['a.b'], handle, concurrency: 1.5 }),
      TypeError,
    );
  });
});
