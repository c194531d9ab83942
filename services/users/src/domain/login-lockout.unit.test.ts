import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { lockoutRemaining, recordFailure, type FailureRecord } from './login-lockout.ts';

const policy = { maxFailures: 10, windowSeconds: 300 };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);

describe('login lockout', () => {
  it('when an account has fewer failures than the limit, then it may try again', () => {
    let record: FailureRecord | undefined;
    for (let i = 0; i < 9; i++) record = recordFailure(policy, record, at(i));
    assert.equal(lockoutRemaining(policy, record, at(10)), 0);
  });

  it('when the limit is reached inside the window, then it waits until the window ends', () => {
    let record: FailureRecord | undefined;
    for (let i = 0; i < 10; i++) record = recordFailure(policy, record, at(i));
    assert.equal(lockoutRemaining(policy, record, at(100)), 200);
    assert.equal(lockoutRemaining(policy, record, at(300)), 0);
  });

  it('when failures are spread wider than the window, then they never lock the account', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 31, max: 1000 }), { maxLength: 50 }), (gaps) => {
        let record: FailureRecord | undefined;
        let t = 0;
        for (const gap of gaps) {
          t += gap;
          assert.equal(lockoutRemaining(policy, record, at(t)), 0);
          record = recordFailure({ ...policy, windowSeconds: 30 }, record, at(t));
        }
      }),
    );
  });

  it('whatever the timing, a locked account is never told to wait longer than the window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        let record: FailureRecord | undefined;
        let t = 0;
        for (const gap of gaps) {
          t += gap;
          record = recordFailure(policy, record, at(t));
          const wait = lockoutRemaining(policy, record, at(t));
          assert.ok(wait >= 0 && wait <= policy.windowSeconds);
        }
      }),
    );
  });
});
