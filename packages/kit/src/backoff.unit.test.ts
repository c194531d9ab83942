import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backoffDelay, backoffSchedule } from './backoff.ts';

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

describe('backoffDelay, for any policy and attempt', () => {
  it('when drawn, then the delay is within [nominal/2, nominal], never above the maximum, and never falls as attempts grow', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: -5, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (base, extra, attempt, draw) => {
          const policy = { baseDelayMs: base, maxDelayMs: base + extra };
          const nominal = Math.min(policy.maxDelayMs, base * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
          const delay = backoffDelay(attempt, policy, () => draw);
          assert.ok(
            delay >= Math.floor(nominal / 2) && delay <= Math.ceil(nominal),
            `${delay} for ${nominal}`,
          );
          assert.ok(delay <= policy.maxDelayMs);
          assert.ok(backoffDelay(attempt + 1, policy, () => 1) >= backoffDelay(attempt, policy, () => 1));
        },
      ),
    );
  });
});

describe('backoffSchedule', () => {
  it('when stepped through, then each step waits as backoffDelay says for its attempt', () => {
    const schedule = backoffSchedule(policy, () => 1);
    const durations: number[] = [];
    let step = schedule.next();
    for (let i = 0; i < 6; i++, step = step.next()) durations.push(step.duration);
    assert.deepEqual(durations, [100, 200, 400, 800, 1000, 1000]);
  });
});
