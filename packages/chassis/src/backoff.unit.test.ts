import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffSchedule } from '@souk/kit';
import { handleAll, retry } from 'cockatiel';

describe('the one backoff, in cockatiel', () => {
  it('when handed to cockatiel as a retry backoff, then the retries wait those delays', async () => {
    const waits: number[] = [];
    const policy = retry(handleAll, {
      maxAttempts: 3,
      backoff: backoffSchedule({ baseDelayMs: 1, maxDelayMs: 4 }, () => 1),
    });
    policy.onRetry(({ delay }) => waits.push(delay));
    let calls = 0;
    await assert.rejects(
      policy.execute(async () => {
        calls += 1;
        throw new Error('still failing');
      }),
      /still failing/,
    );
    assert.equal(calls, 4);
    assert.deepEqual(waits, [1, 2, 4]);
  });
});
