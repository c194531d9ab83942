import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createPool } from '../db.ts';
import type { SagaDefinition } from './saga.ts';
import { SagaRunner } from './saga-runner.ts';

describe('saga runner configuration', () => {
  // The pool never connects: constructing a runner does no I/O.
  const db = createPool('postgres://nobody@127.0.0.1:1/none');
  const log = pino({ level: 'silent' });
  const saga = (timeoutMs: number): SagaDefinition<object> => ({
    type: 'slow',
    steps: [{ name: 'charge', timeoutMs, run: async () => {} }],
    onCompleted: async () => {},
    onCompensated: async () => {},
  });

  it('when the lease is not longer than the default step timeout, then the runner refuses, naming both settings', () => {
    assert.throws(
      () => new SagaRunner({ db, log, leaseMs: 10_000, defaultStepTimeoutMs: 10_000 }),
      /leaseMs \(10000 ms\) must be longer than the step timeout defaultStepTimeoutMs \(10000 ms\)/,
    );
  });

  it('when a step’s own timeout is not shorter than the lease, then registering its saga is refused, naming the step', () => {
    const runner = new SagaRunner({ db, log, leaseMs: 10_000, defaultStepTimeoutMs: 5_000 });
    assert.throws(
      () => runner.register(saga(12_000)),
      /leaseMs \(10000 ms\) must be longer than the timeoutMs \(12000 ms\) of step 'charge' of saga 'slow'/,
    );
    runner.register(saga(9_000));
  });
});
