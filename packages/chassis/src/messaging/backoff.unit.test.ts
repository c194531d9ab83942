import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from './backoff.ts';

const policy = { baseDelayMs: 100, maxDelayMs: 1000 };

describe('backoffDelay', () => {
  it('when attempts grow, then the nominal delay doubles from the base', () => {
    const highest = (attempt: number) => backoffDelay(attempt, policy, () => 1);
    assert.deepEqual([1, 2, 3, 4].map(highest), [100, 200, 400, 800]);
  });

  it('when the doubling passes the maximum, then the delay stays capped', () => {
    assert.equal(
      backoffDelay(5, policy, () => 1),
      1000,
    );
    assert.equal(
      backoffDelay(500, policy, () => 1),
      1000,
    );
  });

  it('when jittered, then the delay lies in the upper half of the nominal one', () => {
    assert.equal(
      backoffDelay(3, policy, () => 0),
      200,
    );
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(3, policy);
      assert.ok(delay >= 200 && delay <= 400, `${delay} out of [200, 400]`);
    }
  });

  it('when the attempt is zero or negative, then it counts as the first', () => {
    assert.equal(
      backoffDelay(0, policy, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(-3, policy, () => 1),
      100,
    );
  });
});
