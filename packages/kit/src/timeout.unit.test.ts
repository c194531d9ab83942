import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { settlesWithin, TimeoutError, withTimeout } from './timeout.ts';

/** Work that never answers and never looks at its signal. */
const deaf = () => new Promise<never>(() => {});

describe('withTimeout', () => {
  it('when the work answers in time, then its answer is returned and its signal never aborts', async () => {
    let seen: AbortSignal | undefined;
    const answer = await withTimeout(1000, async (signal) => {
      seen = signal;
      return 42;
    });
    assert.equal(answer, 42);
    await delay(5);
    assert.equal(seen?.aborted, false);
  });

  it('when the work ignores its signal past the deadline, then a TimeoutError comes at the deadline all the same', async () => {
    const started = performance.now();
    await assert.rejects(withTimeout(30, deaf), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(error.message, 'no answer within 30 ms');
      return true;
    });
    assert.ok(performance.now() - started < 500);
  });

  it("when the deadline passes, then the work's signal aborts with the same error", async () => {
    let seen: AbortSignal | undefined;
    await assert.rejects(
      withTimeout(
        10,
        (signal) => {
          seen = signal;
          return deaf();
        },
        { onTimeout: 'reserve timed out' },
      ),
      /reserve timed out/,
    );
    assert.ok(seen?.aborted);
    assert.ok(seen.reason instanceof TimeoutError);
  });

  it("when the caller's signal aborts first, then the rejection is the caller's reason, not a timeout", async () => {
    const caller = new AbortController();
    const running = withTimeout(10_000, deaf, { signal: caller.signal });
    caller.abort(new Error('stopping'));
    await assert.rejects(running, /^Error: stopping$/);
    await assert.rejects(withTimeout(10_000, deaf, { signal: caller.signal }), /stopping/);
  });

  it('when an error factory is given, then the deadline rejects with what it makes', async () => {
    class Slow extends Error {}
    await assert.rejects(withTimeout(5, deaf, { onTimeout: () => new Slow('slow') }), Slow);
  });

  it('when the work fails before the deadline, then its own error comes through', async () => {
    await assert.rejects(
      withTimeout(1000, async () => {
        throw new RangeError('bad');
      }),
      RangeError,
    );
  });
});

describe('settlesWithin', () => {
  it('when the promise settles in time, then true, even when it rejects; when it does not, then false', async () => {
    assert.equal(await settlesWithin(1000, Promise.resolve()), true);
    assert.equal(await settlesWithin(1000, Promise.reject(new Error('no'))), true);
    assert.equal(await settlesWithin(10, deaf()), false);
  });
});
